package dev.netherite.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.netherite.engine.PayloadLimits;
import java.time.Duration;

/**
 * The runtime's settings, read from the {@code netherite} section of the configuration (defaults
 * and comments in the sharding module's {@code reference.conf}). Immutable; validated on
 * construction.
 */
public record RuntimeSettings(
    String taskHub,
    int partitionCount,
    PersistenceMode persistenceMode,
    int maxBatchEvents,
    int maxPendingEvents,
    int checkpointAfterEvents,
    long checkpointAfterBytes,
    Duration checkpointAfterIdle,
    boolean deleteCoveredEvents,
    int instanceCacheSize,
    int requestLogCapacity,
    int maxConcurrentActivities,
    int activityPlatformThreads,
    int entityMaxBatchSize,
    Duration resendAfter,
    int maxMessagesPerDelivery,
    Duration wakeInterval,
    Duration clientAttemptTimeout,
    Duration clientRequestTimeout,
    Duration startupTimeout,
    Duration commitLogMaxLinger,
    PayloadLimits payloadLimits,
    Duration restartMinBackoff,
    Duration restartMaxBackoff,
    Duration restartResetAfter,
    long maxBatchBytes,
    Duration restartWhileStoreUnavailable,
    int residentEndedInstances,
    int purgeBatchSize,
    Duration retentionCompleted,
    Duration retentionCheckInterval,
    long recordBudgetBytes,
    Duration globalMaxUnconfirmed) {

  /** When an event's effects may run; see {@code netherite.persistence-mode}. */
  public enum PersistenceMode {
    LOCAL,
    GLOBAL,
    PERSIST_FIRST;

    static PersistenceMode parse(String value) {
      return switch (value) {
        case "local" -> LOCAL;
        case "global" -> GLOBAL;
        case "persist-first" -> PERSIST_FIRST;
        default ->
            throw new IllegalArgumentException(
                "netherite.persistence-mode is '"
                    + value
                    + "'; it must be 'local', 'global' or 'persist-first'.");
      };
    }
  }

  public RuntimeSettings {
    if (taskHub == null || !taskHub.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException(
          "netherite.task-hub is '" + taskHub + "'; use letters, digits, '_', '.' and '-' only.");
    }
    if (partitionCount < 1 || partitionCount > 1024) {
      throw new IllegalArgumentException(
          "netherite.partition-count is " + partitionCount + "; it must be between 1 and 1024.");
    }
    requirePositive("netherite.commit-log.max-batch-events", maxBatchEvents);
    requirePositive("netherite.commit-log.max-pending-events", maxPendingEvents);
    requirePositive("netherite.checkpoint.after-events", checkpointAfterEvents);
    if (checkpointAfterBytes < 1) {
      throw new IllegalArgumentException(
          "netherite.checkpoint.after-bytes is "
              + checkpointAfterBytes
              + "; it must be at least 1.");
    }
    requirePositive("netherite.instance-cache-size", instanceCacheSize);
    requirePositive("netherite.request-log-capacity", requestLogCapacity);
    requirePositive("netherite.activities.max-concurrent", maxConcurrentActivities);
    requirePositive("netherite.activities.platform-threads", activityPlatformThreads);
    requirePositive("netherite.entities.max-batch-size", entityMaxBatchSize);
    requirePositive("netherite.delivery.max-messages-per-delivery", maxMessagesPerDelivery);
    if (restartMinBackoff.isNegative()
        || restartMinBackoff.isZero()
        || restartMaxBackoff.compareTo(restartMinBackoff) < 0) {
      throw new IllegalArgumentException(
          "netherite.partition-restart needs 0 < min-backoff <= max-backoff; they are "
              + restartMinBackoff
              + " and "
              + restartMaxBackoff
              + ".");
    }
    if (maxBatchBytes < 1) {
      throw new IllegalArgumentException(
          "netherite.commit-log.max-batch-bytes is " + maxBatchBytes + "; it must be at least 1.");
    }
    if (restartWhileStoreUnavailable.isNegative() || restartWhileStoreUnavailable.isZero()) {
      throw new IllegalArgumentException(
          "netherite.partition-restart.while-store-unavailable is "
              + restartWhileStoreUnavailable
              + "; it must be above 0.");
    }
    requirePositive("netherite.purge.batch-size", purgeBatchSize);
    if (retentionCompleted != null && !retentionCompleted.isPositive()) {
      throw new IllegalArgumentException(
          "netherite.retention.completed is "
              + retentionCompleted
              + "; it must be above 0 (e.g. 30d), or off to keep ended instances until purged.");
    }
    if (!retentionCheckInterval.isPositive()) {
      throw new IllegalArgumentException(
          "netherite.retention.check-interval is "
              + retentionCheckInterval
              + "; it must be above 0 (e.g. 1m).");
    }
    if (globalMaxUnconfirmed == null || !globalMaxUnconfirmed.isPositive()) {
      throw new IllegalArgumentException(
          "netherite.global.max-unconfirmed is "
              + globalMaxUnconfirmed
              + "; it must be a duration above 0 (e.g. 10s).");
    }
  }

  /**
   * A duration, or {@code off} (null). Typesafe Config reads an unquoted {@code off} as the boolean
   * false.
   */
  private static Duration durationOrOff(Config c, String path) {
    ConfigValue v = c.getValue(path);
    if ((v.valueType() == ConfigValueType.BOOLEAN && !c.getBoolean(path))
        || (v.valueType() == ConfigValueType.STRING && "off".equals(c.getString(path)))) {
      return null;
    }
    try {
      return c.getDuration(path);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(
          "netherite."
              + path
              + " is '"
              + v.unwrapped()
              + "'; it must be a duration such as 30d or 12h, or off.",
          e);
    }
  }

  /** A duration, with an error that names the setting when it is not one. */
  private static Duration duration(Config c, String path) {
    try {
      return c.getDuration(path);
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw new IllegalArgumentException(
          "netherite."
              + path
              + " is '"
              + c.getValue(path).unwrapped()
              + "'; it must be a duration above 0, such as 10s or 500ms.",
          e);
    }
  }

  private static void requirePositive(String key, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(key + " is " + value + "; it must be at least 1.");
    }
  }

  /** {@code activities.platform-threads}: 0 means one per core. */
  private static int platformThreads(int configured) {
    return configured == 0 ? Runtime.getRuntime().availableProcessors() : configured;
  }

  /** Reads the {@code netherite} section of {@code config}. */
  public static RuntimeSettings from(Config config) {
    Config c = config.getConfig("netherite");
    return new RuntimeSettings(
        c.getString("task-hub"),
        c.getInt("partition-count"),
        PersistenceMode.parse(c.getString("persistence-mode")),
        c.getInt("commit-log.max-batch-events"),
        c.getInt("commit-log.max-pending-events"),
        c.getInt("checkpoint.after-events"),
        c.getBytes("checkpoint.after-bytes"),
        c.getDuration("checkpoint.after-idle"),
        c.getBoolean("checkpoint.delete-covered-events"),
        c.getInt("instance-cache-size"),
        c.getInt("request-log-capacity"),
        c.getInt("activities.max-concurrent"),
        platformThreads(c.getInt("activities.platform-threads")),
        c.getInt("entities.max-batch-size"),
        c.getDuration("delivery.resend-after"),
        c.getInt("delivery.max-messages-per-delivery"),
        c.getDuration("delivery.wake-interval"),
        c.getDuration("client.attempt-timeout"),
        c.getDuration("client.request-timeout"),
        c.getDuration("startup-timeout"),
        c.getDuration("commit-log.max-linger"),
        new PayloadLimits(
            c.getBytes("limits.input"),
            c.getBytes("limits.output"),
            c.getBytes("limits.event-payload"),
            c.getBytes("limits.custom-status"),
            c.getBytes("limits.activity-result"),
            c.getBytes("limits.entity-state")),
        c.getDuration("partition-restart.min-backoff"),
        c.getDuration("partition-restart.max-backoff"),
        c.getDuration("partition-restart.reset-after"),
        c.getBytes("commit-log.max-batch-bytes"),
        c.getDuration("partition-restart.while-store-unavailable"),
        c.getInt("resident-ended-instances"),
        c.getInt("purge.batch-size"),
        durationOrOff(c, "retention.completed"),
        c.getDuration("retention.check-interval"),
        recordBudget(c, "memory.records", Runtime.getRuntime().maxMemory()),
        duration(c, "global.max-unconfirmed"));
  }

  /**
   * {@code netherite.memory.records}: {@code off}, a size ({@code 256MiB}) or a share of the JVM's
   * maximum heap ({@code 25%}); Long.MAX_VALUE for off.
   */
  static long recordBudget(Config c, String path, long maxHeap) {
    String value = c.getString(path).strip();
    if (value.equalsIgnoreCase("off")) {
      return Long.MAX_VALUE;
    }
    if (value.endsWith("%")) {
      double percent;
      try {
        percent = Double.parseDouble(value.substring(0, value.length() - 1).strip());
      } catch (NumberFormatException e) {
        percent = -1;
      }
      if (percent < 0 || percent > 100) {
        throw new IllegalArgumentException(
            "netherite."
                + path
                + " = \""
                + value
                + "\" is not a share of the heap between 0% and 100%; give a percentage (25%), a size"
                + " (256MiB) or off.");
      }
      return (long) (maxHeap * (percent / 100.0));
    }
    try {
      return c.getBytes(path);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "netherite."
              + path
              + " = \""
              + value
              + "\" is not a size; give a percentage of the heap (25%), a size (256MiB) or off.",
          e);
    }
  }
}
