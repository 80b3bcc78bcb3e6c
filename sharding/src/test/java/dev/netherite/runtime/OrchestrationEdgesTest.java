package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What clients and operators see around continue-as-new and non-determinism: the custom status set
 * just before continue-as-new stays visible, and an instance failing for non-determinism is logged
 * at WARN with its id.
 */
@Timeout(180)
class OrchestrationEdgesTest {
  static final OrchestrationRef<Integer, String> CONTINUE_WITH_STATUS =
      OrchestrationRef.of("ContinueWithStatus", Integer.class, String.class);
  static final OrchestrationRef<Void, String> CHANGES_ITS_MIND =
      OrchestrationRef.of("ChangesItsMind", Void.class, String.class);
  static final ActivityRef<String, String> FIRST =
      ActivityRef.of("First", String.class, String.class);
  static final ActivityRef<String, String> SECOND =
      ActivityRef.of("Second", String.class, String.class);

  /** What ChangesItsMind calls: flipped while an instance waits, so that its replay differs. */
  static volatile boolean changed;

  static final CountDownLatch FIRST_STARTED = new CountDownLatch(1);
  static final CountDownLatch RELEASE_FIRST = new CountDownLatch(1);

  private static DurableRuntime runtime;
  private static DurableClient client;

  @BeforeAll
  static void start() {
    Workflows app =
        TestWorkflows.register(Workflows.builder())
            .orchestration(
                CONTINUE_WITH_STATUS,
                (ctx, round) -> {
                  if (round == 0) {
                    ctx.setCustomStatus("set before continue-as-new");
                    ctx.continueAsNew(1);
                  }
                  return ctx.waitForEvent("go", String.class).await();
                })
            .orchestration(
                CHANGES_ITS_MIND, (ctx, none) -> ctx.call(changed ? SECOND : FIRST, "x").await())
            .activity(
                FIRST,
                (ctx, s) -> {
                  FIRST_STARTED.countDown();
                  RELEASE_FIRST.await();
                  return "first";
                })
            .activity(SECOND, (ctx, s) -> "second")
            .build();
    runtime =
        RuntimeTestKit.start(
            app,
            RuntimeTestKit.newTaskHub("orchestration-edges"),
            // One loaded execution per partition: starting another unloads the first, whose next
            // step then replays its history with the changed code.
            Map.of("netherite.partition-count", 1, "netherite.instance-cache-size", 1),
            DurableRuntime.Options.defaults());
    client = runtime.client();
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void theCustomStatusSetJustBeforeContinueAsNewStaysVisible() throws Exception {
    InstanceId id =
        client.start(
            CONTINUE_WITH_STATUS, 0, StartOptions.defaults().instanceId(InstanceId.of("can-1")));
    // Wait until the second execution runs (its input is 1) and waits for the event.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    InstanceStatus status = client.getStatus(id, true).orElseThrow();
    while (!"1".equals(status.serializedInput()) || status.history().isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "the instance did not continue as new: " + status);
      Thread.sleep(20);
      status = client.getStatus(id, true).orElseThrow();
    }
    assertEquals("set before continue-as-new", status.customStatus(String.class));
    client.raiseEvent(id, "go", "done");
    InstanceStatus done = client.waitForCompletion(id, Duration.ofSeconds(30));
    assertEquals("done", done.output(String.class));
    assertEquals("set before continue-as-new", done.customStatus(String.class));
  }

  @Test
  void anInstanceFailingForNonDeterminismIsLoggedWithItsId() throws Exception {
    try (LogCapture log = new LogCapture()) {
      InstanceId id =
          client.start(
              CHANGES_ITS_MIND, null, StartOptions.defaults().instanceId(InstanceId.of("nd-1")));
      assertTrue(FIRST_STARTED.await(30, TimeUnit.SECONDS));
      // Another instance takes the only cache slot; nd-1's execution is unloaded.
      InstanceId other = client.start(TestWorkflows.WAIT_EVENT, null);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (client.getStatus(other, true).orElseThrow().history().isEmpty()) {
        assertTrue(System.nanoTime() < deadline, "the other instance took no step");
        Thread.sleep(20);
      }
      changed = true;
      RELEASE_FIRST.countDown();
      InstanceStatus failed = client.waitForCompletion(id, Duration.ofSeconds(30));
      assertEquals(RuntimeStatus.FAILED, failed.runtimeStatus());
      assertTrue(failed.failure().message().contains("not deterministic"), failed.toString());
      deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      List<String> lines = log.containing("not deterministic");
      while (lines.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(20);
        lines = log.containing("not deterministic");
      }
      assertEquals(1, lines.size(), lines.toString());
      assertTrue(lines.get(0).startsWith("WARN"), lines.toString());
      assertTrue(lines.get(0).contains("nd-1"), lines.toString());
    }
  }
}
