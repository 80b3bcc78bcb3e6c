package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.engine.WireSerializable;
import java.util.List;

/**
 * INTERNAL API: what one instance sends another. Between partitions it travels in an outbox channel
 * with consecutive sequence numbers; within a partition it is applied at once.
 */
public sealed interface PartitionMessage extends WireSerializable {
  /** The instance the message is for; it decides the destination partition. */
  String targetId();

  /** A message for an orchestration instance. */
  sealed interface ToInstance extends PartitionMessage {}

  /** A parent orchestration asks for a sub-orchestration. */
  record ExecutionRequested(
      String instanceId,
      String orchestrationName,
      String input,
      String parentInstanceId,
      String parentExecutionId,
      int parentTaskId)
      implements ToInstance {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  /** A sub-orchestration ended; exactly one of {@code result} and {@code failure} is meaningful. */
  record SubOrchestrationEnded(
      String parentInstanceId,
      String parentExecutionId,
      int parentTaskId,
      String result,
      FailureDetails failure)
      implements ToInstance {
    @Override
    public String targetId() {
      return parentInstanceId;
    }
  }

  /** An orchestration raised an event on another instance. */
  record EventDelivered(String instanceId, String eventName, String input) implements ToInstance {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  // ---------------------------------------------------------------- entities

  /** A message an entity queues and handles in arrival order. */
  sealed interface ToEntity extends PartitionMessage {
    String entityId();

    @Override
    default String targetId() {
      return entityId();
    }
  }

  /**
   * An operation for an entity. A call names its caller, which gets an {@link EntityResponded}; a
   * signal ({@code callerInstanceId} null) gets no answer. {@code lockOwner} is set when the caller
   * holds the entity's lock: only then may it run while the entity is locked.
   */
  record EntityOperationRequested(
      String entityId,
      String operation,
      String input,
      String callerInstanceId,
      String callerExecutionId,
      int callerTaskId,
      LockOwner lockOwner)
      implements ToEntity {
    public boolean isSignal() {
      return callerInstanceId == null;
    }
  }

  /**
   * A critical section's lock request, travelling along the sorted chain of {@code entityIds}: the
   * entity at {@code position} grants it when it reaches the head of its queue and forwards it to
   * the next; the last answers the owner with {@link LocksGranted}.
   */
  record LockRequested(List<String> entityIds, int position, LockOwner owner) implements ToEntity {
    public LockRequested {
      entityIds = List.copyOf(entityIds);
    }

    @Override
    public String entityId() {
      return entityIds.get(position);
    }
  }

  /** The owner releases the entity's lock. */
  record LockReleased(String entityId, LockOwner owner) implements ToEntity {}

  /**
   * The answer to an entity call; exactly one of {@code result} and {@code failure} is meaningful.
   */
  record EntityResponded(
      String callerInstanceId,
      String callerExecutionId,
      int callerTaskId,
      String result,
      FailureDetails failure)
      implements ToInstance {
    @Override
    public String targetId() {
      return callerInstanceId;
    }
  }

  /** Every entity of the owner's lock request has granted it. */
  record LocksGranted(LockOwner owner, List<String> entityIds) implements ToInstance {
    public LocksGranted {
      entityIds = List.copyOf(entityIds);
    }

    @Override
    public String targetId() {
      return owner.instanceId();
    }
  }
}
