package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.FAN_OUT;
import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceAlreadyExistsException;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hello5, fan-out/fan-in and bad input on one node with partitions persisting to a real Cassandra.
 */
@Timeout(180)
class Hello5Test {
  private static DurableRuntime runtime;

  @BeforeAll
  static void start() {
    runtime = RuntimeTestKit.start(TestWorkflows.app(), RuntimeTestKit.newTaskHub("hello5"));
  }

  @AfterAll
  static void stop() {
    if (runtime != null) {
      runtime.close();
    }
  }

  @Test
  void hello5CompletesWithTheGreetingsInOrder() {
    InstanceId id = runtime.client().start(HELLO5, null);
    InstanceStatus done = runtime.client().waitForCompletion(id, Duration.ofSeconds(60));
    assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> "failure: " + done.failure());
    assertEquals(HELLO5_OUTPUT, done.output(List.class));

    List<HistoryEvent> history = runtime.client().getStatus(id, true).orElseThrow().history();
    assertEquals(5, history.stream().filter(e -> e instanceof HistoryEvent.TaskScheduled).count());
    assertEquals(5, history.stream().filter(e -> e instanceof HistoryEvent.TaskCompleted).count());
    assertTrue(history.getLast() instanceof HistoryEvent.ExecutionCompleted);
  }

  @Test
  void fanOutOfTwentyActivitiesSumsTheirResults() {
    InstanceId id = runtime.client().start(FAN_OUT, 20);
    InstanceStatus done = runtime.client().waitForCompletion(id, Duration.ofSeconds(60));
    assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> "failure: " + done.failure());
    assertEquals(20 * 21 * 41 / 6, done.output(Integer.class)); // sum of squares 1..20
  }

  @Test
  void anUnknownOrchestrationNameFailsTheStartWithTheRegisteredNames() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> runtime.client().start("Helo5", null, StartOptions.defaults()));
    assertTrue(
        e.getMessage().contains("No orchestration named 'Helo5' is registered"), e.getMessage());
    assertTrue(e.getMessage().contains("Hello5"), e.getMessage());
    // The partitions keep serving.
    InstanceId id = runtime.client().start(HELLO5, null);
    assertEquals(
        RuntimeStatus.COMPLETED,
        runtime.client().waitForCompletion(id, Duration.ofSeconds(60)).runtimeStatus());
  }

  @Test
  void anInputOfTheWrongTypeFailsTheStartWithAClearMessage() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> runtime.client().start("FanOut", "twenty", StartOptions.defaults()));
    assertTrue(e.getMessage().contains("takes input of type java.lang.Integer"), e.getMessage());
    assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
    InstanceId id = runtime.client().start(FAN_OUT, 3);
    assertEquals(
        14, runtime.client().waitForCompletion(id, Duration.ofSeconds(60)).output(Integer.class));
  }

  @Test
  void aSecondStartWithTheIdOfARunningInstanceIsRefused() {
    InstanceId id =
        runtime
            .client()
            .start(
                TestWorkflows.WAIT_EVENT,
                null,
                StartOptions.withInstanceId("dup-" + System.nanoTime()));
    InstanceAlreadyExistsException e =
        assertThrows(
            InstanceAlreadyExistsException.class,
            () ->
                runtime
                    .client()
                    .start(TestWorkflows.WAIT_EVENT, null, StartOptions.defaults().instanceId(id)));
    assertTrue(e.getMessage().contains("already exists with status RUNNING"), e.getMessage());
    runtime.client().raiseEvent(id, "Approval", "yes");
    assertEquals(
        "got yes",
        runtime.client().waitForCompletion(id, Duration.ofSeconds(60)).output(String.class));
  }
}
