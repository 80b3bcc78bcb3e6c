package dev.netherite.engine.orchestration;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.CriticalSection;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.LockRuleViolationException;
import dev.netherite.dsl.NonDeterministicOrchestrationException;
import dev.netherite.dsl.Orchestration;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RetryPolicy;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.TaskFailedException;
import dev.netherite.dsl.TaskTimeoutException;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.CompletableTask;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.dsl.spi.TaskDriver;
import dev.netherite.engine.TypedInputs;
import dev.netherite.engine.partition.StepResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * INTERNAL API
 *
 * <p>The context of one loaded execution, and the loop that drives it. Runs entirely on the
 * execution's own thread. Events come first from the recorded history (replay), then from the steps
 * the host hands over. Actions the code takes get consecutive task ids; during replay each recorded
 * action must match the code's action with the same id (same kind and name), which is how
 * non-determinism is detected; after replay they are new and go into the step's result.
 */
final class ReplayContext implements OrchestrationContext, TaskDriver {

  /** Unwinds the orchestration's stack when the run is discarded. User code must not catch it. */
  static final class Discarded extends Error {
    Discarded() {
      super(null, null, false, false);
    }
  }

  /** Unwinds the orchestration's stack for continue-as-new. */
  static final class ContinueAsNewSignal extends Error {
    final String input;
    final boolean preserveEvents;

    ContinueAsNewSignal(String input, boolean preserveEvents) {
      super(null, null, false, false);
      this.input = input;
      this.preserveEvents = preserveEvents;
    }
  }

  private record OpenTask(CompletableTask<Object> task, Class<?> resultType, String name) {}

  private record Waiter(CompletableTask<Object> task, Class<?> type) {}

  private final OrchestrationRun run;
  private final String orchestrationName;
  private final List<HistoryEvent> past;
  private final Workflows workflows;
  private final DataConverter converter;
  private final StepListener listener;

  private int pastIndex;
  private List<HistoryEvent> stepEvents = List.of();
  private int stepIndex;
  private long stepNumber;
  private Instant stepTime;
  private boolean replaying = true;
  private Instant currentTime = Instant.EPOCH;
  private String executionId;

  private int nextTaskId;
  private int uuidCounter;

  /** Actions the code took that the history has not (yet) matched, in task-id order. */
  private final LinkedHashMap<Integer, HistoryEvent> unmatched = new LinkedHashMap<>();

  private final Map<Integer, OpenTask> openTasks = new HashMap<>();
  private final Map<String, ArrayDeque<Waiter>> eventWaiters = new HashMap<>();

  /** Raised events that no waiter has taken yet, in arrival order. */
  private final ArrayDeque<HistoryEvent.EventRaised> unconsumedEvents = new ArrayDeque<>();

  private String customStatus;
  private boolean customStatusChanged;

  /** The open critical section, or null. */
  private Section section;

  /**
   * The first broken critical-section rule; kept so that user code that catches it cannot hide it.
   */
  private LockRuleViolationException violation;

  ReplayContext(
      OrchestrationRun run,
      String orchestrationName,
      List<HistoryEvent> past,
      Workflows workflows,
      DataConverter converter,
      StepListener listener) {
    this.run = run;
    this.orchestrationName = orchestrationName;
    this.past = past;
    this.workflows = workflows;
    this.converter = converter;
    this.listener = listener;
  }

  // ---------------------------------------------------------------- the driving loop

  void runToEnd() {
    try {
      OrchestrationRun.StepInput first = takeStep();
      beginStep(first);
      StepResult.Outcome outcome;
      try {
        outcome = execute();
      } catch (Discarded d) {
        throw d;
      } catch (Throwable t) {
        // A step must always report, or its instance waits forever with a step in progress.
        outcome = failed(t);
      }
      publish(outcome);
    } catch (Discarded d) {
      // unloaded by the host: nothing to report
    } finally {
      run.markEnded();
    }
  }

