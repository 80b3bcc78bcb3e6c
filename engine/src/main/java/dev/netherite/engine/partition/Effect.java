package dev.netherite.engine.partition;

import dev.netherite.dsl.HistoryEvent;
import java.time.Instant;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>What applying an event asks the host to do. {@link Immediate} effects may run before the event
 * is durable (pipelining): they only start local work whose results come back as new events, so
 * losing them in a crash is harmless, since recovery re-dispatches pending work. {@link
 * AfterDurable} effects externalize state (to clients, to other partitions) and run only once the
 * event that produced them is durable. During replay no effect runs.
 */
public sealed interface Effect {

  sealed interface Immediate extends Effect {}

  sealed interface AfterDurable extends Effect {}

  /**
   * Run the next step of an orchestration. {@code history} is the instance's live history list,
   * valid only on the host's thread and only now: copy it if it is needed later. It holds {@code
   * historySize} events.
   */
  record RunStep(
      String instanceId,
      String executionId,
      String orchestrationName,
      long stepNumber,
      Instant stepTime,
      List<HistoryEvent> history,
      int historySize,
      List<HistoryEvent> newEvents)
      implements Immediate {}

  record StartActivity(
      String instanceId, String executionId, int taskId, String activityName, String input)
      implements Immediate {}

  /**
   * Run a batch of an entity's operations, in order, starting from {@code state} (null: the entity
   * has none). {@code entityName} is the entity's type.
   */
  record RunEntityBatch(
      String entityId,
      String entityName,
      long batchNumber,
      String state,
      List<PartitionMessage.EntityOperationRequested> operations)
      implements Immediate {}

  /** The earliest due timer may have changed: re-arm the host's wake-up. */
  record TimersChanged() implements Immediate {}

  /** Forget any cached executor of this instance: its execution ended or was replaced. */
  record DiscardExecutor(String instanceId) implements Immediate {}

  /**
   * Read the record under this store key from the instance store: input is parked for it. The host
   * then restores it and records {@link PartitionEvent.RecordsLoaded}.
   */
  record LoadRecord(String key) implements Immediate {}

  record ReplyToClient(String requestId, ClientResponse response) implements AfterDurable {}

  /** Outbox entries to {@code destination} up to {@code upToSeq} are durable and may be sent. */
  record OutboxReady(int destination, long upToSeq) implements AfterDurable {}

  /**
   * Tell partition {@code origin} that its messages up to {@code upTo} are durably applied here.
   */
  record AcknowledgeOrigin(int origin, long upTo) implements AfterDurable {}

  /** An instance ended; {@code view} is its final state, to hand to clients waiting for it. */
  record InstanceEnded(InstanceView view) implements AfterDurable {}
}
