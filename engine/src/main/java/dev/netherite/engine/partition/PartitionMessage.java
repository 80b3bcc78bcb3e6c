package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.engine.WireSerializable;

/**
 * INTERNAL API: what one instance sends another. Between partitions it travels in an outbox channel with
 * consecutive sequence numbers; within a partition it is applied at once.
 */
public sealed interface PartitionMessage extends WireSerializable {
  /** The instance the message is for; it decides the destination partition. */
  String targetId();

  /** A parent orchestration asks for a sub-orchestration. */
  record ExecutionRequested(
      String instanceId,
      String orchestrationName,
      String input,
      String parentInstanceId,
      String parentExecutionId,
      int parentTaskId)
      implements PartitionMessage {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  /** A sub-orchestration ended; exactly one of {@code result} and {@code failure} is meaningful. */
  record SubOrchestrationEnded(
      String parentInstanceId, String parentExecutionId, int parentTaskId, String result, FailureDetails failure)
      implements PartitionMessage {
    @Override
    public String targetId() {
      return parentInstanceId;
    }
  }

  /** An orchestration raised an event on another instance. */
  record EventDelivered(String instanceId, String eventName, String input) implements PartitionMessage {
    @Override
    public String targetId() {
      return instanceId;
    }
  }
}
