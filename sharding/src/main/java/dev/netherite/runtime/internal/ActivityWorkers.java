package dev.netherite.runtime.internal;

import dev.netherite.dsl.ActivityOptions;
import dev.netherite.dsl.ActivityThread;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.TaskTimeoutException;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.PayloadLimits;
import dev.netherite.engine.activity.ActivityExecutor;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
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
 *
 * <p>Cancellation: a call is cancelled when its instance ends or moves on ({@link
 * #cancelInstance}), when its partition stops on this node ({@link #cancelPartition}), and when an
 * attempt times out ({@link ActivityOptions}). Its thread is interrupted and {@code
 * ActivityContext.isCancelled()} turns true. A timed-out attempt is reported at once as failed with
 * {@link TaskTimeoutException}, whether or not the code stops: the partition's usual path for a
 * failed call (and the orchestration's retry policy) takes it from there. A call cancelled for its
 * instance or partition reports nothing: the instance no longer waits for it, and a partition
 * dispatches its pending calls again wherever it recovers.
 */
final class ActivityWorkers {
  record Call(int partitionId, String instanceId, int taskId, String activityName, String input) {}

  private final Workflows workflows;
  private final ActivityExecutor executor;
  private final Semaphore permits;
  private final ThreadFactory virtualThreads =
      Thread.ofVirtual().name("netherite-activity-", 0).factory();
  private final ThreadPoolExecutor platformThreads;
  private final RuntimeMetrics metrics = RuntimeMetrics.global();

  /** Arms the timeouts; its tasks only flag a call and interrupt its thread. */
  private final ScheduledThreadPoolExecutor watchdog;

  /**
   * Calls submitted and not yet ended (queued or running), by instance: an instance that ends looks
   * up only its own.
   */
  private final ConcurrentHashMap<String, Set<Running>> calls = new ConcurrentHashMap<>();

  ActivityWorkers(
      Workflows workflows,
      DataConverter converter,
      int maxConcurrent,
      int platformThreadCount,
      PayloadLimits limits) {
    this.workflows = workflows;
    this.executor = new ActivityExecutor(workflows, converter, limits);
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
    this.watchdog =
        new ScheduledThreadPoolExecutor(
            1, Thread.ofPlatform().daemon().name("netherite-activity-timeouts").factory());
    this.watchdog.setRemoveOnCancelPolicy(true);
  }

  void submit(Call call, Consumer<ActivityExecutor.Outcome> done) {
    ActivityOptions options =
        workflows
            .activity(call.activityName())
            .map(Workflows.RegisteredActivity::options)
            .orElse(ActivityOptions.defaults()); // an unknown name fails in the executor
    Running running = new Running(call, options, done);
    calls.compute( // atomic with forget's removal of an emptied set
        call.instanceId(),
        (id, set) -> {
          Set<Running> of = set != null ? set : ConcurrentHashMap.newKeySet();
          of.add(running);
          return of;
        });
    metrics.activityQueued();
    Runnable run =
        () -> {
          try {
            permits.acquire();
          } catch (InterruptedException e) {
            metrics.activityDequeued(false);
            forget(running);
            return; // node shutting down: the partition dispatches the call again after recovery
          }
          metrics.activityDequeued(true);
          try {
            running.run();
          } finally {
            forget(running);
            permits.release();
            metrics.activityEnded();
          }
        };
    if (options.thread() == ActivityThread.PLATFORM) {
      platformThreads.execute(run);
    } else {
      virtualThreads.newThread(run).start();
    }
  }

  private void forget(Running running) {
    calls.computeIfPresent(
        running.call.instanceId(),
        (id, set) -> {
          set.remove(running);
          return set.isEmpty() ? null : set;
        });
  }

  /** Cancels the calls of an instance whose execution ended or was replaced. */
  void cancelInstance(String instanceId) {
    Set<Running> of = calls.get(instanceId);
    if (of != null) {
      of.forEach(r -> r.cancel(false));
    }
  }

  /** Cancels the calls of a partition that stopped on this node. */
  void cancelPartition(int partitionId) {
    for (Set<Running> of : calls.values()) {
      for (Running r : of) {
        if (r.call.partitionId() == partitionId) {
          r.cancel(false);
        }
      }
    }
  }

  /**
   * Stops taking activities (the node is going away): running ones finish undisturbed, queued ones
   * are dropped. Their partitions dispatch them again wherever they recover, as after a crash.
   */
  void shutdown() {
    platformThreads.shutdown();
    platformThreads.getQueue().clear();
    watchdog.shutdownNow();
  }

  /** One call from submission to its end. */
  private final class Running implements ActivityExecutor.Control {
    final Call call;
    private final ActivityOptions options;
    private final Consumer<ActivityExecutor.Outcome> done;
    private final long submittedNanos = System.nanoTime();

    // Guarded by this: the thread while the code runs (null before and after), so that an
    // interrupt never reaches a pooled thread that has moved on to another call.
    private Thread thread;
    private boolean finished;
    private volatile boolean cancelled;
    private boolean reported;
    private volatile long lastBeatNanos;
    private ScheduledFuture<?> startToClose;
    private ScheduledFuture<?> heartbeatCheck;

    Running(Call call, ActivityOptions options, Consumer<ActivityExecutor.Outcome> done) {
      this.call = call;
      this.options = options;
      this.done = done;
    }

    void run() {
      synchronized (this) {
        if (cancelled) {
          return; // cancelled while it waited for a permit
        }
        thread = Thread.currentThread();
        lastBeatNanos = System.nanoTime();
        armTimeouts();
      }
      ActivityExecutor.Outcome outcome;
      try {
        outcome =
            executor.run(call.instanceId(), call.taskId(), call.activityName(), call.input(), this);
      } finally {
        synchronized (this) {
          finished = true;
          thread = null;
          disarmTimeouts();
          Thread.interrupted(); // an interrupt that arrived as the code returned stays here
        }
      }
      report(outcome);
    }

    private void armTimeouts() {
      Duration limit = options.startToCloseTimeout();
      if (limit != null) {
        startToClose =
            watchdog.schedule(
                () -> timedOut("did not finish within " + limit + " (its start-to-close timeout)"),
                limit.toNanos(),
                TimeUnit.NANOSECONDS);
      }
      if (options.heartbeatTimeout() != null) {
        scheduleHeartbeatCheck(options.heartbeatTimeout().toNanos());
      }
    }

    private void scheduleHeartbeatCheck(long delayNanos) {
      heartbeatCheck = watchdog.schedule(this::checkHeartbeat, delayNanos, TimeUnit.NANOSECONDS);
    }

    private synchronized void checkHeartbeat() {
      if (finished || cancelled) {
        return;
      }
      long timeout = options.heartbeatTimeout().toNanos();
      long silent = System.nanoTime() - lastBeatNanos;
      if (silent >= timeout) {
        watchdog.execute(
            () ->
                timedOut(
                    "sent no heartbeat for "
                        + Duration.ofNanos(silent).toMillis()
                        + " ms (its heartbeat timeout is "
                        + options.heartbeatTimeout()
                        + ")"));
      } else {
        scheduleHeartbeatCheck(timeout - silent);
      }
    }

    private void disarmTimeouts() {
      if (startToClose != null) {
        startToClose.cancel(false);
      }
      if (heartbeatCheck != null) {
        heartbeatCheck.cancel(false);
      }
    }

    private void timedOut(String why) {
      if (!cancel(true)) {
        return;
      }
      String message =
          "Activity '"
              + call.activityName()
              + "' (instance "
              + call.instanceId()
              + ", task "
              + call.taskId()
              + ") "
              + why
              + "; the attempt was cancelled and its thread interrupted.";
      metrics.activityLatency(System.nanoTime() - submittedNanos);
      done.accept(
          new ActivityExecutor.Outcome(
              null, FailureDetails.of(TaskTimeoutException.class.getName(), message)));
    }

    /**
     * Cancels the call and interrupts its code if it is running; with {@code takeReport}, claims
     * the right to report the call's end (false when it was reported or cancelled already).
     */
    synchronized boolean cancel(boolean takeReport) {
      if (finished || cancelled) {
        return false;
      }
      cancelled = true;
      reported = true; // a cancelled call reports at most its timeout, never what it returns
      disarmTimeouts();
      if (thread != null) {
        thread.interrupt();
      }
      return takeReport;
    }

    private void report(ActivityExecutor.Outcome outcome) {
      synchronized (this) {
        if (reported) {
          return;
        }
        reported = true;
      }
      metrics.activityLatency(System.nanoTime() - submittedNanos);
      done.accept(outcome);
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public void heartbeat() {
      lastBeatNanos = System.nanoTime();
    }
  }
}
