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
}
