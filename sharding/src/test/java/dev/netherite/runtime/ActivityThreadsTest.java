package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.ActivityThread;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Activities run on virtual threads unless registered with {@link ActivityThread#PLATFORM};
 * platform ones computing on every core do not stop the partitions, which run on virtual threads.
 */
@Timeout(180)
class ActivityThreadsTest {
  private static final ActivityRef<Void, Boolean> IS_VIRTUAL =
      ActivityRef.of("IsVirtual", Void.class, Boolean.class);
  private static final ActivityRef<Void, Boolean> IS_VIRTUAL_PLATFORM =
      ActivityRef.of("IsVirtualPlatform", Void.class, Boolean.class);
  private static final ActivityRef<Integer, Integer> SPIN =
      ActivityRef.of("Spin", Integer.class, Integer.class);
  private static final OrchestrationRef<Void, List> THREAD_KINDS =
      OrchestrationRef.of("ThreadKinds", Void.class, List.class);
  private static final OrchestrationRef<Integer, Integer> SPINNERS =
      OrchestrationRef.of("Spinners", Integer.class, Integer.class);

  private static final AtomicInteger spinning = new AtomicInteger();
  private static final AtomicBoolean release = new AtomicBoolean();
  private static final AtomicBoolean spinTimedOut = new AtomicBoolean();

  private static Workflows app() {
    Workflows.Builder b =
        Workflows.builder()
            .activity(IS_VIRTUAL, (ctx, in) -> Thread.currentThread().isVirtual())
            .activity(
                IS_VIRTUAL_PLATFORM,
                (ctx, in) -> Thread.currentThread().isVirtual(),
                ActivityThread.PLATFORM)
            .activity(
                SPIN,
                (ctx, n) -> {
                  // Computes without blocking until released (or 60 s): holds its thread the whole
                  // time.
                  spinning.incrementAndGet();
                  long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                  long x = n;
                  while (!release.get()) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                    if (System.nanoTime() > deadline) {
                      spinTimedOut.set(true);
                      break;
                    }
                  }
                  return (int) (x & 1) + n;
                },
                ActivityThread.PLATFORM)
            .orchestration(
                THREAD_KINDS,
                (ctx, in) ->
                    List.of(
                        ctx.call(IS_VIRTUAL, null).await(),
                        ctx.call(IS_VIRTUAL_PLATFORM, null).await()))
            .orchestration(
                SPINNERS,
                (ctx, n) -> {
                  List<Task<Integer>> calls = new ArrayList<>();
                  for (int i = 0; i < n; i++) {
                    calls.add(ctx.call(SPIN, i));
                  }
                  return Task.allOf(calls).await().size();
                });
    return TestWorkflows.register(b).build();
  }

  @Test
  void anActivityRunsOnTheKindOfThreadItWasRegisteredWith() {
    try (DurableRuntime runtime =
        RuntimeTestKit.start(app(), RuntimeTestKit.newTaskHub("threads"))) {
      InstanceId id = runtime.client().start(THREAD_KINDS, null);
      assertEquals(
          List.of(true, false),
          runtime.client().waitForCompletion(id, Duration.ofSeconds(60)).output(List.class));
    }
  }

  @Test
  void platformActivitiesComputingOnEveryCoreDoNotStopThePartitions() throws Exception {
    int cores =
        Runtime.getRuntime()
            .availableProcessors(); // = the platform pool and the virtual-thread carriers
    try (DurableRuntime runtime = RuntimeTestKit.start(app(), RuntimeTestKit.newTaskHub("spin"))) {
      release.set(false);
      spinning.set(0);
      InstanceId spinners = runtime.client().start(SPINNERS, cores);
      long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (spinning.get() < cores && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertEquals(cores, spinning.get(), "every core should be computing an activity");
      try {
        InstanceId hello = runtime.client().start(HELLO5, null);
        assertEquals(
            HELLO5_OUTPUT,
            runtime.client().waitForCompletion(hello, Duration.ofSeconds(30)).output(List.class));
        assertTrue(
            spinning.get() == cores && !release.get(),
            "Hello5 completed while the spinners still computed");
      } finally {
        release.set(true);
      }
      assertEquals(
          cores,
          runtime
              .client()
              .waitForCompletion(spinners, Duration.ofSeconds(60))
              .output(Integer.class));
      assertFalse(spinTimedOut.get(), "a spinner ran into its 60 s limit");
    }
  }
}
