package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.PartitionEvent.ActivityCompleted;
import dev.netherite.engine.partition.PartitionEvent.StepCompleted;
import dev.netherite.engine.partition.PartitionMessage.EntityOperationRequested;
import dev.netherite.engine.partition.PartitionMessage.EntityResponded;
import dev.netherite.engine.partition.PartitionMessage.EventDelivered;
import dev.netherite.engine.partition.PartitionMessage.ExecutionRequested;
import dev.netherite.engine.partition.PartitionMessage.LocksGranted;
import dev.netherite.engine.partition.PartitionMessage.SubOrchestrationEnded;
import dev.netherite.engine.partition.PartitionMessage.ToInstance;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * INTERNAL API
 *
 * <p>The orchestration instances a partition hosts and their lifecycle: creation, steps, the
 * actions a step took, completions that come back, and the end of an execution (completed, failed,
 * terminated, continued as new), suspension and resumption.
 *
 * <p>Invariants: an instance has at most one step in progress; a step consumes every event its
 * instance had waiting when it was dispatched; only a RUNNING instance takes steps; an ending
 * execution clears its waiting work (inbox, activities, timers) and releases its locks; results for
 * an execution that has ended or been replaced are dropped.
 */
final class Instances {
  private final RecordTable<InstanceState> instances;
  private final TimerTable timers;
  private final MessageRouter router;
  private final LockChain locks;
  private final Supplier<String> executionIds;

  Instances(
      RecordTable<InstanceState> instances,
      TimerTable timers,
      MessageRouter router,
      LockChain locks,
      Supplier<String> executionIds) {
    this.instances = instances;
    this.timers = timers;
    this.router = router;
    this.locks = locks;
    this.executionIds = executionIds;
  }

  InstanceState get(String instanceId) {
    return instances.get(instanceId);
  }

  /** The instance, to read only (a query). */
  InstanceState peek(String instanceId) {
    return instances.peek(instanceId);
  }

  int count() {
    return instances.size();
  }

  Collection<InstanceState> all() {
    return instances.values();
  }

  // ---------------------------------------------------------------- creation and removal

  /**
   * Creates a new instance (replacing none: the caller removed any earlier one) whose first step
   * starts at once, or at {@code scheduledStart} when that is later than {@code now}.
   */
  InstanceState start(
      String instanceId,
      String name,
      String input,
      String createRequestId,
      Instant scheduledStart,
      Instant now,
      List<Effect> effects) {
    boolean later = scheduledStart != null && scheduledStart.isAfter(now);
    InstanceState i =
        create(
            instanceId,
            name,
            input,
            null,
            null,
            0,
            later ? RuntimeStatus.PENDING : RuntimeStatus.RUNNING,
            now);
    i.createRequestId = createRequestId;
    if (later) {
      timers.add(scheduledStart, i.instanceId, i.executionId, TimerTable.SCHEDULED_START);
      effects.add(new Effect.TimersChanged());
    }
    dispatch(i, now, effects);
    return i;
  }

  private InstanceState create(
      String instanceId,
      String name,
      String input,
      String parentInstanceId,
      String parentExecutionId,
      int parentTaskId,
      RuntimeStatus status,
      Instant now) {
    InstanceState i = new InstanceState();
    i.instanceId = instanceId;
    i.name = name;
    i.executionId = executionIds.get();
    i.status = status;
    i.createdAt = now;
    i.lastUpdatedAt = now;
    i.input = input;
    i.parentInstanceId = parentInstanceId;
    i.parentExecutionId = parentExecutionId;
    i.parentTaskId = parentTaskId;
    i.inbox.add(
        new HistoryEvent.ExecutionStarted(
            name, i.executionId, input, parentInstanceId, parentTaskId));
    instances.put(instanceId, i);
    return i;
  }

  /** Forgets the instance, its timers and its cached executor. */
  void remove(InstanceState i, List<Effect> effects) {
    instances.remove(i.instanceId);
    timers.removeInstance(i.instanceId);
    effects.add(new Effect.DiscardExecutor(i.instanceId));
  }

  /**
   * Removes each ended instance named, in memory or only in the store (its stored rows get a
   * deletion); one in memory that has not ended stays. The outcome is the same whether or not an
   * ended instance is in memory, so replay, which may hold other records in memory than the live
   * partition did, reaches the same state.
   */
  void purgeEnded(List<String> ids, List<Effect> effects) {
    for (String id : ids) {
      InstanceState i = instances.peek(id);
      if (i == null) {
        instances.removeStored(id);
      } else if (i.status.isTerminal()) {
        remove(i, effects);
      }
    }
  }

