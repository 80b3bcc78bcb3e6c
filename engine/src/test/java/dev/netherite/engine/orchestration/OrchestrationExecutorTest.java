package dev.netherite.engine.orchestration;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.NonDeterministicOrchestrationException;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RetryPolicy;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.TaskFailedException;
import dev.netherite.dsl.TaskTimeoutException;
import dev.netherite.dsl.Workflows;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.StepResult;
import dev.netherite.engine.simulation.SimulatedPartitions;
import dev.netherite.engine.simulation.TestDataConverter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The replay executor: scripted step by step against histories ({@link ScriptedExecution}), and end
 * to end on one or two simulated partitions without faults ({@link SimulatedPartitions}).
 */
class OrchestrationExecutorTest {
  private static final Instant T0 = SimulatedPartitions.START_TIME;
  private static final TestDataConverter CONVERTER = new TestDataConverter();
  private static final List<String> CITIES =
      List.of("Tokyo", "Seattle", "London", "Amsterdam", "Mumbai");

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final Class<List<String>> STRINGS = (Class) List.class;

  private static final ActivityRef<String, String> SAY_HELLO =
      ActivityRef.of("SayHello", String.class, String.class);
  private static final ActivityRef<Integer, Integer> SQUARE =
      ActivityRef.of("Square", Integer.class, Integer.class);
  private static final ActivityRef<String, String> UPPER =
      ActivityRef.of("Upper", String.class, String.class);
  private static final ActivityRef<String, String> FLAKY =
      ActivityRef.of("Flaky", String.class, String.class);
  private static final ActivityRef<Integer, String> DEBIT =
      ActivityRef.of("Debit", Integer.class, String.class);
  private static final ActivityRef<Integer, String> WITHDRAW =
      ActivityRef.of("Withdraw", Integer.class, String.class);
  private static final ActivityRef<Integer, String> AUDIT =
      ActivityRef.of("Audit", Integer.class, String.class);
  private static final ActivityRef<Integer, String> CREDIT =
      ActivityRef.of("Credit", Integer.class, String.class);

  private static final OrchestrationRef<String, List<String>> HELLO5 =
      OrchestrationRef.of("Hello5", String.class, STRINGS);
  private static final OrchestrationRef<Integer, Integer> FAN_OUT =
      OrchestrationRef.of("FanOut", Integer.class, Integer.class);
  private static final OrchestrationRef<Integer, Integer> NAP =
      OrchestrationRef.of("Nap", Integer.class, Integer.class);
  private static final OrchestrationRef<Integer, String> APPROVAL =
      OrchestrationRef.of("Approval", Integer.class, String.class);
  private static final OrchestrationRef<Integer, String> STRICT_APPROVAL =
      OrchestrationRef.of("StrictApproval", Integer.class, String.class);
  private static final OrchestrationRef<Integer, String> NAP_THEN_WAIT =
      OrchestrationRef.of("NapThenWait", Integer.class, String.class);
  private static final OrchestrationRef<String, String> KEEP_EVENTS =
      OrchestrationRef.of("KeepEvents", String.class, String.class);
  private static final OrchestrationRef<String, String> DROP_EVENTS =
      OrchestrationRef.of("DropEvents", String.class, String.class);
  private static final OrchestrationRef<String, String> PARENT =
      OrchestrationRef.of("Parent", String.class, String.class);
  private static final OrchestrationRef<String, String> CHILD =
      OrchestrationRef.of("Child", String.class, String.class);
  private static final OrchestrationRef<String, String> BROKEN_CHILD =
      OrchestrationRef.of("BrokenChild", String.class, String.class);
  private static final OrchestrationRef<String, String> STATUS =
      OrchestrationRef.of("Status", String.class, String.class);
  private static final OrchestrationRef<String, List<String>> UUIDS =
      OrchestrationRef.of("Uuids", String.class, STRINGS);
  private static final OrchestrationRef<Integer, String> BANK =
      OrchestrationRef.of("Bank", Integer.class, String.class);
  private static final OrchestrationRef<Integer, Integer> LONG_SEQUENCE =
      OrchestrationRef.of("LongSequence", Integer.class, Integer.class);

  private final AtomicInteger hello5Invocations = new AtomicInteger();
  private final AtomicInteger longSequenceInvocations = new AtomicInteger();
  private final AtomicInteger uuidsInvocations = new AtomicInteger();
  private final Map<String, AtomicInteger> flakyAttempts = new ConcurrentHashMap<>();
  private volatile int flakyFailures;

  /** What each run of Uuids computed before it waited for "go", by instance, in run order. */
  private final Map<String, List<List<UUID>>> uuidsSeen = new ConcurrentHashMap<>();

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private SimulatedPartitions sim(int partitions, Workflows workflows) {
    SimulatedPartitions sim = new SimulatedPartitions(partitions, workflows, 1234);
    toClose.add(sim);
    return sim;
  }

  private ScriptedExecution scripted(Workflows workflows, String name) {
    ScriptedExecution s = new ScriptedExecution(workflows, "i!0", name);
    toClose.add(s);
    return s;
  }

  // ---------------------------------------------------------------- the application

  private Workflows app() {
    return app(Workflows.builder()).build();
  }

