package dev.netherite.dsl;

import java.time.Instant;
import java.util.List;

/**
 * The record of an orchestration: what it was asked to do, what it did, and what came back.
 * Payloads are the text of the configured {@link dev.netherite.dsl.spi.DataConverter}. Task ids
 * number the actions an execution takes, in the order the code takes them; completions refer to
 * them.
 */
public sealed interface HistoryEvent {

  /**
   * Something the orchestration's code did: an activity call, a timer, a sub-orchestration, an
   * event raised on another instance, an entity call or signal, a lock request or its release.
   * Numbered by {@link #taskId()} in the order the code took them; replay checks that the code
   * takes the same actions again.
   */
  sealed interface Action extends HistoryEvent {
    /** The action's number within its execution. */
    int taskId();
  }

  /**
   * What came back for an action: its result, its failure, a timer firing, a lock grant. {@link
   * #taskId()} names the action.
   */
  sealed interface Completion extends HistoryEvent {
    /** The task id of the action this completes. */
    int taskId();
  }

  /** The execution began. */
  record ExecutionStarted(
      String orchestrationName,
      String executionId,
      String input,
      String parentInstanceId,
      int parentTaskId)
      implements HistoryEvent {}

  /**
   * A step of the orchestration began at this time; {@link OrchestrationContext#currentTime()}
   * reads it.
   */
  record OrchestratorStarted(Instant time) implements HistoryEvent {}

  record TaskScheduled(int taskId, String activityName, String input) implements Action {}

  record TaskCompleted(int taskId, String result) implements Completion {}

  record TaskFailed(int taskId, FailureDetails failure) implements Completion {}

  record TimerCreated(int taskId, Instant fireAt) implements Action {}

  record TimerFired(int taskId, Instant fireAt) implements Completion {}

  record SubOrchestrationCreated(
      int taskId, String orchestrationName, String instanceId, String input) implements Action {}

  record SubOrchestrationCompleted(int taskId, String result) implements Completion {}

  record SubOrchestrationFailed(int taskId, FailureDetails failure) implements Completion {}

  /** An event raised on this instance arrived. */
  record EventRaised(String name, String input) implements HistoryEvent {}

  /** This instance raised an event on another instance. */
  record EventSent(int taskId, String instanceId, String name, String input) implements Action {}

  /** This instance called an entity operation and waits for its result. */
  record EntityCalled(int taskId, String entityId, String operation, String input)
      implements Action {}

  /**
   * This instance sent an entity a one-way operation; {@code fireAt} is null when it is delivered
   * at once.
   */
  record EntitySignaled(int taskId, String entityId, String operation, String input, Instant fireAt)
      implements Action {}

  /** This instance asked for the locks of these entities (sorted), entering a critical section. */
  record EntityLockRequested(int taskId, List<String> entityIds) implements Action {}

  /**
   * This instance left the critical section opened by task {@code lockTaskId}, releasing its locks.
   */
  record EntityUnlockSent(int taskId, int lockTaskId, List<String> entityIds) implements Action {}

  record EntityCallCompleted(int taskId, String result) implements Completion {}

  record EntityCallFailed(int taskId, FailureDetails failure) implements Completion {}

  /** Every lock asked for by task {@code taskId} is held. */
  record EntityLocksGranted(int taskId) implements Completion {}

  /** The execution ended; {@code status} is COMPLETED or FAILED. */
  record ExecutionCompleted(RuntimeStatus status, String output, FailureDetails failure)
      implements HistoryEvent {}

  /**
   * The execution ended and the instance starts again with this input: the last record of the
   * ending execution's history. The new execution has a new execution id and a history of its own,
   * which begins empty.
   */
  record ContinuedAsNew(String input) implements HistoryEvent {}

  /** A client terminated the execution, for this reason; it is the last record. */
  record ExecutionTerminated(String reason) implements HistoryEvent {}

  /**
   * A client suspended the instance, for this reason: it takes no steps until resumed. Recorded
   * when the request is applied; a step that was running then still completes, and its records
   * follow.
   */
  record ExecutionSuspended(String reason) implements HistoryEvent {}

  /** A client resumed the suspended instance, for this reason. */
  record ExecutionResumed(String reason) implements HistoryEvent {}
}
