package dev.netherite.runtime.internal;

import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.activity.ActivityExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * INTERNAL API
 *
 * <p>Runs the activities of the partitions hosted on this node, each on a virtual thread, at most {@code
 * maxConcurrent} at once. Results are handed back to the calling partition as completions.
 */
final class ActivityWorkers {
  record Call(String instanceId, int taskId, String activityName, String input) {}

  private final ActivityExecutor executor;
  private final Semaphore permits;
  private final ThreadFactory threads = Thread.ofVirtual().name("netherite-activity-", 0).factory();

  ActivityWorkers(Workflows workflows, DataConverter converter, int maxConcurrent) {
    this.executor = new ActivityExecutor(workflows, converter);
    this.permits = new Semaphore(maxConcurrent);
  }

  void submit(Call call, Consumer<ActivityExecutor.Outcome> done) {
    threads.newThread(() -> {
      try {
        permits.acquire();
      } catch (InterruptedException e) {
        return; // node shutting down: the partition re-dispatches the call after recovery
      }
      try {
        done.accept(executor.run(call.instanceId(), call.taskId(), call.activityName(), call.input()));
      } finally {
        permits.release();
      }
    }).start();
  }
}
