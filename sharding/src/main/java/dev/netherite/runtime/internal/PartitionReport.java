package dev.netherite.runtime.internal;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.WireSerializable;
import java.time.Instant;
import java.util.Map;

/**
 * INTERNAL API: what a partition tells operators about itself ({@link PartitionCommand.Inspect}),
 * read from what its actor holds anyway; nothing here is computed on the partition's hot path.
 *
 * @param partition the partition number
 * @param node the address of the node hosting it
 * @param instances instances held (any status)
 * @param instancesByStatus instances held, per status
 * @param entities entities held
 * @param entityBacklog messages queued for those entities or in their running batches
 * @param bufferedEvents events applied but not yet handed to the journal
 * @param inFlightEvents events of the journal write in flight (0 when none)
 * @param writeInFlightMillis how long the write in flight has been running, or -1 when none
 * @param lastWriteMillis how long the last acknowledged journal write took, or -1 before the first
 * @param journalWrites journal writes of this partition since it was created (its sequence number)
 * @param pendingReplies client requests applied but not yet answered (waiting for durability)
 * @param completionWaiters clients waiting for an instance to end
 * @param outboxUnacknowledged messages to other partitions not yet acknowledged by their receiver
 * @param timers durable timers armed
 * @param eventsSinceCheckpoint durable events since the last checkpoint
 * @param lastCheckpointSeqNr sequence number of the last checkpoint, 0 when there is none
 * @param lastCheckpointAt when the last checkpoint was taken, or null when there is none
 * @param recoveryMillis how long its last recovery took (start of the actor to recovery completed)
 * @param lastEventAt when the partition last applied an event (progress)
 * @param checkpointing a checkpoint is being taken (input is stashed meanwhile)
 * @param backpressured too many events pending: client requests and deliveries wait
 * @param handingOff the partition is moving to another node
 */
public record PartitionReport(
    int partition,
    String node,
    int instances,
    Map<RuntimeStatus, Integer> instancesByStatus,
    int entities,
    int entityBacklog,
    int bufferedEvents,
    int inFlightEvents,
    long writeInFlightMillis,
    long lastWriteMillis,
    long journalWrites,
    int pendingReplies,
    int completionWaiters,
    int outboxUnacknowledged,
    int timers,
    long eventsSinceCheckpoint,
    long lastCheckpointSeqNr,
    Instant lastCheckpointAt,
    long recoveryMillis,
    Instant lastEventAt,
    boolean checkpointing,
    boolean backpressured,
    boolean handingOff)
    implements WireSerializable {

  /** Work the partition still has to do that needs no outside input. */
  public long pendingWork() {
    return bufferedEvents + inFlightEvents + pendingReplies + outboxUnacknowledged;
  }
}
