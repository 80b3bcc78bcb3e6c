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
    RecordBudget recordBudget) {

  /** The default of {@code netherite.resident-ended-instances}. */
  public static final int DEFAULT_RESIDENT_ENDED_INSTANCES = 1000;

  /** The default of {@code netherite.checkpoint.after-bytes}. */
  public static final long DEFAULT_CHECKPOINT_AFTER_BYTES = 64L * 1024 * 1024;

  /** The default of {@code netherite.commit-log.max-batch-bytes}. */
  public static final long DEFAULT_MAX_BATCH_BYTES = 8L * 1024 * 1024;

  public HostSettings {
    if (recordBudget == null) {
      recordBudget = RecordBudget.UNLIMITED;
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
  }

  public boolean pipelined() {
    return mode == PersistenceMode.LOCAL;
  }
}