  // ---------------------------------------------------------------- what clients ask for

  /** A client raised an event on the instance; the instance has not ended. */
  void raiseEvent(InstanceState i, String name, String input, Instant now, List<Effect> effects) {
    i.inbox.add(new HistoryEvent.EventRaised(name, input));
    dispatch(i, now, effects);
  }

  /** Ends the instance with status TERMINATED; the instance has not ended. */
  void terminate(InstanceState i, String reason, Instant now, List<Effect> effects) {
    i.history.add(new HistoryEvent.ExecutionTerminated(reason));
    end(i, RuntimeStatus.TERMINATED, null, FailureDetails.of("Terminated", reason), now, effects);
  }

  /**
   * Suspends a RUNNING instance: it keeps taking events but no steps. A step in progress still
   * completes; its records follow the suspension's in the history.
   */
  void suspend(InstanceState i, String reason, Instant now) {
    i.history.add(new HistoryEvent.ExecutionSuspended(reason));
    i.status = RuntimeStatus.SUSPENDED;
    i.lastUpdatedAt = now;
  }

  /** Resumes a SUSPENDED instance: what arrived meanwhile goes into its next step. */
  void resume(InstanceState i, String reason, Instant now, List<Effect> effects) {
    i.history.add(new HistoryEvent.ExecutionResumed(reason));
    i.status = RuntimeStatus.RUNNING;
    i.lastUpdatedAt = now;
    dispatch(i, now, effects);
  }

  // ---------------------------------------------------------------- messages from other instances

  void deliver(ToInstance m, Instant now, List<Effect> effects) {
    switch (m) {
      case ExecutionRequested r -> onExecutionRequested(r, now, effects);
      case SubOrchestrationEnded r -> {
        InstanceState parent = current(r.parentInstanceId(), r.parentExecutionId());
        if (parent != null) {
          take(
              parent,
              r.failure() == null
                  ? new HistoryEvent.SubOrchestrationCompleted(r.parentTaskId(), r.result())
                  : new HistoryEvent.SubOrchestrationFailed(r.parentTaskId(), r.failure()),
              now,
              effects);
        }
      }
      case EventDelivered r -> {
        InstanceState i = instances.get(r.instanceId());
        if (i != null && !i.status.isTerminal()) {
          take(i, new HistoryEvent.EventRaised(r.eventName(), r.input()), now, effects);
        }
      }
      case EntityResponded r -> {
        InstanceState i = current(r.callerInstanceId(), r.callerExecutionId());
        if (i != null) {
          take(
              i,
              r.failure() == null
                  ? new HistoryEvent.EntityCallCompleted(r.callerTaskId(), r.result())
                  : new HistoryEvent.EntityCallFailed(r.callerTaskId(), r.failure()),
              now,
              effects);
        }
      }
      case LocksGranted g -> {
        InstanceState owner = instances.get(g.owner().instanceId());
        if (locks.accept(owner, g, now, effects)) {
          take(owner, new HistoryEvent.EntityLocksGranted(g.owner().taskId()), now, effects);
        }
      }
    }
  }

  private void onExecutionRequested(ExecutionRequested r, Instant now, List<Effect> effects) {
    InstanceState existing = instances.get(r.instanceId());
    if (existing != null && !existing.status.isTerminal()) {
      if (r.parentInstanceId() == null) {
        return; // started by an entity, which waits for no answer: the running instance stays
      }
      router.send(
          new SubOrchestrationEnded(
              r.parentInstanceId(),
              r.parentExecutionId(),
              r.parentTaskId(),
              null,
              FailureDetails.of(
                  "InstanceAlreadyExists",
                  "Cannot start sub-orchestration '"
                      + r.orchestrationName()
                      + "' with id '"
                      + r.instanceId()
                      + "': an instance with that id is "
                      + existing.status
                      + ".")),
          now,
          effects);
      return;
    }
    if (existing != null) {
      remove(existing, effects);
    }
    InstanceState i =
        create(
            r.instanceId(),
            r.orchestrationName(),
            r.input(),
            r.parentInstanceId(),
            r.parentExecutionId(),
            r.parentTaskId(),
            RuntimeStatus.RUNNING,
            now);
    dispatch(i, now, effects);
  }

  /** The instance if it runs {@code executionId} and has not ended; otherwise null. */
  private InstanceState current(String instanceId, String executionId) {
    InstanceState i = instances.get(instanceId);
    return i != null && i.executionId.equals(executionId) && !i.status.isTerminal() ? i : null;
  }

