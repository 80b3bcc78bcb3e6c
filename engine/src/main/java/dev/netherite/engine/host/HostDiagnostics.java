package dev.netherite.engine.host;

import java.time.Instant;

/**
 * INTERNAL API: what a {@link PartitionHost} can tell operators about itself, read from what it
 * holds anyway (nothing is computed on the hot path for it).
 *
 * @param phase the host's lifecycle phase
 * @param bufferedEvents events appended but not yet handed to the journal
 * @param inFlightEvents events of the journal write in flight (0 when none)
 * @param writeInFlightNanos how long the write in flight has been running, or -1 when none
 * @param lastWriteNanos how long the last acknowledged journal write took, or -1 before the first
 * @param pendingReplies client requests applied but not yet answered (waiting for durability)
 * @param completionWaiters clients waiting for an instance to end
 * @param stashedInputs inputs waiting until the host can take them
 * @param eventsSinceCheckpoint durable events since the last checkpoint
 * @param lastCheckpointSeqNr sequence number of the last checkpoint recovered or saved, 0 if none
 * @param lastCheckpointAt when this host saved its last checkpoint, or null
 * @param recoveryNanos how long recovery took (creation of the host to recovery completed), or -1
 * @param lastEventAt when the partition last appended an event (its progress)
 * @param backpressured too many events pending: client requests and deliveries wait
 */
public record HostDiagnostics(
    PartitionHost.Phase phase,
    int bufferedEvents,
    int inFlightEvents,
    long writeInFlightNanos,
    long lastWriteNanos,
    int pendingReplies,
    int completionWaiters,
    int stashedInputs,
    long eventsSinceCheckpoint,
    long lastCheckpointSeqNr,
    Instant lastCheckpointAt,
    long recoveryNanos,
    Instant lastEventAt,
    boolean backpressured) {}
