package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A durable timer and a wait for an external event both survive an abrupt restart of the node. */
@Timeout(240)
class DurableWaitsTest {

  @Test
  void aTimerAndAnEventWaitSurviveARestart() {
    String hub = RuntimeTestKit.newTaskHub("waits");
    InstanceId timer = InstanceId.of("timer-1");
    InstanceId event = InstanceId.of("event-1");
    Instant started = Instant.now();
    DurableRuntime first = RuntimeTestKit.start(TestWorkflows.app(), hub);
    first.client().start(TestWorkflows.WAIT_TIMER, 6, StartOptions.defaults().instanceId(timer));
    first.client().start(TestWorkflows.WAIT_EVENT, null, StartOptions.defaults().instanceId(event));
    // Wait until both have taken their first step (the timer is recorded, the event wait is
    // registered).
    awaitHistory(first, timer);
    awaitHistory(first, event);
    RuntimeTestKit.crash(first);

    try (DurableRuntime second = RuntimeTestKit.start(TestWorkflows.app(), hub)) {
      second.client().raiseEvent(event, "Approval", "approved");
      InstanceStatus e = second.client().waitForCompletion(event, Duration.ofSeconds(60));
      assertEquals("got approved", e.output(String.class));
      InstanceStatus t = second.client().waitForCompletion(timer, Duration.ofSeconds(60));
      assertEquals(RuntimeStatus.COMPLETED, t.runtimeStatus());
      assertEquals("timer fired", t.output(String.class));
      assertEquals(
          true, Duration.between(started, Instant.now()).toSeconds() >= 6, "the timer fired early");
    }
  }

  private static void awaitHistory(DurableRuntime runtime, InstanceId id) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (runtime.client().getStatus(id, true).map(s -> s.history().size()).orElse(0) == 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(id + " took no step within 30 s");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException ex) {
        throw new AssertionError(ex);
      }
    }
  }
}
