package dev.netherite.dsl;

import java.time.Duration;

/**
 * How an activity runs, chosen when it is registered ({@link
 * Workflows.Builder#activity(ActivityRef, Activity, ActivityOptions)}); the same for every call, so
 * the history records nothing of it.
 *
 * <p>A timeout ends one attempt: the call fails with a {@link TaskTimeoutException} at once (its
 * thread is interrupted, and whatever it returns later is dropped), and the orchestration sees that
 * exception from {@link Task#await()}. With a {@link RetryPolicy} ({@link
 * OrchestrationContext#call(ActivityRef, Object, RetryPolicy)}) each attempt has the full timeout,
 * and the {@link TaskTimeoutException} reaches the orchestration when the last attempt times out.
 * Timeouts are measured on the node that runs the call, from the moment it starts running (time
 * waiting for a free slot of {@code netherite.activities.max-concurrent} does not count).
 *
 * @param thread the kind of thread the activity runs on
 * @param startToCloseTimeout the longest one attempt may run, or {@code null} for no limit
 * @param heartbeatTimeout the longest an attempt may go without calling {@link
 *     ActivityContext#heartbeat()}, or {@code null} for no heartbeat check
 */
public record ActivityOptions(
    ActivityThread thread, Duration startToCloseTimeout, Duration heartbeatTimeout) {
  public ActivityOptions {
    if (thread == null) {
      throw new IllegalArgumentException("An activity's options need a thread kind; got null.");
    }
    requirePositive("start-to-close timeout", startToCloseTimeout);
    requirePositive("heartbeat timeout", heartbeatTimeout);
  }

  /** A virtual thread, no timeouts. */
  public static ActivityOptions defaults() {
    return new ActivityOptions(ActivityThread.VIRTUAL, null, null);
  }

  public ActivityOptions withThread(ActivityThread kind) {
    return new ActivityOptions(kind, startToCloseTimeout, heartbeatTimeout);
  }

  public ActivityOptions withStartToCloseTimeout(Duration timeout) {
    return new ActivityOptions(thread, timeout, heartbeatTimeout);
  }

  public ActivityOptions withHeartbeatTimeout(Duration timeout) {
    return new ActivityOptions(thread, startToCloseTimeout, timeout);
  }

  private static void requirePositive(String what, Duration d) {
    if (d != null && (d.isNegative() || d.isZero())) {
      throw new IllegalArgumentException(
          "An activity's " + what + " must be positive (or null for none); got " + d + ".");
    }
  }
}