  private StepResult.Outcome execute() {
    try {
      HistoryEvent.ExecutionStarted started = awaitExecutionStarted();
      executionId = started.executionId();
      Workflows.RegisteredOrchestration<?, ?> registered =
          workflows.orchestration(orchestrationName).orElse(null);
      if (registered == null) {
        return new StepResult.Failed(
            FailureDetails.of(
                IllegalStateException.class.getName(),
                "No orchestration named '"
                    + orchestrationName
                    + "' is registered on this node; registered names are: "
                    + registeredNames()
                    + "."));
      }
      Object output = invoke(registered, started.input());
      if (mismatch != null || violation != null) {
        return failed(mismatch != null ? mismatch : violation);
      }
      String serialized = converter.serialize(output);
      matchRemainingHistory(true);
      return new StepResult.Completed(serialized);
    } catch (ContinueAsNewSignal c) {
      if (mismatch != null || violation != null) {
        return failed(mismatch != null ? mismatch : violation);
      }
      matchRemainingHistory(true);
      List<HistoryEvent> carried = new ArrayList<>();
      if (c.preserveEvents) {
        carried.addAll(unconsumedEvents);
        for (int k = stepIndex; k < stepEvents.size(); k++) {
          if (stepEvents.get(k) instanceof HistoryEvent.EventRaised e) {
            carried.add(e);
          }
        }
      }
      return new StepResult.ContinuedAsNew(c.input, carried);
    } catch (Discarded d) {
      throw d;
    } catch (OutOfMemoryError e) {
      throw e;
    } catch (Throwable t) {
      return failed(mismatch != null ? mismatch : violation != null ? violation : t);
    }
  }

  /**
   * A failed outcome. Actions the code took in this step are dropped: after a replay mismatch they
   * come from code that no longer matches its history, and an ending execution must start no new
   * work.
   */
  private StepResult.Failed failed(Throwable t) {
    unmatched.clear();
    return new StepResult.Failed(FailureDetails.of(t));
  }

  /** The first replay mismatch; kept so that user code that catches it cannot hide it. */
  private NonDeterministicOrchestrationException mismatch;

  private String registeredNames() {
    try {
      workflows.requireOrchestration(orchestrationName);
      return "";
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      int at = m.indexOf("registered names are: ");
      return at < 0 ? "" : m.substring(at + "registered names are: ".length(), m.length() - 1);
    }
  }

  @SuppressWarnings("unchecked")
  private <I, O> Object invoke(Workflows.RegisteredOrchestration<I, O> registered, String input) {
    I typedInput = converter.deserialize(input, registered.ref().inputType());
    Orchestration<I, O> code = registered.implementation();
    return code.run(this, typedInput);
  }

  private HistoryEvent.ExecutionStarted awaitExecutionStarted() {
    while (true) {
      HistoryEvent e = nextEvent();
      if (e instanceof HistoryEvent.ExecutionStarted s) {
        return s;
      }
      handle(e);
    }
  }

  /**
   * After the code has returned: the rest of the recorded history must only hold the matches of
   * actions it took; a recorded action it did not take means the code changed.
   */
  private void matchRemainingHistory(boolean completed) {
    while (pastIndex < past.size()) {
      HistoryEvent e = past.get(pastIndex++);
      if (isAction(e)) {
        match(e, completed);
      }
    }
  }

  private HistoryEvent nextEvent() {
    while (true) {
      if (pastIndex < past.size()) {
        replaying = true;
        return past.get(pastIndex++);
      }
      if (stepIndex < stepEvents.size()) {
        replaying = false;
        if (stepIndex == 0) {
          currentTime = stepTime; // recorded as the step's OrchestratorStarted
        }
        return stepEvents.get(stepIndex++);
      }
      publish(null);
      beginStep(takeStep());
    }
  }

  private void beginStep(OrchestrationRun.StepInput step) {
    stepNumber = step.stepNumber();
    stepEvents = step.events();
    stepIndex = 0;
    stepTime = step.time();
  }

  private OrchestrationRun.StepInput takeStep() {
    try {
      Object next = run.mailbox.take();
      if (next == OrchestrationRun.DISCARD) {
        throw new Discarded();
      }
      return (OrchestrationRun.StepInput) next;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Discarded();
    }
  }

  private void publish(StepResult.Outcome outcome) {
    List<HistoryEvent> actions = new ArrayList<>(unmatched.values());
    unmatched.clear();
    StepResult result = new StepResult(actions, customStatusChanged, customStatus, outcome);
    customStatusChanged = false;
    listener.stepDone(run, stepNumber, result);
  }

  @Override
  public void awaitDone(Task<?> task) {
    while (!task.isDone()) {
      handle(nextEvent());
    }
  }

