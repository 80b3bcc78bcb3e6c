package dev.netherite.dsl;

/**
 * A wait with a timeout (for example {@link OrchestrationContext#waitForEvent(String, Class,
 * java.time.Duration)}) timed out, or an activity call ran past a timeout of its {@link
 * ActivityOptions} (after the last attempt its retry policy allows).
 */
public class TaskTimeoutException extends RuntimeException {
  public TaskTimeoutException(String message) {
    super(message, null, false, false);
  }
}