  /** An event for the instance's next step. */
  private void take(InstanceState i, HistoryEvent e, Instant now, List<Effect> effects) {
    i.inbox.add(e);
    dispatch(i, now, effects);
  }

  // ---------------------------------------------------------------- steps

  /** Starts a step when the instance runs, has none in progress and has events waiting. */
  private void dispatch(InstanceState i, Instant now, List<Effect> effects) {
    if (i.status != RuntimeStatus.RUNNING || i.stepInProgress || i.inbox.isEmpty()) {
      return;
    }
    i.stepInProgress = true;
    i.stepNumber++;
    i.stepTime = now;
    i.stepEvents = List.copyOf(i.inbox);
    i.inbox.clear();
    effects.add(runStep(i));
  }

  private static Effect.RunStep runStep(InstanceState i) {
    return new Effect.RunStep(
        i.instanceId,
        i.executionId,
        i.name,
        i.stepNumber,
        i.stepTime,
        i.history,
        i.history.size(),
        i.stepEvents);
  }

  void onStepCompleted(StepCompleted e, List<Effect> effects) {
    InstanceState i = instances.get(e.instanceId());
    if (i == null
        || !i.executionId.equals(e.executionId())
        || !i.stepInProgress
        || i.stepNumber != e.stepNumber()) {
      return; // the result of a step of an execution that has since ended or been replaced
    }
    Instant now = e.timestamp();
    StepResult r = e.result();
    i.stepInProgress = false;
    i.history.add(new HistoryEvent.OrchestratorStarted(i.stepTime));
    i.history.addAll(i.stepEvents);
    i.stepEvents = List.of();
    i.history.addAll(r.actions());
    i.lastUpdatedAt = now;
    if (r.customStatusChanged()) {
      i.customStatus = r.customStatus();
    }
    for (HistoryEvent.Action action : r.actions()) {
      perform(i, action, now, effects);
    }
    switch (r.outcome()) {
      case null -> dispatch(i, now, effects);
      case StepResult.Completed c -> {
        i.history.add(
            new HistoryEvent.ExecutionCompleted(RuntimeStatus.COMPLETED, c.output(), null));
        end(i, RuntimeStatus.COMPLETED, c.output(), null, now, effects);
      }
      case StepResult.Failed f -> {
        i.history.add(new HistoryEvent.ExecutionCompleted(RuntimeStatus.FAILED, null, f.failure()));
        end(i, RuntimeStatus.FAILED, null, f.failure(), now, effects);
      }
      case StepResult.ContinuedAsNew c -> continueAsNew(i, c, now, effects);
    }
  }

  /** Does what one action of a step asks for. */
  private void perform(
      InstanceState i, HistoryEvent.Action action, Instant now, List<Effect> effects) {
    switch (action) {
      case HistoryEvent.TaskScheduled t -> {
        i.pendingActivities.put(t.taskId(), new PendingActivity(t.activityName(), t.input()));
        effects.add(
            new Effect.StartActivity(
                i.instanceId, i.executionId, t.taskId(), t.activityName(), t.input()));
      }
      case HistoryEvent.TimerCreated t -> {
        timers.add(t.fireAt(), i.instanceId, i.executionId, t.taskId());
        effects.add(new Effect.TimersChanged());
      }
      case HistoryEvent.SubOrchestrationCreated s ->
          router.send(
              new ExecutionRequested(
                  s.instanceId(),
                  s.orchestrationName(),
                  s.input(),
                  i.instanceId,
                  i.executionId,
                  s.taskId()),
              now,
              effects);
      case HistoryEvent.EventSent s ->
          router.send(new EventDelivered(s.instanceId(), s.name(), s.input()), now, effects);
      case HistoryEvent.EntityCalled c ->
          router.send(
              new EntityOperationRequested(
                  c.entityId(),
                  c.operation(),
                  c.input(),
                  i.instanceId,
                  i.executionId,
                  c.taskId(),
                  locks.heldLock(i, c.entityId())),
              now,
              effects);
      case HistoryEvent.EntitySignaled s -> {
        var signal =
            new EntityOperationRequested(
                s.entityId(), s.operation(), s.input(), null, null, 0, null);
        if (s.fireAt() != null && s.fireAt().isAfter(now)) {
          timers.addMessage(s.fireAt(), signal);
          effects.add(new Effect.TimersChanged());
        } else {
          router.send(signal, now, effects);
        }
      }
      case HistoryEvent.EntityLockRequested l -> locks.request(i, l, now, effects);
      case HistoryEvent.EntityUnlockSent u -> locks.release(i, now, effects);
    }
  }