  private void handle(HistoryEvent e) {
    switch (e) {
      case HistoryEvent.OrchestratorStarted s -> currentTime = s.time();
      case HistoryEvent.TaskScheduled a -> match(a, false);
      case HistoryEvent.TimerCreated a -> match(a, false);
      case HistoryEvent.SubOrchestrationCreated a -> match(a, false);
      case HistoryEvent.EventSent a -> match(a, false);
      case HistoryEvent.EntityCalled a -> match(a, false);
      case HistoryEvent.EntitySignaled a -> match(a, false);
      case HistoryEvent.EntityLockRequested a -> match(a, false);
      case HistoryEvent.EntityUnlockSent a -> match(a, false);
      case HistoryEvent.EntityCallCompleted c -> complete(c.taskId(), c.result());
      case HistoryEvent.EntityCallFailed f -> fail(f.taskId(), f.failure());
      case HistoryEvent.EntityLocksGranted g -> complete(g.taskId(), null);
      case HistoryEvent.TaskCompleted c -> complete(c.taskId(), c.result());
      case HistoryEvent.SubOrchestrationCompleted c -> complete(c.taskId(), c.result());
      case HistoryEvent.TimerFired f -> complete(f.taskId(), null);
      case HistoryEvent.TaskFailed f -> failActivity(f.taskId(), f.failure());
      case HistoryEvent.SubOrchestrationFailed f -> fail(f.taskId(), f.failure());
      case HistoryEvent.EventRaised r -> eventRaised(r);
      default -> {
        // ExecutionStarted (handled before the code runs), and records that do not affect the code
      }
    }
  }

  // ---------------------------------------------------------------- matching actions against
  // history

  private static boolean isAction(HistoryEvent e) {
    return e instanceof HistoryEvent.TaskScheduled
        || e instanceof HistoryEvent.TimerCreated
        || e instanceof HistoryEvent.SubOrchestrationCreated
        || e instanceof HistoryEvent.EventSent
        || e instanceof HistoryEvent.EntityCalled
        || e instanceof HistoryEvent.EntitySignaled
        || e instanceof HistoryEvent.EntityLockRequested
        || e instanceof HistoryEvent.EntityUnlockSent;
  }

  private void match(HistoryEvent recorded, boolean codeCompleted) {
    int id = taskIdOf(recorded);
    if (!unmatched.isEmpty()) {
      int firstOpen = unmatched.keySet().iterator().next();
      if (firstOpen < id) {
        throw nonDeterministic(
            firstOpen,
            "has no record of step " + firstOpen,
            "code now " + describe(unmatched.get(firstOpen)));
      }
    }
    HistoryEvent taken = unmatched.remove(id);
    if (taken == null) {
      throw nonDeterministic(
          id,
          "says step " + id + " " + describe(recorded),
          "code now " + (codeCompleted ? "completes before it" : "does not"));
    }
    if (!sameAction(recorded, taken)) {
      throw nonDeterministic(
          id, "says step " + id + " " + describe(recorded), "code now " + describe(taken));
    }
  }

  private NonDeterministicOrchestrationException nonDeterministic(
      int step, String history, String code) {
    if (mismatch != null) {
      return mismatch;
    }
    return mismatch =
        new NonDeterministicOrchestrationException(
            "Orchestration '"
                + orchestrationName
                + "' (instance "
                + run.instanceId()
                + ") is not deterministic: the history "
                + history
                + ", the "
                + code
                + ". Code that changes what an orchestration does must not be deployed while "
                + "instances of it are running; give the changed code a new orchestration name instead.");
  }

  private static int taskIdOf(HistoryEvent e) {
    return switch (e) {
      case HistoryEvent.TaskScheduled a -> a.taskId();
      case HistoryEvent.TimerCreated a -> a.taskId();
      case HistoryEvent.SubOrchestrationCreated a -> a.taskId();
      case HistoryEvent.EventSent a -> a.taskId();
      case HistoryEvent.EntityCalled a -> a.taskId();
      case HistoryEvent.EntitySignaled a -> a.taskId();
      case HistoryEvent.EntityLockRequested a -> a.taskId();
      case HistoryEvent.EntityUnlockSent a -> a.taskId();
      default -> throw new IllegalArgumentException("not an action: " + e);
    };
  }