  private Workflows.Builder app(Workflows.Builder builder) {
    return builder
        .activity(SAY_HELLO, (ctx, city) -> "Hello " + city + "!")
        .activity(SQUARE, (ctx, n) -> n * n)
        .activity(UPPER, (ctx, s) -> s.toUpperCase())
        .activity(
            FLAKY,
            (ctx, s) -> {
              int attempt =
                  flakyAttempts
                      .computeIfAbsent(ctx.instanceId().value(), k -> new AtomicInteger())
                      .incrementAndGet();
              if (attempt <= flakyFailures) {
                throw new IllegalStateException("attempt " + attempt + " failed");
              }
              return "ok after " + attempt;
            })
        .activity(DEBIT, (ctx, n) -> "debited " + n)
        .activity(WITHDRAW, (ctx, n) -> "withdrew " + n)
        .activity(AUDIT, (ctx, n) -> "audited " + n)
        .activity(CREDIT, (ctx, n) -> "credited " + n)
        .orchestration(
            HELLO5,
            (ctx, input) -> {
              hello5Invocations.incrementAndGet();
              List<String> out = new ArrayList<>();
              for (String city : CITIES) {
                out.add(ctx.call(SAY_HELLO, city).await());
              }
              return out;
            })
        .orchestration(
            LONG_SEQUENCE,
            (ctx, n) -> {
              longSequenceInvocations.incrementAndGet();
              int sum = 0;
              for (int i = 0; i < n; i++) {
                sum += ctx.call(SQUARE, i).await();
              }
              return sum;
            })
        .orchestration(
            FAN_OUT,
            (OrchestrationContext ctx, Integer n) -> {
              List<Task<Integer>> squares = new ArrayList<>();
              for (int i = 0; i < n; i++) {
                squares.add(ctx.call(SQUARE, i));
              }
              return Task.allOf(squares).await().stream().mapToInt(Integer::intValue).sum();
            })
        .orchestration(
            NAP,
            (ctx, minutes) -> {
              Instant before = ctx.currentTime();
              ctx.timer(Duration.ofMinutes(minutes)).await();
              return (int) Duration.between(before, ctx.currentTime()).toSeconds();
            })
        .orchestration(
            APPROVAL,
            (ctx, timeoutSeconds) -> {
              try {
                String v =
                    timeoutSeconds == 0
                        ? ctx.waitForEvent("approve", String.class).await()
                        : ctx.waitForEvent(
                                "approve", String.class, Duration.ofSeconds(timeoutSeconds))
                            .await();
                return "approved:" + v;
              } catch (TaskTimeoutException e) {
                return "timed out";
              }
            })
        .orchestration(
            STRICT_APPROVAL,
            (ctx, timeoutSeconds) ->
                "approved:"
                    + ctx.waitForEvent("approve", String.class, Duration.ofSeconds(timeoutSeconds))
                        .await())
        .orchestration(
            NAP_THEN_WAIT,
            (ctx, minutes) -> {
              ctx.timer(Duration.ofMinutes(minutes)).await();
              return "approved:" + ctx.waitForEvent("approve", String.class).await();
            })
        .orchestration(KEEP_EVENTS, (ctx, acc) -> accumulate(ctx, acc, true))
        .orchestration(DROP_EVENTS, (ctx, acc) -> accumulate(ctx, acc, false))
        .orchestration(
            PARENT,
            (ctx, input) -> {
              Task<String> explicit =
                  ctx.callSubOrchestration(CHILD, input + "-a", InstanceId.of("child!1"));
              Task<String> derived = ctx.callSubOrchestration(CHILD, input + "-b");
              String broken;
              try {
                broken =
                    ctx.callSubOrchestration(BROKEN_CHILD, input, InstanceId.of("broken!1"))
                        .await();
              } catch (TaskFailedException e) {
                broken = e.failure().errorType() + ": " + e.failure().message();
              }
              return explicit.await() + "," + derived.await() + "," + broken;
            })
        .orchestration(CHILD, (ctx, input) -> ctx.call(UPPER, input).await())
        .orchestration(
            BROKEN_CHILD,
            (ctx, input) -> {
              throw new IllegalStateException("child broke on " + input);
            })
        .orchestration(
            STATUS,
            (ctx, input) -> {
              ctx.setCustomStatus("waiting");
              String v = ctx.waitForEvent("go", String.class).await();
              ctx.setCustomStatus(List.of("done", v));
              return "ok";
            })
        .orchestration(
            UUIDS,
            (ctx, input) -> {
              uuidsInvocations.incrementAndGet();
              UUID a = ctx.newUuid();
              ctx.call(UPPER, "x").await();
              UUID b = ctx.newUuid();
              uuidsSeen
                  .computeIfAbsent(
                      ctx.instanceId().value(),
                      k -> Collections.synchronizedList(new ArrayList<>()))
                  .add(List.of(a, b));
              ctx.waitForEvent("go", String.class).await();
              UUID c = ctx.newUuid();
              return List.of(a.toString(), b.toString(), c.toString());
            })
        .orchestration(
            BANK,
            (ctx, amount) -> {
              String debited = ctx.call(DEBIT, amount).await();
              ctx.waitForEvent("confirm", String.class).await();
              return debited + ", " + ctx.call(CREDIT, amount).await();
            });
  }

  private static String accumulate(OrchestrationContext ctx, String acc, boolean preserve) {
    String next = acc + ctx.waitForEvent("add", String.class).await();
    if (next.length() < 3) {
      ctx.continueAsNew(next, preserve);
    }
    return next;
  }

