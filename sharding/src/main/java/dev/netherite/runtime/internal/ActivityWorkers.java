package dev.netherite.runtime.internal;

import dev.netherite.dsl.ActivityThread;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.activity.ActivityExecutor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * INTERNAL API
 *
 * <p>Runs the activities of the partitions hosted on this node, at most {@code maxConcurrent} at
 * once. Results are handed back to the calling partition as completions.
 *
 * <p>An activity runs on a virtual thread, on the carriers the partitions run on too, so a call and
 * its result cross no thread pool (docs/ARCHITECTURE.md, "Threads"). One registered with {@link
 * ActivityThread#PLATFORM} runs on a fixed pool of platform threads instead, which the OS preempts:
 * a long computation there cannot hold the partitions' carriers.
 */
final class ActivityWorkers {
  record Call(String instanceId, int taskId, String activityName, String input) {}

  private final Workflows workflows;
  private final ActivityExecutor executor;
  private final Semaphore permits;
  private final ThreadFactory virtualThreads =
      Thread.ofVirtual().name("netherite-activity-", 0).factory();
  private final ThreadPoolExecutor platformThreads;

  ActivityWorkers(
      Workflows workflows, DataConverter converter, int maxConcurrent, int platformThreadCount) {
    this.workflows = workflows;
    this.executor = new ActivityExecutor(workflows, converter);
    this.permits = new Semaphore(maxConcurrent);
    this.platformThreads =
        new ThreadPoolExecutor(
            platformThreadCount,
            platformThreadCount,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            Thread.ofPlatform().daemon().name("netherite-activity-platform-", 0).factory());
    this.platformThreads.allowCoreThreadTimeOut(true);
  }

  void submit(Call call, Consumer<ActivityExecutor.Outcome> done) {
    Runnable run =
        () -> {
          try {
            permits.acquire();
          } catch (InterruptedException e) {
            return; // node shutting down: the partition dispatches the call again after recovery
          }
          try {
            done.accept(
                executor.run(call.instanceId(), call.taskId(), call.activityName(), call.input()));
          } finally {
            permits.release();
          }
        };
    boolean platform =
        workflows
            .activity(call.activityName())
            .map(a -> a.thread() == ActivityThread.PLATFORM)
            .orElse(false); // an unknown name fails in the executor, on a virtual thread
    if (platform) {
      platformThreads.execute(run);
    } else {
      virtualThreads.newThread(run).start();
    }
  }

  /**
   * Stops taking activities (the node is going away): running ones finish undisturbed, queued ones
   * are dropped. Their partitions dispatch them again wherever they recover, as after a crash.
   */
  void shutdown() {
    platformThreads.shutdown();
    platformThreads.getQueue().clear();
  }
}
