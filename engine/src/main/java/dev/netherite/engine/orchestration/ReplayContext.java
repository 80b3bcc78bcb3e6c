package dev.netherite.engine.orchestration;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.CriticalSection;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.LockRuleViolationException;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * INTERNAL API
 *
 * <p>The context the orchestration's code sees: the {@link OrchestrationContext} API, the tasks it
 * waits on, and the rules of critical sections. Runs entirely on the execution's own thread. Its
 * events come from the {@link ExecutionLoop} (history first, then live steps); the actions the code
 * takes get consecutive task ids and go to the {@link HistoryMatcher}, which checks them against
 * the history and keeps the new ones for the step's result.
 */
final class ReplayContext implements OrchestrationContext, TaskDriver {

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

  private final ExecutionLoop loop;
  private final HistoryMatcher matcher;
  private final String orchestrationName;
  private final Workflows workflows;
  private final DataConverter converter;

  private Instant currentTime = Instant.EPOCH;
  private String executionId;

  private int nextTaskId;
  private int uuidCounter;

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
      ExecutionLoop loop, String orchestrationName, Workflows workflows, DataConverter converter) {
    this.loop = loop;
    this.matcher = new HistoryMatcher(orchestrationName, loop.instanceId());
    this.orchestrationName = orchestrationName;
    this.workflows = workflows;
    this.converter = converter;
  }

  // ---------------------------------------------------------------- running the code

  /** Runs the orchestration's code to its end; returns how the execution ended. */
  StepResult.Outcome execute() {
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
      if (brokenRule() != null) {
        return failed(brokenRule());
      }
      String serialized = converter.serialize(output);
      matcher.codeEnded(loop.drainHistory());
      return new StepResult.Completed(serialized);
    } catch (ContinueAsNewSignal c) {
      if (brokenRule() != null) {
        return failed(brokenRule());
      }
      matcher.codeEnded(loop.drainHistory());
      List<HistoryEvent> carried = new ArrayList<>();
      if (c.preserveEvents) {
        carried.addAll(unconsumedEvents);
        for (HistoryEvent e : loop.unreadStepEvents()) {
          if (e instanceof HistoryEvent.EventRaised raised) {
            carried.add(raised);
          }
        }
      }
      return new StepResult.ContinuedAsNew(c.input, carried);
    } catch (ExecutionLoop.Discarded d) {
      throw d;
    } catch (OutOfMemoryError e) {
      throw e;
    } catch (Throwable t) {
      return failed(brokenRule() != null ? brokenRule() : t);
    }
  }

  /**
   * The first replay mismatch or broken lock rule: it fails the execution whatever the code did.
   */
  private RuntimeException brokenRule() {
    return matcher.mismatch() != null ? matcher.mismatch() : violation;
  }

  /**
   * A failed outcome. Actions the code took in this step are dropped: after a replay mismatch they
   * come from code that no longer matches its history, and an ending execution must start no new
   * work.
   */
  StepResult.Failed failed(Throwable t) {
    matcher.dropNewActions();
    return new StepResult.Failed(FailureDetails.of(t));
  }

  /** The result of the step that just ended: its new actions and custom status. */
  StepResult stepResult(StepResult.Outcome outcome) {
    StepResult result =
        new StepResult(matcher.takeNewActions(), customStatusChanged, customStatus, outcome);
    customStatusChanged = false;
    return result;
  }

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
      HistoryEvent e = loop.next();
      if (e instanceof HistoryEvent.ExecutionStarted s) {
        return s;
      }
      handle(e);
    }
  }

  @Override
  public void awaitDone(Task<?> task) {
    while (!task.isDone()) {
      handle(loop.next());
    }
  }

  private void handle(HistoryEvent e) {
    switch (e) {
      case HistoryEvent.OrchestratorStarted s -> currentTime = s.time();
      case HistoryEvent.Action a -> matcher.recorded(a);
      case HistoryEvent.Completion c -> complete(c);
      case HistoryEvent.EventRaised r -> eventRaised(r);
      default -> {
        // ExecutionStarted (handled before the code runs), and records that do not affect the code
      }
    }
  }

  // ---------------------------------------------------------------- completions

  private void complete(HistoryEvent.Completion c) {
    switch (c) {
      case HistoryEvent.TaskCompleted t -> succeed(t.taskId(), t.result());
      case HistoryEvent.SubOrchestrationCompleted t -> succeed(t.taskId(), t.result());
      case HistoryEvent.EntityCallCompleted t -> succeed(t.taskId(), t.result());
      case HistoryEvent.TimerFired t -> succeed(t.taskId(), null);
      case HistoryEvent.EntityLocksGranted t -> succeed(t.taskId(), null);
      case HistoryEvent.TaskFailed t -> failActivity(t.taskId(), t.failure());
      case HistoryEvent.SubOrchestrationFailed t -> fail(t.taskId(), t.failure());
      case HistoryEvent.EntityCallFailed t -> fail(t.taskId(), t.failure());
    }
  }

  private void succeed(int taskId, String result) {
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

  /** The code took an action that completes later: a task it can wait on. */
  private <T> CompletableTask<T> schedule(
      HistoryEvent.Action action, String name, Class<?> resultType) {
    CompletableTask<T> task = new CompletableTask<>(this);
    @SuppressWarnings("unchecked")
    CompletableTask<Object> untyped = (CompletableTask<Object>) task;
    matcher.taken(action);
    openTasks.put(action.taskId(), new OpenTask(untyped, resultType, name));
    return task;
  }

  @Override
  public InstanceId instanceId() {
    return InstanceId.of(loop.instanceId());
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
    String seed = loop.instanceId() + "/" + executionId + "/" + currentTime + "/" + (uuidCounter++);
    return UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public boolean isReplaying() {
    return loop.isReplaying();
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
        orchestration, input, InstanceId.of(loop.instanceId() + ":" + nextTaskId));
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
                        + loop.instanceId()
                        + ")."));
          }
        });
    return outer;
  }

  @Override
  public void raiseEvent(InstanceId instance, String eventName, Object payload) {
    String serialized = converter.serialize(payload);
    matcher.taken(
        new HistoryEvent.EventSent(nextTaskId++, instance.value(), eventName, serialized));
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
    matcher.taken(
        new HistoryEvent.EntitySignaled(nextTaskId++, id, operation.name(), serialized, fireAt));
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
                + loop.instanceId()
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
      matcher.taken(new HistoryEvent.EntityUnlockSent(nextTaskId++, lockTaskId, ids));
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