  /** The application with "Retry", which calls Flaky with {@code policy}. */
  private Workflows retryApp(RetryPolicy policy) {
    OrchestrationRef<String, String> retry =
        OrchestrationRef.of("Retry", String.class, String.class);
    return app(Workflows.builder())
        .orchestration(retry, (ctx, input) -> ctx.call(FLAKY, input, policy).await())
        .build();
  }

  private static String ser(Object value) {
    return CONVERTER.serialize(value);
  }

  private static List<Class<?>> shape(List<HistoryEvent> history) {
    return history.stream().<Class<?>>map(Object::getClass).toList();
  }

  private static <T extends HistoryEvent> List<T> ofType(
      List<HistoryEvent> history, Class<T> type) {
    return history.stream().filter(type::isInstance).map(type::cast).toList();
  }

  // ---------------------------------------------------------------- scripted: Hello5 step by step

  /**
   * One scripted step of Hello5: the result fed in (none for the start) and the call expected out.
   */
  private record HelloStep(int step, String previousResult, String nextCity) {}

  private static final List<HelloStep> HELLO5_SCRIPT =
      List.of(
          new HelloStep(0, null, "Tokyo"),
          new HelloStep(1, "Hello Tokyo!", "Seattle"),
          new HelloStep(2, "Hello Seattle!", "London"),
          new HelloStep(3, "Hello London!", "Amsterdam"),
          new HelloStep(4, "Hello Amsterdam!", "Mumbai"));

  @Test
  void hello5ScriptedStepByStep() {
    ScriptedExecution run = scripted(app(), "Hello5");
    for (HelloStep row : HELLO5_SCRIPT) {
      Instant time = T0.plusSeconds(row.step());
      StepResult r =
          row.step() == 0
              ? run.start(time, null)
              : run.step(
                  time, new HistoryEvent.TaskCompleted(row.step() - 1, ser(row.previousResult())));
      assertEquals(
          List.of(new HistoryEvent.TaskScheduled(row.step(), "SayHello", ser(row.nextCity()))),
          r.actions(),
          row.toString());
      assertNull(r.outcome(), row.toString());
    }
    StepResult last =
        run.step(T0.plusSeconds(5), new HistoryEvent.TaskCompleted(4, ser("Hello Mumbai!")));
    assertEquals(List.of(), last.actions());
    assertEquals(
        new StepResult.Completed(ser(CITIES.stream().map(c -> "Hello " + c + "!").toList())),
        last.outcome());
    assertEquals(1, run.loads(), "a cached run takes every step without replay");
    assertEquals(1, hello5Invocations.get(), "the orchestration body ran once for six steps");
  }

  // ---------------------------------------------------------------- scripted: replay

  @Test
  void recordsOfSuspensionAndResumptionReplayAsNothingTheCodeSees() {
    ScriptedExecution run = scripted(app(), "Hello5");
    run.start(T0, null);
    run.step(T0.plusSeconds(1), new HistoryEvent.TaskCompleted(0, ser("Hello Tokyo!")));
    run.recordBetweenSteps(
        new HistoryEvent.ExecutionSuspended("maintenance"),
        new HistoryEvent.ExecutionResumed("maintenance over"));
    // A cached run takes the next step as it is; a new one replays across the records.
    StepResult cached =
        run.step(T0.plusSeconds(2), new HistoryEvent.TaskCompleted(1, ser("Hello Seattle!")));
    assertEquals(
        List.of(new HistoryEvent.TaskScheduled(2, "SayHello", ser(CITIES.get(2)))),
        cached.actions());
    run.recordBetweenSteps(new HistoryEvent.ExecutionSuspended("again"));
    run.unload();
    StepResult replayed =
        run.step(T0.plusSeconds(3), new HistoryEvent.TaskCompleted(2, ser("Hello London!")));
    assertEquals(
        List.of(new HistoryEvent.TaskScheduled(3, "SayHello", ser(CITIES.get(3)))),
        replayed.actions());
    assertEquals(2, run.loads());
  }

  @ParameterizedTest(name = "unloaded after {0} steps")
  @ValueSource(ints = {1, 2, 3, 4, 5})
  void replayFromHistoryContinuesWithoutReschedulingCompletedWork(int stepsBeforeUnload) {
    ScriptedExecution run = scripted(app(), "Hello5");
    List<HistoryEvent> allActions = new ArrayList<>();
    StepResult r = run.start(T0, null);
    allActions.addAll(r.actions());
    for (int step = 1; step <= 5; step++) {
      if (step == stepsBeforeUnload) {
        run.unload();
      }
      r =
          run.step(
              T0.plusSeconds(step),
              new HistoryEvent.TaskCompleted(step - 1, ser("Hello " + CITIES.get(step - 1) + "!")));
      if (step < 5) {
        assertEquals(
            List.of(new HistoryEvent.TaskScheduled(step, "SayHello", ser(CITIES.get(step)))),
            r.actions(),
            "after a replay the step must hold only the new action");
      }
      allActions.addAll(r.actions());
    }
    assertEquals(
        new StepResult.Completed(ser(CITIES.stream().map(c -> "Hello " + c + "!").toList())),
        r.outcome());
    assertEquals(5, allActions.size(), "each activity is scheduled exactly once: " + allActions);
    assertEquals(
        IntStream.range(0, 5).boxed().toList(),
        allActions.stream().map(a -> ((HistoryEvent.TaskScheduled) a).taskId()).toList());
    assertEquals(2, run.loads());
    assertEquals(2, hello5Invocations.get(), "a new run replays from the start once");
  }

