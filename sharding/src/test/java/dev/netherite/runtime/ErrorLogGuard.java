package dev.netherite.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when anything logged an ERROR while it ran (an engine fault, such as an
 * exception in a partition, is logged and recovered from, so a test could otherwise pass over it).
 * Registered for every test class through {@code META-INF/services}; the appender is wired in
 * {@code logback-test.xml}.
 */
public final class ErrorLogGuard implements BeforeAllCallback, AfterAllCallback {
  private static final List<String> ERRORS = new ArrayList<>();

  /** The logback appender that collects ERROR events. */
  public static final class Appender extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent event) {
      if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
        String cause =
            event.getThrowableProxy() == null
                ? ""
                : " / "
                    + event.getThrowableProxy().getClassName()
                    + ": "
                    + event.getThrowableProxy().getMessage();
        String line = event.getLoggerName() + ": " + event.getFormattedMessage() + cause;
        synchronized (ERRORS) {
          if (EXPECTED.stream().noneMatch(line::contains)) {
            ERRORS.add(line);
          }
        }
      }
    }
  }

  private static final List<String> EXPECTED = new ArrayList<>();

  /**
   * An ERROR the running test class provokes on purpose (e.g. a write the store refuses): events
   * that contain {@code fragment} do not fail it. Reset before each class.
   */
  public static void expect(String fragment) {
    synchronized (ERRORS) {
      EXPECTED.add(fragment);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    synchronized (ERRORS) {
      ERRORS.clear();
      EXPECTED.clear();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<String> seen;
    synchronized (ERRORS) {
      seen = List.copyOf(ERRORS);
      ERRORS.clear();
      EXPECTED.clear();
    }
    if (!seen.isEmpty()) {
      throw new AssertionError(
          seen.size()
              + " ERROR log events during "
              + context.getDisplayName()
              + ", first: "
              + seen.get(0));
    }
  }
}
