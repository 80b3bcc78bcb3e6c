package dev.netherite.dsl;

/**
 * The kind of thread an activity runs on, chosen when it is registered ({@link
 * Workflows.Builder#activity(ActivityRef, Activity, ActivityThread)}).
 */
public enum ActivityThread {
  /**
   * The default: a virtual thread, cheap to start and to block (I/O, waiting on other services), on
   * the same carrier threads as the node's partitions, so handing the call over and its result back
   * costs little. A virtual thread is never preempted: while it computes without blocking it keeps
   * its carrier.
   */
  VIRTUAL,

  /**
   * A thread of the node's platform-thread pool ({@code netherite.activities.platform-threads}),
   * preempted by the operating system. For activities that compute for long without blocking: on a
   * virtual thread, as many of them as the node has cores would hold every carrier, and the node's
   * partitions would pause until they finish.
   */
  PLATFORM
}