  @Test
  void replayDeliversRecordedResultsAndFailuresInOrder() {
    // History recorded by a Flaky retry: failure, timer, success. A new run must land on the same
    // next action.
    RetryPolicy policy = RetryPolicy.of(3, Duration.ofSeconds(10));
    Workflows w = retryApp(policy);
    ScriptedExecution run = scripted(w, "Retry");
    assertEquals(
        List.of(new HistoryEvent.TaskScheduled(0, "Flaky", ser("x"))),
        run.start(T0, ser("x")).actions());
    FailureDetails failure =
        FailureDetails.of("java.lang.IllegalStateException", "attempt 1 failed");
    assertEquals(
        List.of(new HistoryEvent.TimerCreated(1, T0.plusSeconds(11))),
        run.step(T0.plusSeconds(1), new HistoryEvent.TaskFailed(0, failure)).actions());
    run.unload();
    StepResult afterTimer =
        run.step(T0.plusSeconds(11), new HistoryEvent.TimerFired(1, T0.plusSeconds(11)));
    assertEquals(
        List.of(new HistoryEvent.TaskScheduled(2, "Flaky", ser("x"))), afterTimer.actions());
    run.unload();
    StepResult done =
        run.step(T0.plusSeconds(12), new HistoryEvent.TaskCompleted(2, ser("ok after 2")));
    assertEquals(new StepResult.Completed(ser("ok after 2")), done.outcome());
    assertEquals(List.of(), done.actions());
  }

  // ---------------------------------------------------------------- scripted: non-determinism

  static Stream<Arguments> changedBankCode() {
    return Stream.of(
        Arguments.of(
            "calls another activity",
            (BankCode) (ctx, amount) -> ctx.call(WITHDRAW, amount).await(),
            List.of(
                "the history says step 0 called activity 'Debit'",
                "the code now called activity 'Withdraw'")),
        Arguments.of(
            "waits on a timer instead",
            (BankCode)
                (ctx, amount) -> {
                  ctx.timer(Duration.ofSeconds(1)).await();
                  return "slept";
                },
            List.of(
                "the history says step 0 called activity 'Debit'", "the code now created a timer")),
        Arguments.of(
            "calls a sub-orchestration instead",
            (BankCode) (ctx, amount) -> ctx.callSubOrchestration(CHILD, "x").await(),
            List.of(
                "the history says step 0 called activity 'Debit'", "sub-orchestration 'Child'")),
        Arguments.of(
            "returns before the recorded call",
            (BankCode) (ctx, amount) -> "nothing to do",
            List.of("the history says step 0 called activity 'Debit'", "completes before it")),
        Arguments.of(
            "calls something first",
            (BankCode)
                (ctx, amount) -> {
                  ctx.call(AUDIT, amount).await();
                  return ctx.call(DEBIT, amount).await();
                },
            List.of(
                "the history says step 0 called activity 'Debit'",
                "the code now called activity 'Audit'")),
        Arguments.of(
            "catches every exception around the changed call",
            (BankCode)
                (ctx, amount) -> {
                  try {
                    return ctx.call(WITHDRAW, amount).await();
                  } catch (RuntimeException e) {
                    return "fallback";
                  }
                },
            List.of(
                "the history says step 0 called activity 'Debit'",
                "the code now called activity 'Withdraw'")));
  }

  @FunctionalInterface
  interface BankCode extends dev.netherite.dsl.Orchestration<Integer, String> {}

  @ParameterizedTest(name = "changed code {0}")
  @MethodSource("changedBankCode")
  void replayWithChangedCodeFailsNamingBothActions(
      String description, BankCode changed, List<String> fragments) {
    ScriptedExecution v1 = scripted(app(), "Bank");
    assertEquals(
        List.of(new HistoryEvent.TaskScheduled(0, "Debit", ser(5))),
        v1.start(T0, ser(5)).actions());
    assertNull(
        v1.step(T0.plusSeconds(1), new HistoryEvent.TaskCompleted(0, ser("debited 5"))).outcome());
    v1.unload();

    Workflows v2 =
        Workflows.builder()
            .orchestration(BANK, changed)
            .orchestration(CHILD, (ctx, s) -> s)
            .build();
    ScriptedExecution deployed = v1.withCode(v2);
    toClose.add(deployed);
    StepResult r =
        deployed.step(T0.plusSeconds(2), new HistoryEvent.EventRaised("confirm", ser("yes")));
    StepResult.Failed failed =
        assertInstanceOf(StepResult.Failed.class, r.outcome(), description + ": " + r);
    assertEquals(
        NonDeterministicOrchestrationException.class.getName(), failed.failure().errorType());
    for (String fragment : fragments) {
      assertTrue(
          failed.failure().message().contains(fragment),
          "'" + fragment + "' not in: " + failed.failure().message());
    }
  }

