package dev.netherite.dsl;

/**
 * A wait with a timeout (for example {@link OrchestrationContext#waitForEvent(String, Class,
 * java.time.Duration)}) timed out.
 */
public class TaskTimeoutException extends RuntimeException {
  public TaskTimeoutException(String message) {
    super(message, null, false, false);
  }
}
