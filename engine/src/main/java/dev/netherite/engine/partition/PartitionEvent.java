package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.engine.WireSerializable;
import java.time.Instant;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>A fact a partition records in its commit log; the partition's state is a function of these in
 * order. Each carries the time it was observed, so that applying it reads no clock. Grouped by
 * where they come from.
 */
public sealed interface PartitionEvent extends WireSerializable {
  Instant timestamp();

  /** Events that come from clients. */
  sealed interface FromClient extends PartitionEvent {}

  /** Events that come from other partitions. */
  sealed interface FromPartition extends PartitionEvent {}

  /** Events that come from the work this partition runs: steps, activities, timers. */
  sealed interface Internal extends PartitionEvent {}

  record ClientRequestReceived(String requestId, ClientRequest request, Instant timestamp)
      implements FromClient {}

  /** Messages of the channel {@code origin → this}, numbered from {@code firstSeq} without gaps. */
  record MessagesReceived(
      int origin, long firstSeq, List<PartitionMessage> messages, Instant timestamp)
      implements FromPartition {
    public MessagesReceived {
      messages = List.copyOf(messages);
    }
  }

  /**
   * Partition {@code destination} has durably applied the messages of our channel to it up to
   * {@code upTo}.
   */
  record DeliveryAcknowledged(int destination, long upTo, Instant timestamp)
      implements FromPartition {}

  record StepCompleted(
      String instanceId, String executionId, long stepNumber, StepResult result, Instant timestamp)
      implements Internal {}

  /** An activity call ended; {@code failure} is null when it succeeded. */
  record ActivityCompleted(
      String instanceId,
      String executionId,
      int taskId,
      String result,
      FailureDetails failure,
      Instant timestamp)
      implements Internal {}

  /** A batch of an entity's operations ran. */
  record EntityBatchCompleted(
      String entityId, long batchNumber, EntityBatchResult result, Instant timestamp)
      implements Internal {}

  /**
   * The host's configured limit of operations per entity batch, recorded when it differs from the
   * state's, so that replay forms the same batches as the original run.
   */
  record EntityBatchLimitSet(int limit, Instant timestamp) implements Internal {}

  /**
   * One batch of a purge sweep (a client's purge by filter, or retention): each ended instance
   * named goes, whether or not its record is in memory. The host names only instances that had
   * ended when it recorded this; one found not ended when it is applied (a start replaced it)
   * stays.
   */
  record InstancesPurged(List<String> instanceIds, Instant timestamp) implements Internal {
    public InstancesPurged {
      instanceIds = List.copyOf(instanceIds);
    }
  }

  /** Every timer due at or before {@code timestamp} fires. */
  record TimersFired(Instant timestamp) implements Internal {}

  /**
   * Records leave memory: instances that have not ended, and entities, whose current version is in
   * a committed checkpoint (keys as in the instance store). Recorded, unlike the eviction of ended
   * instances, because input for such a record is parked while it is out of memory, and replay must
   * park exactly what the original run parked. Chosen by the host (its memory budget); applying it
   * reads no budget.
   */
  record RecordsEvicted(List<String> keys, Instant timestamp) implements Internal {
    public RecordsEvicted {
      keys = List.copyOf(keys);
    }
  }

  /**
   * Evicted records are back in memory, read from the instance store (by recovery, again, before it
   * applies this event): the input parked for them is delivered now, in order.
   */
  record RecordsLoaded(List<String> keys, Instant timestamp) implements Internal {
    public RecordsLoaded {
      keys = List.copyOf(keys);
    }
  }

  // ---- the global persistence mode (see Incarnations): written only in that mode

  /**
   * A new incarnation of the partition begins, named {@code incarnation} (the sequence number this
   * event takes): it ends the previous one where the recovered log ends. Durable before the
   * partition sends anything, so that no two incarnations share a name.
   */
  record IncarnationStarted(long incarnation, Instant timestamp) implements Internal {}

  /**
   * The next events depend on step {@code step} of partition {@code origin}, which was not known
   * committed when this was recorded: the message that follows was sent speculatively. Changes no
   * state; recovery reads it to know what its log suffix still waits for.
   */
  record DependsOn(int origin, StepId step, Instant timestamp) implements Internal {}

  /**
   * Takes back every event of this log from step {@code from} on: they depended on a step another
   * partition lost, or waited too long for one. Recovery reads the whole suffix before applying it
   * and skips what a marker takes back (the journal cannot truncate its tail). Takes no position.
   * {@code slowOrigin} is the partition whose confirmation took too long (-1: a step was lost): the
   * next host applies its messages only once they are committed, until it hears from it again.
   */
  record Voided(StepId from, int slowOrigin, Instant timestamp) implements Internal {}
}
