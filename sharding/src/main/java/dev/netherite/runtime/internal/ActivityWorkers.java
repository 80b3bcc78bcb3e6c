package dev.netherite.runtime.internal;

import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.activity.ActivityExecutor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * INTERNAL API
 *
 * <p>Runs the activities of the partitions hosted on this node, at most {@code maxConcurrent} at once; more wait in
 * a queue. Results are handed back to the calling partition as completions.
 *
 * <p>Activities run on platform threads, unlike partitions, orchestration steps and entity operations, which run on
 * the JVM's virtual-thread scheduler (see {@code netherite.partition-dispatcher}). An activity is a plain function
 * and may compute for seconds; on a virtual thread it would hold a carrier thread all that time, since the scheduler
 * does not preempt, and as many such activities as cores would stop every partition of the node, including its
 * journal writes. Platform threads are preempted by the OS. Threads are made as needed up to the bound and end after
 * 30 s idle.
 */
final class ActivityWorkers {
  record Call(String instanceId, int taskId, String activityName, String input) {}

  private final ActivityExecutor executor;
  private final ThreadPoolExecutor threads;

  ActivityWorkers(Workflows workflows, DataConverter converter, int maxConcurrent) {
    this.executor = new ActivityExecutor(workflows, converter);
    this.threads = new ThreadPoolExecutor(
        maxConcurrent, maxConcurrent, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        Thread.ofPlatform().daemon().name("netherite-activity-", 0).factory());
    this.threads.allowCoreThreadTimeOut(true);
  }

  void submit(Call call, Consumer<ActivityExecutor.Outcome> done) {
    threads.execute(() -> done.accept(executor.run(call.instanceId(), call.taskId(), call.activityName(), call.input())));
  }

  /**
   * Stops taking activities (the node is going away): running ones finish undisturbed, queued ones are dropped. Their
   * partitions dispatch them again wherever they recover, as for a crash.
   */
  void shutdown() {
    threads.shutdown();
    threads.getQueue().clear();
  }
}