  private static boolean sameAction(HistoryEvent recorded, HistoryEvent taken) {
    return switch (recorded) {
      case HistoryEvent.TaskScheduled a ->
          taken instanceof HistoryEvent.TaskScheduled b
              && a.activityName().equals(b.activityName());
      case HistoryEvent.TimerCreated a -> taken instanceof HistoryEvent.TimerCreated;
      case HistoryEvent.SubOrchestrationCreated a ->
          taken instanceof HistoryEvent.SubOrchestrationCreated b
              && a.orchestrationName().equals(b.orchestrationName());
      case HistoryEvent.EventSent a ->
          taken instanceof HistoryEvent.EventSent b
              && a.name().equals(b.name())
              && a.instanceId().equals(b.instanceId());
      case HistoryEvent.EntityCalled a ->
          taken instanceof HistoryEvent.EntityCalled b
              && a.entityId().equals(b.entityId())
              && a.operation().equals(b.operation());
      case HistoryEvent.EntitySignaled a ->
          taken instanceof HistoryEvent.EntitySignaled b
              && a.entityId().equals(b.entityId())
              && a.operation().equals(b.operation());
      case HistoryEvent.EntityLockRequested a ->
          taken instanceof HistoryEvent.EntityLockRequested b
              && a.entityIds().equals(b.entityIds());
      case HistoryEvent.EntityUnlockSent a -> taken instanceof HistoryEvent.EntityUnlockSent;
      default -> false;
    };
  }

  private static String describe(HistoryEvent action) {
    return switch (action) {
      case HistoryEvent.TaskScheduled a -> "called activity '" + a.activityName() + "'";
      case HistoryEvent.TimerCreated a -> "created a timer";
      case HistoryEvent.SubOrchestrationCreated a ->
          "called sub-orchestration '" + a.orchestrationName() + "'";
      case HistoryEvent.EventSent a ->
          "raised event '" + a.name() + "' on instance '" + a.instanceId() + "'";
      case HistoryEvent.EntityCalled a ->
          "called operation '" + a.operation() + "' of entity " + a.entityId();
      case HistoryEvent.EntitySignaled a ->
          "signaled operation '" + a.operation() + "' of entity " + a.entityId();
      case HistoryEvent.EntityLockRequested a -> "locked entities " + a.entityIds();
      case HistoryEvent.EntityUnlockSent a -> "left a critical section";
      default -> action.toString();
    };
  }

  // ---------------------------------------------------------------- completions

  private void complete(int taskId, String result) {
    OpenTask open = openTasks.remove(taskId);
    if (open == null) {
      return; // e.g. the timer of a wait that an event already ended
    }
    open.task()
        .complete(
            open.resultType() == Void.class
                ? null
                : converter.deserialize(result, open.resultType()));
  }

  private void fail(int taskId, FailureDetails failure) {
    OpenTask open = openTasks.remove(taskId);
    if (open != null) {
      open.task().fail(new TaskFailedException(open.name(), taskId, failure));
    }
  }

  /**
   * An activity call failed. An attempt that timed out (the host records {@link
   * TaskTimeoutException} as its failure) fails the task with a {@link TaskTimeoutException}, which
   * is what the orchestration sees; any other failure with a {@link TaskFailedException}.
   */
  private void failActivity(int taskId, FailureDetails failure) {
    if (!TaskTimeoutException.class.getName().equals(failure.errorType())) {
      fail(taskId, failure);
      return;
    }
    OpenTask open = openTasks.remove(taskId);
    if (open != null) {
      open.task().fail(new TaskTimeoutException(failure.message()));
    }
  }

  private void eventRaised(HistoryEvent.EventRaised r) {
    ArrayDeque<Waiter> waiters = eventWaiters.get(r.name());
    Waiter w = waiters == null ? null : waiters.pollFirst();
    if (w == null) {
      unconsumedEvents.addLast(r);
    } else {
      w.task().complete(converter.deserialize(r.input(), w.type()));
    }
  }

  // ---------------------------------------------------------------- OrchestrationContext

  private <T> CompletableTask<T> schedule(HistoryEvent action, String name, Class<?> resultType) {
    CompletableTask<T> task = new CompletableTask<>(this);
    @SuppressWarnings("unchecked")
    CompletableTask<Object> untyped = (CompletableTask<Object>) task;
    int id = taskIdOf(action);
    unmatched.put(id, action);
    openTasks.put(id, new OpenTask(untyped, resultType, name));
    return task;
  }

  @Override
  public InstanceId instanceId() {
    return InstanceId.of(run.instanceId());
  }

  @Override
  public String orchestrationName() {
    return orchestrationName;
  }

  @Override
  public Instant currentTime() {
    return currentTime;
  }

