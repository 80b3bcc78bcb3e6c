package dev.netherite.engine.host;

import java.time.Duration;

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
 * thread only.
 */
final class CommitLinger {
  private final long maxLingerNanos;
  private final PartitionPorts.Clock clock;
  private final PartitionPorts.Timers timers;
  private int runningWork;
  private long unwrittenSince = -1;
  private boolean wakeUpArmed;

  CommitLinger(Duration maxLinger, PartitionPorts.Clock clock, PartitionPorts.Timers timers) {
    this.maxLingerNanos = maxLinger.toNanos();
    this.clock = clock;
    this.timers = timers;
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
      unwrittenSince = clock.nanoTime();
    }
  }

  /**
   * Whether to hold the write back now; if so, a {@link HostTimer#COMMIT_DUE} wake-up is armed for
   * when the linger runs out.
   */
  boolean holdBack() {
    if (maxLingerNanos <= 0 || runningWork == 0 || unwrittenSince < 0) {
      return false;
    }
    long left = unwrittenSince + maxLingerNanos - clock.nanoTime();
    if (left <= 0) {
      return false;
    }
    if (!wakeUpArmed) {
      wakeUpArmed = true;
      timers.startSingle(HostTimer.COMMIT_DUE, Duration.ofNanos(left));
    }
    return true;
  }

  /** Call when the wake-up armed by {@link #holdBack} arrives. */
  void timerFired() {
    wakeUpArmed = false;
  }

  /** Call when a write is issued: a wake-up still pending is not needed any more. */
  void written() {
    unwrittenSince = -1;
    if (wakeUpArmed) {
      wakeUpArmed = false;
      timers.cancel(HostTimer.COMMIT_DUE);
    }
  }
}