  @Test
  void changedCodeThatContinuesAsNewFailsInsteadOfHanging() {
    ScriptedExecution v1 = scripted(app(), "Bank");
    v1.start(T0, ser(5));
    v1.step(T0.plusSeconds(1), new HistoryEvent.TaskCompleted(0, ser("debited 5")));
    v1.unload();

    Workflows v2 =
        Workflows.builder()
            .orchestration(
                BANK,
                (ctx, amount) -> {
                  ctx.continueAsNew(amount + 1);
                  return "unreachable";
                })
            .build();
    ScriptedExecution deployed = v1.withCode(v2).stepTimeout(Duration.ofSeconds(2));
    toClose.add(deployed);
    // The recorded call to Debit contradicts the new code; the step must report that, not leave the
    // step unanswered.
    StepResult r =
        deployed.step(T0.plusSeconds(2), new HistoryEvent.EventRaised("confirm", ser("yes")));
    StepResult.Failed failed = assertInstanceOf(StepResult.Failed.class, r.outcome(), r.toString());
    assertTrue(
        failed.failure().message().contains("the history says step 0 called activity 'Debit'"),
        failed.failure().message());
  }

  // ---------------------------------------------------------------- end to end on simulated
  // partitions

  @Test
  void hello5ProducesItsOutputWithTheExpectedHistoryShape() {
    SimulatedPartitions sim = sim(1, app());
    String request = sim.start("hello!0", "Hello5", null);
    sim.settle();

    assertEquals(
        new dev.netherite.engine.partition.ClientResponse.Started("hello!0"),
        sim.response(request));
    InstanceView v = sim.status("hello!0");
    assertEquals(RuntimeStatus.COMPLETED, v.status());
    assertEquals(
        CITIES.stream().map(c -> "Hello " + c + "!").toList(), sim.output("hello!0", STRINGS));
    List<Class<?>> expected = new ArrayList<>();
    expected.add(HistoryEvent.OrchestratorStarted.class);
    expected.add(HistoryEvent.ExecutionStarted.class);
    expected.add(HistoryEvent.TaskScheduled.class);
    for (int i = 0; i < 4; i++) {
      expected.addAll(
          List.of(
              HistoryEvent.OrchestratorStarted.class,
              HistoryEvent.TaskCompleted.class,
              HistoryEvent.TaskScheduled.class));
    }
    expected.addAll(
        List.of(
            HistoryEvent.OrchestratorStarted.class,
            HistoryEvent.TaskCompleted.class,
            HistoryEvent.ExecutionCompleted.class));
    assertEquals(expected, shape(v.history()));
    List<HistoryEvent.TaskScheduled> scheduled =
        ofType(v.history(), HistoryEvent.TaskScheduled.class);
    assertEquals(
        IntStream.range(0, 5).boxed().toList(),
        scheduled.stream().map(HistoryEvent.TaskScheduled::taskId).toList());
    assertEquals(
        CITIES.stream().map(OrchestrationExecutorTest::ser).toList(),
        scheduled.stream().map(HistoryEvent.TaskScheduled::input).toList());
    assertEquals(1, sim.endedCount().get("hello!0"));
  }

