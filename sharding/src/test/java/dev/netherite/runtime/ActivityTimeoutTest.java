package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityOptions;
import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RetryPolicy;
import dev.netherite.dsl.TaskFailedException;
import dev.netherite.dsl.TaskTimeoutException;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Activity timeouts: an attempt that runs past its start-to-close timeout, or goes silent past its
 * heartbeat timeout, is cancelled (its thread interrupted) and fails; the retry policy retries it,
 * and the orchestration sees a {@link TaskTimeoutException} once the policy is exhausted.
 */
@Timeout(180)
class ActivityTimeoutTest {
  static final ActivityRef<String, String> HANG =
      ActivityRef.of("Hang", String.class, String.class);
  static final ActivityRef<Integer, String> BEAT =
      ActivityRef.of("Beat", Integer.class, String.class);
  static final ActivityRef<String, String> SPIN =
      ActivityRef.of("Spin", String.class, String.class);
  static final OrchestrationRef<Integer, String> CALL_HANG =
      OrchestrationRef.of("CallHang", Integer.class, String.class);
  static final OrchestrationRef<Integer, String> CALL_BEAT =
      OrchestrationRef.of("CallBeat", Integer.class, String.class);
  static final OrchestrationRef<Void, String> CALL_SPIN =
      OrchestrationRef.of("CallSpin", Void.class, String.class);

  static final AtomicInteger HANG_ATTEMPTS = new AtomicInteger();
  static final AtomicInteger HANG_INTERRUPTS = new AtomicInteger();
  static final AtomicInteger SPIN_SAW_CANCELLED = new AtomicInteger();

  private static DurableRuntime runtime;
  private static DurableClient client;

  @BeforeAll
  static void start() {
    Workflows app =
        Workflows.builder()
            .activity(
                HANG,
                (ctx, s) -> {
                  HANG_ATTEMPTS.incrementAndGet();
                  try {
                    Thread.sleep(Duration.ofSeconds(60));
                  } catch (InterruptedException e) {
                    HANG_INTERRUPTS.incrementAndGet();
                    throw e;
                  }
                  return "woke";
                },
                ActivityOptions.defaults().withStartToCloseTimeout(Duration.ofMillis(500)))
            .activity(
                BEAT,
                (ctx, beats) -> {
                  // Runs about 1 s, longer than its heartbeat timeout, beating every 100 ms; then
                  // (when asked for more than 10 beats) goes silent.
                  for (int i = 0; i < beats; i++) {
                    Thread.sleep(100);
                    if (i < 10) {
                      ctx.heartbeat();
                    }
                  }
                  return "beat " + beats;
                },
                ActivityOptions.defaults().withHeartbeatTimeout(Duration.ofMillis(400)))
            .activity(
                SPIN,
                (ctx, s) -> {
                  // Never blocks, so only the cancellation flag can stop it.
                  long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                  while (System.nanoTime() < deadline) {
                    if (ctx.isCancelled()) {
                      SPIN_SAW_CANCELLED.incrementAndGet();
                      return "stopped";
                    }
                    Thread.onSpinWait();
                  }
                  return "spun";
                },
                ActivityOptions.defaults()
                    .withStartToCloseTimeout(Duration.ofMillis(300))
                    .withThread(dev.netherite.dsl.ActivityThread.PLATFORM))
            .orchestration(
                CALL_HANG,
                (ctx, attempts) -> {
                  try {
                    return attempts == 1
                        ? ctx.call(HANG, "x").await()
                        : ctx.call(HANG, "x", RetryPolicy.of(attempts, Duration.ofMillis(100)))
                            .await();
                  } catch (TaskTimeoutException e) {
                    return "timed out: " + e.getMessage();
                  } catch (TaskFailedException e) {
                    return "failed: " + e.getMessage();
                  }
                })
            .orchestration(
                CALL_BEAT,
                (ctx, beats) -> {
                  try {
                    return ctx.call(BEAT, beats).await();
                  } catch (TaskTimeoutException e) {
                    return "timed out: " + e.getMessage();
                  }
                })
            .orchestration(
                CALL_SPIN,
                (ctx, none) -> {
                  try {
                    return ctx.call(SPIN, "s").await();
                  } catch (TaskTimeoutException e) {
                    return "timed out";
                  }
                })
            .build();
    runtime =
        RuntimeTestKit.start(
            app,
            RuntimeTestKit.newTaskHub("timeouts"),
            Map.of("netherite.partition-count", 2),
            DurableRuntime.Options.defaults());
    client = runtime.client();
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void aTimedOutAttemptIsRetriedAndTheLastOneFailsWithTaskTimeoutException() {
    HANG_ATTEMPTS.set(0);
    HANG_INTERRUPTS.set(0);
    long started = System.nanoTime();
    InstanceId id = client.start(CALL_HANG, 3);
    String output = client.waitForCompletion(id, Duration.ofSeconds(30)).output(String.class);
    long ms = (System.nanoTime() - started) / 1_000_000;
    assertTrue(output.startsWith("timed out: "), output);
    assertTrue(output.contains("start-to-close timeout"), output);
    assertTrue(output.contains("Hang"), output);
    assertEquals(3, HANG_ATTEMPTS.get());
    assertTrue(ms < 20_000, "three 0.5 s attempts took " + ms + " ms");
    awaitCount(HANG_INTERRUPTS, 3);

    InstanceId once = client.start(CALL_HANG, 1);
    String single = client.waitForCompletion(once, Duration.ofSeconds(30)).output(String.class);
    assertTrue(single.startsWith("timed out: "), single);
  }

  @Test
  void heartbeatsKeepALongAttemptAliveAndSilenceTimesItOut() {
    InstanceId beating = client.start(CALL_BEAT, 10);
    assertEquals(
        "beat 10", client.waitForCompletion(beating, Duration.ofSeconds(30)).output(String.class));
    InstanceId silent = client.start(CALL_BEAT, 30);
    String output = client.waitForCompletion(silent, Duration.ofSeconds(30)).output(String.class);
    assertTrue(output.startsWith("timed out: "), output);
    assertTrue(output.contains("heartbeat"), output);
  }

  @Test
  void codeThatNeverBlocksSeesTheCancellation() {
    SPIN_SAW_CANCELLED.set(0);
    InstanceId id = client.start(CALL_SPIN, null);
    assertEquals(
        "timed out", client.waitForCompletion(id, Duration.ofSeconds(30)).output(String.class));
    awaitCount(SPIN_SAW_CANCELLED, 1);
  }

  private static void awaitCount(AtomicInteger counter, int expected) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (counter.get() < expected) {
      assertTrue(System.nanoTime() < deadline, "count " + counter.get() + " < " + expected);
      Thread.onSpinWait();
    }
  }
}
