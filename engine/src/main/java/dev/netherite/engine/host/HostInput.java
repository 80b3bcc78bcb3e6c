package dev.netherite.engine.host;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.StepResult;

/**
 * INTERNAL API
 *
 * <p>What a {@link PartitionHost} takes in while running: requests of clients, messages of other
 * partitions ({@link PartitionLink}), results of the local work it started, and its timers. Each is
 * handled on the host's one thread, in arrival order; inputs that arrive while the host cannot take
 * them (recovering, checkpointing, backpressured) wait in the host's stash, in order.
 */
public sealed interface HostInput
    permits HostInput.ClientCommand,
        HostInput.Query,
        HostInput.AwaitCompletion,
        HostInput.PurgeSweep,
        HostInput.StepFinished,
        HostInput.ActivityFinished,
        HostInput.EntityBatchFinished,
        HostInput.TimerFired,
        PartitionLink {

  /** Where the answer to a client goes; called on the host's thread, must not block. */
  @FunctionalInterface
  interface ReplyChannel {
    void reply(dev.netherite.engine.partition.ClientResponse response);
  }

  /** Where the answer to this input goes, if it is a client's: null for the host's own input. */
  default ReplyChannel replyChannel() {
    return switch (this) {
      case ClientCommand c -> c.replyTo();
      case Query q -> q.replyTo();
      case AwaitCompletion a -> a.replyTo();
      case PurgeSweep p -> p.replyTo();
      default -> null;
    };
  }

  /** A request that changes state; answered once durable. A retry carries the same request id. */
  record ClientCommand(String requestId, ClientRequest request, ReplyChannel replyTo)
      implements HostInput {}

  /** A read; answered from state that is durable. */
  record Query(ClientQuery query, ReplyChannel replyTo) implements HostInput {}

  /** Answered with the instance's status once it has ended (durably), or at once if it has. */
  record AwaitCompletion(String instanceId, ReplyChannel replyTo) implements HostInput {}

  /**
   * Purge the ended instances of this partition that {@code filter} takes, in id order after {@code
   * afterId} (null: from the first), in batches; answered with a {@link
   * dev.netherite.engine.partition.ClientResponse.PurgeProgress} once what it purged is durable. A
   * retry carries the same request id and joins the sweep it repeats.
   */
  record PurgeSweep(
      String requestId,
      dev.netherite.engine.partition.PurgeFilter filter,
      String afterId,
      ReplyChannel replyTo)
      implements HostInput {}

  record StepFinished(OrchestrationRun run, long stepNumber, StepResult result)
      implements HostInput {}

  record ActivityFinished(
      String instanceId, String executionId, int taskId, String result, FailureDetails failure)
      implements HostInput {}

  record EntityBatchFinished(String entityId, long batchNumber, EntityBatchResult result)
      implements HostInput {}

  record TimerFired(HostTimer timer) implements HostInput {}
}