  void onActivityCompleted(ActivityCompleted e, List<Effect> effects) {
    InstanceState i = instances.get(e.instanceId());
    if (i == null
        || !i.executionId.equals(e.executionId())
        || i.pendingActivities.remove(e.taskId()) == null) {
      return; // a duplicate, or a result for an execution that has ended
    }
    take(
        i,
        e.failure() == null
            ? new HistoryEvent.TaskCompleted(e.taskId(), e.result())
            : new HistoryEvent.TaskFailed(e.taskId(), e.failure()),
        e.timestamp(),
        effects);
  }

  /** An instance's timer is due: a durable timer fires, or a scheduled start begins. */
  void onTimerFired(TimerTable.Timer t, Instant now, List<Effect> effects) {
    InstanceState i = instances.get(t.instanceId());
    if (i == null || !i.executionId.equals(t.executionId()) || i.status.isTerminal()) {
      return;
    }
    if (t.taskId() == TimerTable.SCHEDULED_START) {
      if (i.status == RuntimeStatus.PENDING) {
        i.status = RuntimeStatus.RUNNING;
      }
    } else {
      i.inbox.add(new HistoryEvent.TimerFired(t.taskId(), t.due()));
    }
    dispatch(i, now, effects);
  }

  // ---------------------------------------------------------------- the end of an execution

  private void end(
      InstanceState i,
      RuntimeStatus status,
      String output,
      FailureDetails failure,
      Instant now,
      List<Effect> effects) {
    i.status = status;
    i.output = output;
    i.failure = failure;
    i.lastUpdatedAt = now;
    i.stepInProgress = false;
    i.stepEvents = List.of();
    i.inbox.clear();
    i.pendingActivities.clear();
    timers.removeInstance(i.instanceId);
    locks.release(i, now, effects);
    effects.add(new Effect.DiscardExecutor(i.instanceId));
    effects.add(new Effect.InstanceEnded(i.view(false)));
    if (i.parentInstanceId != null) {
      router.send(
          new SubOrchestrationEnded(
              i.parentInstanceId,
              i.parentExecutionId,
              i.parentTaskId,
              output,
              status == RuntimeStatus.COMPLETED
                  ? null
                  : failure != null
                      ? failure
                      : FailureDetails.of(status.name(), "Sub-orchestration " + status)),
          now,
          effects);
    }
  }

  /**
   * The execution ends with a {@code ContinuedAsNew} record and the instance starts a new one: a
   * new execution id, an empty history, the new input, the carried events, and the raised events
   * that arrived during the last step. Results of the old execution's calls mean nothing to the new
   * one and are dropped, as are its timers and activities; its locks are released.
   */
  private void continueAsNew(
      InstanceState i, StepResult.ContinuedAsNew c, Instant now, List<Effect> effects) {
    i.history.add(new HistoryEvent.ContinuedAsNew(c.input()));
    List<HistoryEvent> arrivedDuringStep = new ArrayList<>(i.inbox);
    timers.removeInstance(i.instanceId);
    locks.release(i, now, effects);
    i.pendingActivities.clear();
    i.history = new ArrayList<>();
    i.inbox.clear();
    i.executionId = executionIds.get();
    i.stepNumber = 0;
    i.input = c.input();
    // The custom status stays: one set just before continue-as-new is what clients should see,
    // until the new execution sets its own.
    i.lastUpdatedAt = now;
    i.inbox.add(
        new HistoryEvent.ExecutionStarted(
            i.name, i.executionId, c.input(), i.parentInstanceId, i.parentTaskId));
    i.inbox.addAll(c.carriedEvents());
    for (HistoryEvent e : arrivedDuringStep) {
      if (e instanceof HistoryEvent.EventRaised) {
        i.inbox.add(e);
      }
    }
    effects.add(new Effect.DiscardExecutor(i.instanceId));
    dispatch(i, now, effects);
  }

  // ---------------------------------------------------------------- recovery

  /** After recovery: run the steps in progress and the pending activities again. */
  void addRecoveryEffects(List<Effect> effects) {
    for (InstanceState i : instances.values()) {
      if (i.stepInProgress) {
        effects.add(runStep(i));
      }
      i.pendingActivities.forEach(
          (taskId, call) ->
              effects.add(
                  new Effect.StartActivity(
                      i.instanceId, i.executionId, taskId, call.activityName(), call.input())));
    }
  }
}
