package dev.netherite.runtime.internal;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * INTERNAL API
 *
 * <p>When a pipelined partition should hold its next journal write back a little: while local work
 * that it started (an orchestration step, an activity) is still running, and for at most {@code
 * maxLinger} after the oldest unwritten event. That work usually comes back within a millisecond
 * with more events for the same write, so a short orchestration (Hello5: 12 events) is written once
 * instead of twice, and its client, which waits for durability anyway, gets its answers one write
 * earlier. Nothing that waits on durability waits longer than {@code maxLinger} for it, and a
 * partition with nothing running locally writes at once.
 *
 * <p>The count of running work is an estimate kept by the host (started minus reported); a step or
 * activity that never reports costs at most {@code maxLinger} per write, never a stuck log. Host
 * thread only, except the timer.
 */
final class CommitLinger {
  // One precise timer thread for the node: Pekko's scheduler ticks every 10 ms, too coarse for a
  // 1-3 ms linger.
  private static final ScheduledExecutorService TIMER = newTimer();

  private final long maxLingerNanos;
  private final Runnable wake;
  private int runningWork;
  private long unwrittenSince = -1;
  private ScheduledFuture<?> timer;

  private static ScheduledExecutorService newTimer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "netherite-commit-linger");
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  /** {@code wake} is called from the timer thread; it must only send the host a message. */
  CommitLinger(Duration maxLinger, Runnable wake) {
    this.maxLingerNanos = maxLinger.toNanos();
    this.wake = wake;
  }

  void workStarted() {
    runningWork++;
  }

  void workReported() {
    if (runningWork > 0) {
      runningWork--;
    }
  }

  /** Call before deciding on a write: notes when the buffer became non-empty. */
  void observe(boolean bufferEmpty) {
    if (bufferEmpty) {
      unwrittenSince = -1;
    } else if (unwrittenSince < 0) {
      unwrittenSince = System.nanoTime();
    }
  }

  /** Whether to hold the write back now; if so, a wake-up is armed for when the linger runs out. */
  boolean holdBack() {
    if (maxLingerNanos <= 0 || runningWork == 0 || unwrittenSince < 0) {
      return false;
    }
    long left = unwrittenSince + maxLingerNanos - System.nanoTime();
    if (left <= 0) {
      return false;
    }
    if (timer == null) {
      timer = TIMER.schedule(wake, left, TimeUnit.NANOSECONDS);
    }
    return true;
  }

  /** Call when the wake-up armed by {@link #holdBack} arrives. */
  void timerFired() {
    timer = null;
  }

  /**
   * Call when a write is issued: a wake-up still pending is not needed any more (it would only cost
   * a hop).
   */
  void written() {
    unwrittenSince = -1;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
