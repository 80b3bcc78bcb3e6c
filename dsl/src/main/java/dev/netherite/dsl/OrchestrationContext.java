package dev.netherite.dsl;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * What orchestration code uses to act on the world. Every method is deterministic under replay: it
 * returns what it returned the first time, from the recorded history.
 */
public interface OrchestrationContext {

  InstanceId instanceId();

  /** The registered name of this orchestration. */
  String orchestrationName();

  /**
   * The time of the current step as recorded in the history; use it instead of the system clock.
   */
  Instant currentTime();

  /** A UUID that is the same on every replay of this point of the code. */
  UUID newUuid();

  /**
   * Whether the code is being replayed from history (side effects such as logging are then
   * repeated).
   */
  boolean isReplaying();

  /**
   * Calls an activity. Its task fails with {@link TaskFailedException} when the activity throws,
   * and with {@link TaskTimeoutException} when it runs past a timeout of its {@link
   * ActivityOptions}.
   */
  <I, O> Task<O> call(ActivityRef<I, O> activity, I input);

  /**
   * Calls an activity and retries it on failure with durable waits between attempts, as the policy
   * says. A timed-out attempt is retried like a failed one. The task fails with the last attempt's
   * failure: a {@link TaskFailedException}, or a {@link TaskTimeoutException} when it timed out.
   */
  <I, O> Task<O> call(ActivityRef<I, O> activity, I input, RetryPolicy retry);

  /**
   * Starts a sub-orchestration with an id derived from this instance's id, and waits for its
   * output. Not allowed inside a critical section.
   */
  <I, O> Task<O> callSubOrchestration(OrchestrationRef<I, O> orchestration, I input);

  /** Starts a sub-orchestration with the given instance id, and waits for its output. */
  <I, O> Task<O> callSubOrchestration(
      OrchestrationRef<I, O> orchestration, I input, InstanceId instanceId);

  /** A durable timer: completes after {@code delay}, surviving restarts. */
  Task<Void> timer(Duration delay);

  /** A durable timer: completes at {@code fireAt}, surviving restarts. */
  Task<Void> timerUntil(Instant fireAt);

  /**
   * Waits for an event raised on this instance with {@link DurableClient#raiseEvent} or by another
   * orchestration. Events that arrived earlier are delivered in arrival order, one per call.
   */
  <T> Task<T> waitForEvent(String eventName, Class<T> type);

  /**
   * As {@link #waitForEvent(String, Class)}, failing with {@link TaskTimeoutException} after {@code
   * timeout}.
   */
  <T> Task<T> waitForEvent(String eventName, Class<T> type, Duration timeout);

  /** Raises an event on another orchestration instance (one way). */
  void raiseEvent(InstanceId instance, String eventName, Object payload);

  /**
   * Calls an operation of an entity and waits for its result. Inside a critical section, only
   * entities the section locked may be called.
   */
  <I, O> Task<O> callEntity(EntityId entity, EntityOp<I, O> operation, I input);

  /** As {@link #callEntity(EntityId, EntityOp, Object)} for an operation without input. */
  default <O> Task<O> callEntity(EntityId entity, EntityOp<Void, O> operation) {
    return callEntity(entity, operation, null);
  }

  /**
   * Sends a one-way operation to an entity. Inside a critical section, it must not be one of the
   * locked ones.
   */
  <I> void signalEntity(EntityId entity, EntityOp<I, ?> operation, I input);

  /**
   * As {@link #signalEntity(EntityId, EntityOp, Object)}, delivered after {@code delay} (durably).
   */
  <I> void signalEntity(EntityId entity, EntityOp<I, ?> operation, I input, Duration delay);

  /**
   * Enters a critical section: waits until this orchestration holds the locks of all {@code
   * entities}. Locks are taken in the entities' sorted order, so sections with overlapping entities
   * never deadlock. Use it with try-with-resources: {@code try (CriticalSection s =
   * ctx.lockEntities(a, b)) { ... }}.
   *
   * @throws LockRuleViolationException when a section is already open (sections do not nest)
   */
  CriticalSection lockEntities(EntityId... entities);

  /**
   * Sets a value that clients see in the instance's status, while it runs and after it ended. It
   * survives {@link #continueAsNew}: the status set last (possibly just before continuing) stays
   * visible until the new execution sets another.
   */
  void setCustomStatus(Object status);

  /**
   * Ends this execution and starts the instance again with a fresh history and {@code newInput}.
   * Events that arrived and were not consumed are carried over to the new execution, and so is the
   * custom status. Never returns.
   */
  void continueAsNew(Object newInput);

  /**
   * As {@link #continueAsNew(Object)}; with {@code preserveUnprocessedEvents = false} they are
   * dropped.
   */
  void continueAsNew(Object newInput, boolean preserveUnprocessedEvents);
}
