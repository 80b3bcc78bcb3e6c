package dev.netherite.dsl;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * A recorded failure: the exception's type, message and stack trace, as text, so that it survives
 * serialization and code changes.
 *
 * @param errorType the fully qualified class name of the exception
 * @param message the exception's message, possibly {@code null}
 * @param stackTrace the stack trace, cut to a few kilobytes
 * @param cause the cause, possibly {@code null}
 */
public record FailureDetails(
    String errorType, String message, String stackTrace, FailureDetails cause) {
  private static final int MAX_STACK_TRACE = 4096;
  private static final int MAX_CAUSE_DEPTH = 4;

  public static FailureDetails of(Throwable t) {
    return of(t, 0);
  }

  public static FailureDetails of(String errorType, String message) {
    return new FailureDetails(errorType, message, null, null);
  }

  private static FailureDetails of(Throwable t, int depth) {
    if (t instanceof TaskFailedException tf && depth == 0) {
      // Re-thrown task failures keep the original failure as their cause.
      return new FailureDetails(
          t.getClass().getName(), t.getMessage(), stackTraceOf(t), tf.failure());
    }
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    FailureDetails cause =
        t.getCause() != null && t.getCause() != t && depth < MAX_CAUSE_DEPTH
            ? of(t.getCause(), depth + 1)
            : null;
    return new FailureDetails(t.getClass().getName(), t.getMessage(), stackTraceOf(t), cause);
  }

  private static String stackTraceOf(Throwable t) {
    StringBuilder out = new StringBuilder();
    for (StackTraceElement e : t.getStackTrace()) {
      if (out.length() > MAX_STACK_TRACE) {
        out.append("\t...\n");
        break;
      }
      out.append("\tat ").append(e).append('\n');
    }
    return out.toString();
  }

  /** Whether the failure, or one of its causes, is of the given exception type. */
  public boolean isCausedBy(Class<? extends Throwable> type) {
    for (FailureDetails f = this; f != null; f = f.cause) {
      if (type.getName().equals(f.errorType)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return errorType + ": " + message + (cause != null ? " (caused by " + cause + ")" : "");
  }
}
