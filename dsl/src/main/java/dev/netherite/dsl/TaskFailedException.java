package dev.netherite.dsl;

/**
 * An activity or sub-orchestration that an orchestration awaited has failed; the failure is as
 * recorded.
 */
public class TaskFailedException extends RuntimeException {
  private final String taskName;
  private final int taskId;
  private final FailureDetails failure;

  public TaskFailedException(String taskName, int taskId, FailureDetails failure) {
    super("Task '" + taskName + "' (id " + taskId + ") failed: " + failure, null, false, false);
    this.taskName = taskName;
    this.taskId = taskId;
    this.failure = failure;
  }

  public String taskName() {
    return taskName;
  }

  public int taskId() {
    return taskId;
  }

  public FailureDetails failure() {
    return failure;
  }
}
