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
    Duration checkpointAfterIdle,
    boolean deleteCoveredEvents,
    int instanceCacheSize,
    int requestLogCapacity,
    int entityMaxBatchSize,
    Duration resendAfter,
    int maxMessagesPerDelivery) {

  public boolean pipelined() {
    return mode == PersistenceMode.LOCAL;
  }
}
