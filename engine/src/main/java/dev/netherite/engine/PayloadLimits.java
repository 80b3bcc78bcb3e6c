package dev.netherite.engine;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.PayloadTooLargeException;
import java.util.Locale;

/**
 * INTERNAL API
 *
 * <p>The largest serialized payloads the engine records, in bytes of UTF-8 (the settings {@code
 * netherite.limits.*}). A value above its limit must never reach the commit log: one write holds
 * many events, and a write Cassandra refuses stops the whole partition, which then retries the same
 * write after recovery. So the client refuses such a value at the call, and the hosts turn one
 * produced by user code into the failure of its task, operation or instance.
 */
public record PayloadLimits(
    long input,
    long output,
    long eventPayload,
    long customStatus,
    long activityResult,
    long entityState) {

  /** No limits: for tests of the engine alone. */
  public static final PayloadLimits NONE =
      new PayloadLimits(
          Long.MAX_VALUE,
          Long.MAX_VALUE,
          Long.MAX_VALUE,
          Long.MAX_VALUE,
          Long.MAX_VALUE,
          Long.MAX_VALUE);

  /** The kinds of payload, with the setting that limits each. */
  public enum Kind {
    INPUT("input"),
    OUTPUT("output"),
    EVENT_PAYLOAD("event-payload"),
    CUSTOM_STATUS("custom-status"),
    ACTIVITY_RESULT("activity-result"),
    ENTITY_STATE("entity-state");

    private final String key;

    Kind(String key) {
      this.key = key;
    }

    /** The full setting, e.g. {@code netherite.limits.input}. */
    public String setting() {
      return "netherite.limits." + key;
    }
  }

  public PayloadLimits {
    for (long limit :
        new long[] {input, output, eventPayload, customStatus, activityResult, entityState}) {
      if (limit < 1) {
        throw new IllegalArgumentException(
            "Every netherite.limits.* setting must be at least 1 byte; one is " + limit + ".");
      }
    }
  }

  public long of(Kind kind) {
    return switch (kind) {
      case INPUT -> input;
      case OUTPUT -> output;
      case EVENT_PAYLOAD -> eventPayload;
      case CUSTOM_STATUS -> customStatus;
      case ACTIVITY_RESULT -> activityResult;
      case ENTITY_STATE -> entityState;
    };
  }

  /**
   * Null when {@code text} fits its limit; otherwise the error to raise or record.
   *
   * @param what names the payload in the message, e.g. "the result of activity 'X' (instance I)"
   */
  public PayloadTooLargeException check(Kind kind, String what, String text) {
    long limit = of(kind);
    if (text == null || (long) text.length() * 3 <= limit) {
      return null; // a char is at most 3 bytes of UTF-8 (a surrogate pair 4 for 2 chars)
    }
    long bytes = text.length() > limit ? text.length() : utf8Length(text);
    if (bytes <= limit) {
      return null;
    }
    return new PayloadTooLargeException(
        capitalized(what)
            + " is "
            + (text.length() > limit ? "at least " : "")
            + size(bytes)
            + " when serialized, above the limit of "
            + size(limit)
            + " ("
            + kind.setting()
            + "). Keep large data outside the workflow (store it and pass a reference), or raise"
            + " the limit.");
  }

  /** As {@link #check}, throwing the error. */
  public void require(Kind kind, String what, String text) {
    PayloadTooLargeException e = check(kind, what, text);
    if (e != null) {
      throw e;
    }
  }

  /**
   * A failure to record in place of {@code failure} when its message would not fit {@code kind}'s
   * limit (an exception can carry a payload too): its type, and the start of its message.
   */
  public FailureDetails capped(Kind kind, FailureDetails failure) {
    if (failure == null
        || (sizeOf(failure.message()) + sizeOf(failure.stackTrace())) * 3 <= of(kind)) {
      return failure;
    }
    String message = failure.message() == null ? "" : failure.message();
    int keep = (int) Math.min(message.length(), Math.min(of(kind) / 3, 2000));
    return new FailureDetails(
        failure.errorType(),
        message.substring(0, keep)
            + "... (a message of "
            + message.length()
            + " characters, cut to fit "
            + kind.setting()
            + ")",
        null,
        null);
  }

  private static long sizeOf(String s) {
    return s == null ? 0 : s.length();
  }

  static long utf8Length(String s) {
    long bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** {@code bytes} as operators read it: bytes, KiB or MiB. */
  public static String size(long bytes) {
    if (bytes >= 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
    if (bytes >= 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return bytes + " bytes";
  }

  private static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
