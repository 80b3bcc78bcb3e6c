package dev.netherite.engine.host;

import java.time.Duration;

/**
 * INTERNAL API: what a {@link PartitionHost} is configured with; the runtime reads these from
 * {@code netherite.*} (see the runtime's reference.conf, where each is documented).
 */
public record HostSettings(
    int partitionCount,
    PersistenceMode mode,
    int maxBatchEvents,
    int maxPendingEvents,
    Duration maxLinger,
    long checkpointAfterEvents,
    long checkpointAfterBytes,
    Duration checkpointAfterIdle,
    boolean deleteCoveredEvents,
    int instanceCacheSize,
    int requestLogCapacity,
    int entityMaxBatchSize,
    Duration resendAfter,
    int maxMessagesPerDelivery,
    long maxBatchBytes,
    int residentEndedInstances,
    int purgeBatchSize,
    Duration retentionCompleted,
    Duration retentionCheckInterval,
    RecordBudget recordBudget,
    Duration maxUnconfirmed) {

  /** The default of {@code netherite.global.max-unconfirmed}. */
  public static final Duration DEFAULT_MAX_UNCONFIRMED = Duration.ofSeconds(10);

  /** The default of {@code netherite.resident-ended-instances}. */
  public static final int DEFAULT_RESIDENT_ENDED_INSTANCES = 1000;

  /** The default of {@code netherite.purge.batch-size}. */
  public static final int DEFAULT_PURGE_BATCH_SIZE = 100;

  /** The default of {@code netherite.retention.check-interval}. */
  public static final Duration DEFAULT_RETENTION_CHECK_INTERVAL = Duration.ofHours(1);

  /** The default of {@code netherite.checkpoint.after-bytes}. */
  public static final long DEFAULT_CHECKPOINT_AFTER_BYTES = 64L * 1024 * 1024;

  /** The default of {@code netherite.commit-log.max-batch-bytes}. */
  public static final long DEFAULT_MAX_BATCH_BYTES = 8L * 1024 * 1024;

  public HostSettings {
    if (recordBudget == null) {
      recordBudget = RecordBudget.UNLIMITED;
    }
    if (maxUnconfirmed == null || !maxUnconfirmed.isPositive()) {
      throw new IllegalArgumentException(
          "netherite.global.max-unconfirmed must be above 0; it is " + maxUnconfirmed + ".");
    }
    if (maxBatchBytes < 1) {
      throw new IllegalArgumentException(
          "netherite.commit-log.max-batch-bytes must be at least 1 byte; it is "
              + maxBatchBytes
              + ".");
    }
    if (checkpointAfterBytes < 1) {
      throw new IllegalArgumentException(
          "netherite.checkpoint.after-bytes must be at least 1 byte; it is "
              + checkpointAfterBytes
              + ".");
    }
    if (residentEndedInstances < 0) {
      throw new IllegalArgumentException(
          "netherite.resident-ended-instances must be 0 or more; it is "
              + residentEndedInstances
              + ".");
    }
    if (purgeBatchSize < 1) {
      throw new IllegalArgumentException(
          "netherite.purge.batch-size must be at least 1; it is " + purgeBatchSize + ".");
    }
    if (retentionCompleted != null && !retentionCompleted.isPositive()) {
      throw new IllegalArgumentException(
          "netherite.retention.completed must be above 0 (or off); it is "
              + retentionCompleted
              + ".");
    }
    if (!retentionCheckInterval.isPositive()) {
      throw new IllegalArgumentException(
          "netherite.retention.check-interval must be above 0; it is "
              + retentionCheckInterval
              + ".");
    }
  }

  /**
   * Whether ended instances are purged once they ended longer ago than {@link #retentionCompleted}.
   */
  public boolean retentionOn() {
    return retentionCompleted != null;
  }

  public boolean pipelined() {
    return mode != PersistenceMode.PERSIST_FIRST;
  }

  public boolean global() {
    return mode == PersistenceMode.GLOBAL;
  }
}
