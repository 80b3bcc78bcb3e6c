package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ActorSystem is terminated abruptly (no coordinated shutdown, no hand-over, no final
 * checkpoint) while 200 Hello5 instances run; a new one on the same Cassandra recovers the
 * partitions from their commit logs.
 */
@Timeout(300)
class CrashRecoveryTest {

  /** Settings of the runtimes; a subclass runs the test in another persistence mode. */
  Map<String, Object> settings() {
    return Map.of();
  }

  @Test
  void everyInstanceCompletesExactlyOnceAfterAnAbruptStop() throws Exception {
    String hub = RuntimeTestKit.newTaskHub("crash");
    int count = 200;
    List<InstanceId> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(InstanceId.of("hello-" + i));
    }
    // Every instance stops at its third call, so the crash comes while all of them are mid-run: the
    // engine answers a
    // start (after a write of at most commit-log.max-linger) long before Hello5 would otherwise be
    // done.
    var gate = new CountDownLatch(1);
    TestWorkflows.londonGate = gate;
    int runsBefore = TestWorkflows.SAY_HELLO_RUNS.get();
    DurableRuntime first =
        RuntimeTestKit.start(
            TestWorkflows.app(), hub, settings(), DurableRuntime.Options.defaults());
    try (var starters = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<InstanceId>> started = new ArrayList<>();
      for (InstanceId id : ids) {
        started.add(
            starters.submit(
                () -> first.client().start(HELLO5, null, StartOptions.defaults().instanceId(id))));
      }
      for (Future<InstanceId> f : started) {
        f.get();
      }
    }
    int runsBeforeCrash = TestWorkflows.SAY_HELLO_RUNS.get() - runsBefore;
    try {
      RuntimeTestKit.crash(first);
    } finally {
      TestWorkflows.londonGate = null;
      gate.countDown(); // the first runtime's held calls finish into the void
    }
    assertTrue(
        runsBeforeCrash < count * 5,
        "the crash should come while work is pending, ran " + runsBeforeCrash);

    try (DurableRuntime second =
        RuntimeTestKit.start(
            TestWorkflows.app(), hub, settings(), DurableRuntime.Options.defaults())) {
      for (InstanceId id : ids) {
        InstanceStatus done = second.client().waitForCompletion(id, Duration.ofSeconds(120));
        assertEquals(
            RuntimeStatus.COMPLETED,
            done.runtimeStatus(),
            () -> id + " failure: " + done.failure());
        assertEquals(HELLO5_OUTPUT, done.output(List.class), id.value());
        List<HistoryEvent> history = second.client().getStatus(id, true).orElseThrow().history();
        // Exactly once: each of the five calls scheduled once and completed once, one completion of
        // the instance.
        assertEquals(
            5,
            history.stream().filter(e -> e instanceof HistoryEvent.TaskScheduled).count(),
            id.value());
        assertEquals(
            5,
            history.stream().filter(e -> e instanceof HistoryEvent.TaskCompleted).count(),
            id.value());
        assertEquals(
            1,
            history.stream().filter(e -> e instanceof HistoryEvent.ExecutionStarted).count(),
            id.value());
        assertEquals(
            1,
            history.stream().filter(e -> e instanceof HistoryEvent.ExecutionCompleted).count(),
            id.value());
      }
    }
  }
}