  @Test
  void cachedRunTakesEachStepWithoutReplay() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("hello!0", "Hello5", null);
    sim.start("long!0", "LongSequence", 100);
    sim.settle();
    assertEquals(RuntimeStatus.COMPLETED, sim.status("hello!0").status());
    assertEquals(
        IntStream.range(0, 100).map(i -> i * i).sum(), sim.output("long!0", Integer.class));
    assertEquals(
        1, hello5Invocations.get(), "the Hello5 body must be entered once for its 6 steps");
    assertEquals(
        1,
        longSequenceInvocations.get(),
        "the LongSequence body must be entered once for its 101 steps");
    assertEquals(2, sim.loads(), "one load per instance: " + sim.summary());
    assertEquals(6 + 101, sim.stepsRun());
  }

  @Test
  void evictedRunIsReplayedAndStillCorrect() {
    SimulatedPartitions sim = sim(1, app()).cacheCapacity(1);
    sim.start("a!0", "LongSequence", 20);
    sim.start("b!0", "LongSequence", 20);
    sim.settle();
    int expected = IntStream.range(0, 20).map(i -> i * i).sum();
    assertEquals(expected, sim.output("a!0", Integer.class));
    assertEquals(expected, sim.output("b!0", Integer.class));
    assertTrue(
        sim.loads() > 2, "interleaved instances with a cache of one must replay: " + sim.summary());
    assertEquals(sim.loads(), longSequenceInvocations.get(), "each load enters the body once");
    assertEquals(40, sim.activityRuns("Square"), "no activity is scheduled twice by a replay");
  }

  @Test
  void crashInTheMiddleReplaysWithoutDuplicateActions() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("hello!0", "Hello5", null);
    sim.runUntil(() -> sim.activityRuns("SayHello") >= 3, 10_000);
    sim.crash(0);
    sim.settle();
    InstanceView v = sim.status("hello!0");
    assertEquals(
        CITIES.stream().map(c -> "Hello " + c + "!").toList(), sim.output("hello!0", STRINGS));
    assertEquals(
        IntStream.range(0, 5).boxed().toList(),
        ofType(v.history(), HistoryEvent.TaskScheduled.class).stream()
            .map(HistoryEvent.TaskScheduled::taskId)
            .toList());
    assertEquals(5, ofType(v.history(), HistoryEvent.TaskCompleted.class).size());
    assertEquals(2, hello5Invocations.get(), "recovery loads the run once more: " + sim.summary());
    assertEquals(1, sim.endedCount().get("hello!0"));
  }

  @Test
  void fanOutAndFanInOfTwenty() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("fan!0", "FanOut", 20);
    sim.settle();
    assertEquals(IntStream.range(0, 20).map(i -> i * i).sum(), sim.output("fan!0", Integer.class));
    List<HistoryEvent> h = sim.status("fan!0").history();
    // All twenty calls are scheduled by the first step, before any result.
    int secondStep =
        IntStream.range(1, h.size())
            .filter(k -> h.get(k) instanceof HistoryEvent.OrchestratorStarted)
            .findFirst()
            .orElseThrow();
    assertEquals(20, ofType(h.subList(0, secondStep), HistoryEvent.TaskScheduled.class).size());
    assertEquals(20, ofType(h, HistoryEvent.TaskScheduled.class).size());
    assertEquals(
        IntStream.range(0, 20).boxed().toList(),
        ofType(h, HistoryEvent.TaskCompleted.class).stream()
            .map(HistoryEvent.TaskCompleted::taskId)
            .sorted()
            .toList());
    assertEquals(20, sim.activityRuns("Square"));
    assertTrue(ofType(h, HistoryEvent.OrchestratorStarted.class).size() <= 21);
  }

  @Test
  void durableTimerWaitsOnTheClock() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("nap!0", "Nap", 5);
    sim.settle();
    assertEquals(300, sim.output("nap!0", Integer.class));
    List<HistoryEvent> h = sim.status("nap!0").history();
    Instant started = ofType(h, HistoryEvent.OrchestratorStarted.class).get(0).time();
    assertEquals(
        List.of(new HistoryEvent.TimerCreated(0, started.plusSeconds(300))),
        ofType(h, HistoryEvent.TimerCreated.class));
    assertEquals(
        List.of(new HistoryEvent.TimerFired(0, started.plusSeconds(300))),
        ofType(h, HistoryEvent.TimerFired.class));
    assertTrue(!sim.now().isBefore(started.plusSeconds(300)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "no timeout; event arrives,           Approval,       0,  true,  COMPLETED, approved:yes",
    "timeout; event arrives in time,      Approval,       60, true,  COMPLETED, approved:yes",
    "timeout; no event; caught,           Approval,       60, false, COMPLETED, timed out",
    "timeout; no event; not caught,       StrictApproval, 60, false, FAILED,    ",
    "event arrives before the wait,       NapThenWait,    1,  true,  COMPLETED, approved:yes",
  })
  void waitForEvent(
      String description,
      String orchestration,
      int timeout,
      boolean raise,
      RuntimeStatus status,
      String output) {
    SimulatedPartitions sim = sim(1, app());
    sim.start("w!0", orchestration, timeout);
    sim.drain(); // without moving the clock: the instance waits
    assertEquals(RuntimeStatus.RUNNING, sim.status("w!0").status(), description);
    if (raise) {
      sim.raiseEvent("w!0", "approve", "yes");
      sim.drain();
    }
    sim.settle();
    InstanceView v = sim.status("w!0");
    assertEquals(status, v.status(), description + ": " + v);
    if (status == RuntimeStatus.COMPLETED) {
      assertEquals(output, sim.output("w!0", String.class), description);
    } else {
      assertEquals(TaskTimeoutException.class.getName(), v.failure().errorType());
      assertTrue(v.failure().message().contains("approve"), v.failure().message());
    }
    if (timeout > 0 && orchestration.endsWith("Approval")) {
      assertEquals(1, ofType(v.history(), HistoryEvent.TimerCreated.class).size(), description);
    }
    assertNull(sim.state(0).timers().nextDue(), "an ended instance leaves no timer behind");
  }

  @ParameterizedTest(name = "maxAttempts={0}, failures={1}")
  @CsvSource({"3, 2, COMPLETED", "3, 0, COMPLETED", "2, 2, FAILED", "1, 1, FAILED"})
  void retryPolicyRetriesWithDurableTimersBetweenAttempts(
      int maxAttempts, int failures, RuntimeStatus expected) {
    flakyFailures = failures;
    SimulatedPartitions sim = sim(1, retryApp(RetryPolicy.of(maxAttempts, Duration.ofSeconds(10))));
    sim.start("r!0", "Retry", "x");
    sim.settle();
    InstanceView v = sim.status("r!0");
    assertEquals(expected, v.status(), v.toString());
    int attempts = Math.min(maxAttempts, failures + 1);
    assertEquals(attempts, flakyAttempts.get("r!0").get());
    assertEquals(attempts, ofType(v.history(), HistoryEvent.TaskScheduled.class).size());
    assertEquals(attempts - 1, ofType(v.history(), HistoryEvent.TimerFired.class).size());
    assertWaitsBetweenAttempts(
        v.history(), Collections.nCopies(attempts - 1, Duration.ofSeconds(10)));
    if (expected == RuntimeStatus.COMPLETED) {
      assertEquals("ok after " + attempts, sim.output("r!0", String.class));
    } else {
      assertEquals(TaskFailedException.class.getName(), v.failure().errorType());
      assertEquals("attempt " + attempts + " failed", v.failure().cause().message());
    }
  }

  @Test
  void retryPolicyBacksOffUpToItsCap() {
    flakyFailures = 3;
    RetryPolicy policy = new RetryPolicy(4, Duration.ofSeconds(1), 2.0, Duration.ofSeconds(3));
    SimulatedPartitions sim = sim(1, retryApp(policy));
    sim.start("r!0", "Retry", "x");
    sim.settle();
    assertEquals("ok after 4", sim.output("r!0", String.class));
    assertWaitsBetweenAttempts(
        sim.status("r!0").history(),
        List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3)));
  }

  /** Each TimerCreated is due {@code waits[k]} after the start of the step that created it. */
  private static void assertWaitsBetweenAttempts(List<HistoryEvent> history, List<Duration> waits) {
    List<Duration> actual = new ArrayList<>();
    Instant stepTime = null;
    for (HistoryEvent e : history) {
      if (e instanceof HistoryEvent.OrchestratorStarted s) {
        stepTime = s.time();
      } else if (e instanceof HistoryEvent.TimerCreated t) {
        actual.add(Duration.between(stepTime, t.fireAt()));
      }
    }
    assertEquals(waits, actual);
  }

  @ParameterizedTest(name = "preserveUnprocessedEvents={0}")
  @CsvSource({"KeepEvents, COMPLETED", "DropEvents, RUNNING"})
  void continueAsNewCarriesUnconsumedEvents(String orchestration, RuntimeStatus expected) {
    SimulatedPartitions sim = sim(1, app());
    // submitNow applies requests in this order; a step runs as soon as its partition dispatches it.
    sim.submitNow(sim.startRequest("acc!0", orchestration, "", null));
    sim.drain();
    sim.submitNow(new ClientRequest.RaiseEvent("acc!0", "note", ser("n"))); // never consumed
    sim.drain();
    sim.submitNow(
        new ClientRequest.RaiseEvent("acc!0", "add", ser("a"))); // step runs: continueAsNew("a")
    sim.submitNow(
        new ClientRequest.RaiseEvent("acc!0", "add", ser("b"))); // arrive during that step
    sim.submitNow(new ClientRequest.RaiseEvent("acc!0", "add", ser("c")));
    sim.settle();

    InstanceView v = sim.status("acc!0");
    assertEquals(expected, v.status(), v.toString());
    List<HistoryEvent> h = v.history();
    HistoryEvent.ExecutionStarted started = ofType(h, HistoryEvent.ExecutionStarted.class).get(0);
    assertEquals(ser("ab"), started.input());
    assertEquals(v.input(), started.input());
    List<String> events =
        ofType(h, HistoryEvent.EventRaised.class).stream()
            .map(e -> e.name() + "=" + CONVERTER.deserialize(e.input(), String.class))
            .toList();
    if (expected == RuntimeStatus.COMPLETED) {
      assertEquals("abc", sim.output("acc!0", String.class));
      // "c" was left in the step that continued as new, "n" was never consumed: both were carried.
      assertEquals(List.of("note=n", "add=c"), events);
    } else {
      assertEquals(
          List.of(), events, "preserveUnprocessedEvents=false drops what the old execution left");
    }
    assertEquals(
        1,
        ofType(h, HistoryEvent.ExecutionStarted.class).size(),
        "a new execution starts a new history");
  }

  @Test
  void subOrchestrationsOnOtherPartitionsReturnTheirOutputOrFailure() {
    SimulatedPartitions sim = sim(2, app());
    sim.start("parent!0", "Parent", "in");
    sim.settle();
    assertEquals(
        "IN-A,IN-B,java.lang.IllegalStateException: child broke on in",
        sim.output("parent!0", String.class));

    InstanceView child = sim.status("child!1");
    assertEquals(RuntimeStatus.COMPLETED, child.status());
    HistoryEvent.ExecutionStarted childStart =
        ofType(child.history(), HistoryEvent.ExecutionStarted.class).get(0);
    assertEquals("parent!0", childStart.parentInstanceId());
    assertEquals(0, childStart.parentTaskId());
    InstanceView derived = sim.status("parent!0:1");
    assertNotNull(derived, "the derived child id is parent id + ':' + task id");
    assertEquals("IN-B", CONVERTER.deserialize(derived.output(), String.class));
    assertEquals(RuntimeStatus.FAILED, sim.status("broken!1").status());

    List<HistoryEvent> h = sim.status("parent!0").history();
    assertEquals(
        List.of("child!1", "parent!0:1", "broken!1"),
        ofType(h, HistoryEvent.SubOrchestrationCreated.class).stream()
            .map(HistoryEvent.SubOrchestrationCreated::instanceId)
            .toList());
    assertEquals(2, ofType(h, HistoryEvent.SubOrchestrationCompleted.class).size());
    assertEquals(1, ofType(h, HistoryEvent.SubOrchestrationFailed.class).size());
    assertEquals(0, sim.state(0).outbox().unacknowledgedCount());
    assertEquals(0, sim.state(1).outbox().unacknowledgedCount());
  }

  @Test
  void customStatusIsVisibleWhileRunning() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("s!0", "Status", null);
    sim.drain();
    assertEquals(RuntimeStatus.RUNNING, sim.status("s!0").status());
    assertEquals("waiting", sim.customStatus("s!0", String.class));
    sim.raiseEvent("s!0", "go", "v1");
    sim.settle();
    assertEquals("ok", sim.output("s!0", String.class));
    assertEquals(List.of("done", "v1"), sim.customStatus("s!0", STRINGS));
  }

  @Test
  void newUuidIsTheSameOnReplay() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("u!0", "Uuids", null);
    sim.start("v!0", "Uuids", null);
    sim.drain(); // both wait for "go"

    sim.crash(
        0); // everything is durable: the next step of each instance replays its history in a new
    // run
    sim.raiseEvent("u!0", "go", "now");
    sim.raiseEvent("v!0", "go", "now");
    sim.settle();
    assertEquals(
        4, uuidsInvocations.get(), "each instance ran once and replayed once: " + sim.summary());
    for (String id : List.of("u!0", "v!0")) {
      List<List<UUID>> runs = uuidsSeen.get(id);
      assertEquals(2, runs.size(), id);
      assertEquals(
          runs.get(0), runs.get(1), "the replay of " + id + " must compute the same uuids");
      List<String> output = sim.output(id, STRINGS);
      assertEquals(runs.get(0).stream().map(UUID::toString).toList(), output.subList(0, 2));
      assertEquals(3, new HashSet<>(output).size(), "uuids of one execution differ: " + output);
    }
    assertTrue(
        Collections.disjoint(sim.output("u!0", STRINGS), sim.output("v!0", STRINGS)),
        "uuids of two instances differ");
  }

  @Test
  void changedCodeFailsTheInstanceOnReplay() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("bank!0", "Bank", 5);
    sim.drain();
    assertEquals(RuntimeStatus.RUNNING, sim.status("bank!0").status());

    sim.deploy(
        Workflows.builder()
            .activity(WITHDRAW, (ctx, n) -> "withdrew " + n)
            .activity(CREDIT, (ctx, n) -> "credited " + n)
            .orchestration(
                BANK,
                (ctx, amount) -> {
                  String w = ctx.call(WITHDRAW, amount).await();
                  ctx.waitForEvent("confirm", String.class).await();
                  return w + ", " + ctx.call(CREDIT, amount).await();
                })
            .build());
    sim.raiseEvent("bank!0", "confirm", "yes");
    sim.settle();

    InstanceView v = sim.status("bank!0");
    assertEquals(RuntimeStatus.FAILED, v.status());
    assertEquals(NonDeterministicOrchestrationException.class.getName(), v.failure().errorType());
    String message = v.failure().message();
    assertTrue(message.contains("the history says step 0 called activity 'Debit'"), message);
    assertTrue(message.contains("'Withdraw'"), message);
    assertEquals(0, sim.activityRuns("Withdraw"));
    assertEquals(0, sim.activityRuns("Credit"));
  }

  @Test
  void changedCodeThatFailsReplayStartsNoNewWork() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("bank!0", "Bank", 5);
    sim.drain();

    // The new code schedules two calls before it awaits; the first contradicts the history.
    sim.deploy(
        Workflows.builder()
            .activity(AUDIT, (ctx, n) -> "audited " + n)
            .activity(WITHDRAW, (ctx, n) -> "withdrew " + n)
            .orchestration(
                BANK,
                (ctx, amount) -> {
                  Task<String> audit = ctx.call(AUDIT, amount);
                  Task<String> withdraw = ctx.call(WITHDRAW, amount);
                  return audit.await() + withdraw.await();
                })
            .build());
    sim.raiseEvent("bank!0", "confirm", "yes");
    sim.settle();

    InstanceView v = sim.status("bank!0");
    assertEquals(RuntimeStatus.FAILED, v.status());
    assertTrue(
        v.failure().message().contains("the code now called activity 'Audit'"),
        v.failure().message());
    List<String> recorded =
        ofType(v.history(), HistoryEvent.TaskScheduled.class).stream()
            .map(HistoryEvent.TaskScheduled::activityName)
            .toList();
    assertAll(
        () ->
            assertEquals(
                0,
                sim.activityRuns("Withdraw"),
                "a replay that failed must not run the changed code's activities"),
        () ->
            assertEquals(
                List.of("Debit"),
                recorded,
                "a replay that failed must not record the changed code's actions"));
  }

  @Test
  void unknownOrchestrationFailsNamingTheRegisteredOnes() {
    SimulatedPartitions sim = sim(1, app());
    sim.start("x!0", "NoSuchThing", null);
    sim.settle();
    InstanceView v = sim.status("x!0");
    assertEquals(RuntimeStatus.FAILED, v.status());
    assertTrue(v.failure().message().contains("NoSuchThing"), v.failure().message());
    assertTrue(v.failure().message().contains("Hello5"), v.failure().message());
  }

  @Test
  void uncaughtActivityFailureFailsTheInstanceWithTheCause() {
    flakyFailures = 1;
    SimulatedPartitions sim =
        sim(
            1,
            app(Workflows.builder())
                .orchestration(
                    OrchestrationRef.of("OneShot", String.class, String.class),
                    (ctx, s) -> ctx.call(FLAKY, s).await())
                .build());
    sim.start("o!0", "OneShot", "x");
    sim.settle();
    InstanceView v = sim.status("o!0");
    assertEquals(RuntimeStatus.FAILED, v.status());
    assertEquals(TaskFailedException.class.getName(), v.failure().errorType());
    assertEquals(IllegalStateException.class.getName(), v.failure().cause().errorType());
    assertEquals("attempt 1 failed", v.failure().cause().message());
    assertTrue(v.failure().message().contains("'Flaky'"), v.failure().message());
  }
}
