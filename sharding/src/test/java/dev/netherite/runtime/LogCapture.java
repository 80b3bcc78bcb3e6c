package dev.netherite.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects what is logged at WARN (or a given level) and above while it is open, for tests that
 * check a log line.
 */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final List<String> lines = new ArrayList<>();

  private final Level threshold;

  LogCapture() {
    this(Level.WARN);
  }

  /** Collects what is logged at {@code threshold} and above. */
  LogCapture(Level threshold) {
    this.threshold = threshold;
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    setContext(context);
    start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(this);
  }

  @Override
  protected void append(ILoggingEvent event) {
    if (event.getLevel().isGreaterOrEqual(threshold)) {
      synchronized (lines) {
        lines.add(event.getLevel() + " " + event.getFormattedMessage());
      }
    }
  }

  /** The lines so far that contain {@code text}, each as "LEVEL message". */
  List<String> containing(String text) {
    synchronized (lines) {
      return lines.stream().filter(l -> l.contains(text)).toList();
    }
  }

  @Override
  public void close() {
    LoggerContext context = (LoggerContext) getContext();
    context.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(this);
    stop();
  }
}