  @Override
  public UUID newUuid() {
    String seed = run.instanceId() + "/" + executionId + "/" + currentTime + "/" + (uuidCounter++);
    return UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public boolean isReplaying() {
    return replaying;
  }

  @Override
  public <I, O> Task<O> call(ActivityRef<I, O> activity, I input) {
    String serialized = serializeInput(activity.name(), activity.inputType(), input);
    return schedule(
        new HistoryEvent.TaskScheduled(nextTaskId++, activity.name(), serialized),
        activity.name(),
        activity.outputType());
  }

  @Override
  public <I, O> Task<O> call(ActivityRef<I, O> activity, I input, RetryPolicy retry) {
    CompletableTask<O> outer = new CompletableTask<>(this);
    attempt(activity, input, retry, 1, outer);
    return outer;
  }

  private <I, O> void attempt(
      ActivityRef<I, O> activity,
      I input,
      RetryPolicy retry,
      int attempt,
      CompletableTask<O> outer) {
    CompletableTask<O> inner = (CompletableTask<O>) call(activity, input);
    inner.whenDone(
        () -> {
          try {
            outer.complete(inner.await());
          } catch (TaskFailedException | TaskTimeoutException failed) {
            if (attempt >= retry.maxAttempts()) {
              outer.fail(failed);
            } else {
              CompletableTask<Void> wait =
                  (CompletableTask<Void>)
                      timerUntil(currentTime.plus(retry.delayBefore(attempt + 1)));
              wait.whenDone(() -> attempt(activity, input, retry, attempt + 1, outer));
            }
          }
        });
  }

  @Override
  public <I, O> Task<O> callSubOrchestration(OrchestrationRef<I, O> orchestration, I input) {
    return callSubOrchestration(
        orchestration, input, InstanceId.of(run.instanceId() + ":" + nextTaskId));
  }

  @Override
  public <I, O> Task<O> callSubOrchestration(
      OrchestrationRef<I, O> orchestration, I input, InstanceId instanceId) {
    if (section != null) {
      throw violation(
          "no sub-orchestrations in a critical section",
          "it called sub-orchestration '"
              + orchestration.name()
              + "' while holding the locks of "
              + section.ids
              + "; call it before or after the section");
    }
    String serialized = serializeInput(orchestration.name(), orchestration.inputType(), input);
    return schedule(
        new HistoryEvent.SubOrchestrationCreated(
            nextTaskId++, orchestration.name(), instanceId.value(), serialized),
        orchestration.name(),
        orchestration.outputType());
  }

  @Override
  public Task<Void> timer(Duration delay) {
    return timerUntil(currentTime.plus(delay));
  }

  @Override
  public Task<Void> timerUntil(Instant fireAt) {
    return schedule(new HistoryEvent.TimerCreated(nextTaskId++, fireAt), "timer", Void.class);
  }

  @Override
  public <T> Task<T> waitForEvent(String eventName, Class<T> type) {
    CompletableTask<T> task = new CompletableTask<>(this);
    for (Iterator<HistoryEvent.EventRaised> it = unconsumedEvents.iterator(); it.hasNext(); ) {
      HistoryEvent.EventRaised r = it.next();
      if (r.name().equals(eventName)) {
        it.remove();
        task.complete(converter.deserialize(r.input(), type));
        return task;
      }
    }
    @SuppressWarnings("unchecked")
    CompletableTask<Object> untyped = (CompletableTask<Object>) task;
    eventWaiters
        .computeIfAbsent(eventName, n -> new ArrayDeque<>())
        .addLast(new Waiter(untyped, type));
    return task;
  }

  @Override
  public <T> Task<T> waitForEvent(String eventName, Class<T> type, Duration timeout) {
    CompletableTask<T> event = (CompletableTask<T>) waitForEvent(eventName, type);
    if (event.isDone()) {
      return event;
    }
    CompletableTask<T> outer = new CompletableTask<>(this);
    CompletableTask<Void> deadline = (CompletableTask<Void>) timer(timeout);
    event.whenDone(() -> outer.complete(event.await()));
    deadline.whenDone(
        () -> {
          if (!event.isDone()) {
            ArrayDeque<Waiter> waiters = eventWaiters.get(eventName);
            if (waiters != null) {
              waiters.removeIf(w -> w.task() == (Object) event);
            }
            outer.fail(
                new TaskTimeoutException(
                    "No event '"
                        + eventName
                        + "' arrived within "
                        + timeout
                        + " (instance "
                        + run.instanceId()
                        + ")."));
          }
        });
    return outer;
  }

  @Override
  public void raiseEvent(InstanceId instance, String eventName, Object payload) {
    String serialized = converter.serialize(payload);
    unmatched.put(
        nextTaskId,
        new HistoryEvent.EventSent(nextTaskId, instance.value(), eventName, serialized));
    nextTaskId++;
  }

  // ---------------------------------------------------------------- entities and critical sections

  @Override
  public <I, O> Task<O> callEntity(EntityId entity, EntityOp<I, O> operation, I input) {
    String id = entity.toString();
    if (section != null && !section.ids.contains(id)) {
      throw violation(
          "call only locked entities",
          "inside a critical section it may call only the entities it locked, "
              + section.ids
              + ", but it called "
              + id
              + "; add it to the section's entities");
    }
    String serialized = serializeInput(operation.name(), operation.inputType(), input);
    return schedule(
        new HistoryEvent.EntityCalled(nextTaskId++, id, operation.name(), serialized),
        entity + "." + operation.name(),
        operation.outputType());
  }

  @Override
  public <I> void signalEntity(EntityId entity, EntityOp<I, ?> operation, I input) {
    signal(entity, operation, input, null);
  }

  @Override
  public <I> void signalEntity(EntityId entity, EntityOp<I, ?> operation, I input, Duration delay) {
    if (delay.isNegative()) {
      throw new IllegalArgumentException(
          "A signal's delay must not be negative; it was " + delay + ".");
    }
    signal(entity, operation, input, currentTime.plus(delay));
  }

  private <I> void signal(EntityId entity, EntityOp<I, ?> operation, I input, Instant fireAt) {
    String id = entity.toString();
    if (section != null && section.ids.contains(id)) {
      throw violation(
          "no signal to a locked entity",
          "it signaled "
              + id
              + ", which its critical section holds locked; inside the section use callEntity");
    }
    String serialized = serializeInput(operation.name(), operation.inputType(), input);
    unmatched.put(
        nextTaskId,
        new HistoryEvent.EntitySignaled(nextTaskId, id, operation.name(), serialized, fireAt));
    nextTaskId++;
  }

  @Override
  public CriticalSection lockEntities(EntityId... entities) {
    if (entities == null || entities.length == 0) {
      throw new IllegalArgumentException("lockEntities needs at least one entity.");
    }
    List<String> ids = Arrays.stream(entities).map(EntityId::toString).distinct().sorted().toList();
    if (section != null) {
      throw violation(
          "no nested critical section",
          "it holds the locks of "
              + section.ids
              + " and asked for "
              + ids
              + "; close the open section first");
    }
    int lockTaskId = nextTaskId++;
    CompletableTask<Void> granted =
        schedule(new HistoryEvent.EntityLockRequested(lockTaskId, ids), "lock " + ids, Void.class);
    section = new Section(lockTaskId, ids);
    Section opened = section;
    granted.await();
    return opened;
  }

  private LockRuleViolationException violation(String rule, String detail) {
    LockRuleViolationException e =
        new LockRuleViolationException(
            "Orchestration '"
                + orchestrationName
                + "' (instance "
                + run.instanceId()
                + ") broke the critical-section rule '"
                + rule
                + "': "
                + detail
                + ".");
    if (violation == null) {
      violation = e;
    }
    return e;
  }

  /** A critical section as the orchestration holds it. */
  private final class Section implements CriticalSection {
    final int lockTaskId;
    final List<String> ids;

    Section(int lockTaskId, List<String> ids) {
      this.lockTaskId = lockTaskId;
      this.ids = ids;
    }

    @Override
    public List<EntityId> entities() {
      return ids.stream().map(EntityId::parse).toList();
    }

    @Override
    public void close() {
      if (section != this) {
        return;
      }
      section = null;
      unmatched.put(nextTaskId, new HistoryEvent.EntityUnlockSent(nextTaskId, lockTaskId, ids));
      nextTaskId++;
    }
  }

  @Override
  public void setCustomStatus(Object status) {
    customStatus = converter.serialize(status);
    customStatusChanged = true;
  }

  @Override
  public void continueAsNew(Object newInput) {
    continueAsNew(newInput, true);
  }

  @Override
  public void continueAsNew(Object newInput, boolean preserveUnprocessedEvents) {
    throw new ContinueAsNewSignal(converter.serialize(newInput), preserveUnprocessedEvents);
  }

  private String serializeInput(String name, Class<?> type, Object input) {
    return TypedInputs.serialize(converter, name, type, input);
  }
}
