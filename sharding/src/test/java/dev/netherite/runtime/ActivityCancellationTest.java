package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.PoisonPill;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An activity's thread is interrupted when the engine no longer waits for it: its instance was
 * terminated, or its partition stopped on this node (it runs again where the partition recovers).
 */
@Timeout(180)
class ActivityCancellationTest {
  static final ActivityRef<String, String> BLOCK =
      ActivityRef.of("Block", String.class, String.class);
  static final OrchestrationRef<String, String> CALL_BLOCK =
      OrchestrationRef.of("CallBlock", String.class, String.class);

  /** Per input: counted down when the activity starts, and when its thread is interrupted. */
  static final Map<String, CountDownLatch> STARTED = new ConcurrentHashMap<>();

  static final Map<String, CountDownLatch> INTERRUPTED = new ConcurrentHashMap<>();

  /** Inputs whose activity returns at once instead of blocking. */
  static final Map<String, Boolean> RELEASED = new ConcurrentHashMap<>();

  private static DurableRuntime runtime;
  private static DurableClient client;

  @BeforeAll
  static void start() {
    Workflows app =
        Workflows.builder()
            .activity(
                BLOCK,
                (ctx, key) -> {
                  STARTED.get(key).countDown();
                  if (RELEASED.containsKey(key)) {
                    return "released";
                  }
                  try {
                    Thread.sleep(Duration.ofSeconds(120));
                    return "slept";
                  } catch (InterruptedException e) {
                    INTERRUPTED.get(key).countDown();
                    throw e;
                  }
                })
            .orchestration(CALL_BLOCK, (ctx, key) -> ctx.call(BLOCK, key).await())
            .build();
    runtime =
        RuntimeTestKit.start(
            app,
            RuntimeTestKit.newTaskHub("cancel"),
            Map.of("netherite.partition-count", 1),
            DurableRuntime.Options.defaults());
    client = runtime.client();
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void terminatingAnInstanceInterruptsItsActivity() throws Exception {
    String key = "terminate";
    STARTED.put(key, new CountDownLatch(1));
    INTERRUPTED.put(key, new CountDownLatch(1));
    InstanceId id = client.start(CALL_BLOCK, key);
    assertTrue(STARTED.get(key).await(30, TimeUnit.SECONDS), "the activity did not start");
    client.terminate(id, "enough");
    assertTrue(
        INTERRUPTED.get(key).await(10, TimeUnit.SECONDS),
        "the activity's thread was not interrupted after terminate");
    InstanceStatus status = client.waitForCompletion(id, Duration.ofSeconds(10));
    assertEquals(RuntimeStatus.TERMINATED, status.runtimeStatus());
  }

  @Test
  void aPartitionThatStopsInterruptsItsActivitiesAndRunsThemAgainAfterRecovery() throws Exception {
    String key = "partition-stop";
    STARTED.put(key, new CountDownLatch(1));
    INTERRUPTED.put(key, new CountDownLatch(1));
    InstanceId id = client.start(CALL_BLOCK, key);
    assertTrue(STARTED.get(key).await(30, TimeUnit.SECONDS), "the activity did not start");
    STARTED.put(key, new CountDownLatch(1));
    RELEASED.put(key, true); // the next execution returns at once
    runtime
        .system()
        .classicSystem()
        .actorSelection("/system/sharding/partition/*/0/log")
        .tell(PoisonPill.getInstance(), org.apache.pekko.actor.ActorRef.noSender());
    assertTrue(
        INTERRUPTED.get(key).await(10, TimeUnit.SECONDS),
        "the activity's thread was not interrupted when its partition stopped");
    assertTrue(
        STARTED.get(key).await(30, TimeUnit.SECONDS),
        "the activity was not dispatched again after the partition recovered");
    assertEquals(
        "released", client.waitForCompletion(id, Duration.ofSeconds(30)).output(String.class));
  }
}
