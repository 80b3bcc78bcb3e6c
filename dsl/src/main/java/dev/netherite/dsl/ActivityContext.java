package dev.netherite.dsl;

/** What an activity knows about the call it serves. */
public interface ActivityContext {
  /** The orchestration instance that called this activity. */
  InstanceId instanceId();

  /** The registered name of this activity. */
  String activityName();

  /**
   * The call's position in the calling orchestration's history; stable across re-executions of the
   * call.
   */
  int taskId();

  /**
   * Whether the engine has given up on this call: the calling instance ended (terminated,
   * completed, continued as new), the call ran past its {@linkplain
   * ActivityOptions#startToCloseTimeout() timeout} or missed its {@linkplain
   * ActivityOptions#heartbeatTimeout() heartbeat}, or its partition stopped on this node. The
   * engine also interrupts the activity's thread then, so blocking calls end with an {@link
   * InterruptedException}; code that computes for long should look at this now and then and return.
   * Whatever a cancelled call returns is dropped.
   */
  boolean isCancelled();

  /**
   * Tells the engine that the call is alive: an activity registered with a {@linkplain
   * ActivityOptions#heartbeatTimeout() heartbeat timeout} must call it at least that often, or its
   * attempt times out.
   */
  void heartbeat();
}
