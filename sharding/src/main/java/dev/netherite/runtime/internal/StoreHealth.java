package dev.netherite.runtime.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API
 *
 * <p>Whether this node can reach the store (Cassandra), as its partitions find out: a write or a
 * recovery that fails for want of the store marks it unavailable, the next one that succeeds and
 * was started after the outage was noticed marks it available again (a call started before it, say
 * a write already stored when Cassandra went down, says nothing about the store now, and ending the
 * outage on it would log a second outage moments later). An outage fails every partition at once
 * and again at every retry, so it is logged here, once per episode (one WARN when it starts, one
 * INFO when it ends), and the partitions say nothing more about it; while it lasts, a partition
 * that is down answers clients at once that the store is unavailable instead of leaving them to
 * time out. Thread-safe.
 */
public final class StoreHealth {
  private static final Logger LOG = LoggerFactory.getLogger(StoreHealth.class);

  /**
   * Simple names of the exceptions that mean the store could not be reached or did not answer in
   * time, as opposed to a store that answered and refused (which the partition must not retry
   * blindly): the driver's (no node available, all nodes failed, timeouts, closed or failed
   * connections, coordinator-side timeouts and unavailability), the persistence plugins' open
   * circuit breaker, and the JDK's connection and timeout errors.
   */
  private static final Set<String> UNAVAILABLE =
      Set.of(
          "NoNodeAvailableException",
          "AllNodesFailedException",
          "DriverTimeoutException",
          "ClosedConnectionException",
          "ConnectionInitException",
          "HeartbeatException",
          "BusyConnectionException",
          "WriteTimeoutException",
          "ReadTimeoutException",
          "UnavailableException",
          "OverloadedException",
          "BootstrappingException",
          "CircuitBreakerOpenException",
          "AskTimeoutException",
          "TimeoutException",
          "ConnectException",
          "ClosedChannelException");

  /** When an outage was noticed: wall-clock time for the log, monotonic time for comparisons. */
  private record Outage(Instant since, long sinceNanos) {}

  private final AtomicReference<Outage> outage = new AtomicReference<>();

  /** Whether {@code failure} (or one of its causes) says the store is unreachable or too slow. */
  public static boolean meansUnavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      for (Class<?> c = t.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
        if (UNAVAILABLE.contains(c.getSimpleName())) {
          return true;
        }
      }
    }
    return false;
  }

  /** A partition could not write or recover because of {@code cause}. */
  public void unavailable(Throwable cause) {
    Instant now = Instant.now();
    if (outage.compareAndSet(null, new Outage(now, System.nanoTime()))) {
      LOG.warn(
          "The store (Cassandra) is unavailable since {}: {}. Partitions on this node cannot"
              + " record or answer until it is back; they retry about every second, and clients"
              + " get a StoreUnavailableException meanwhile.",
          now,
          summary(cause));
    }
  }

  /**
   * A partition wrote or recovered, by a call it started at {@code startedNanos} ({@link
   * System#nanoTime()}).
   */
  public void available(long startedNanos) {
    Outage o = outage.get();
    if (o == null) {
      return; // the common case: one volatile read
    }
    if (startedNanos - o.sinceNanos() < 0) {
      return; // started before the outage was noticed: not evidence that it is over
    }
    if (outage.compareAndSet(o, null)) {
      LOG.info(
          "The store (Cassandra) is available again, after {} ms unavailable; partitions recover.",
          Duration.between(o.since(), Instant.now()).toMillis());
    }
  }

  /** Since when the store is unavailable, or null while it is available. */
  public Instant unavailableSince() {
    Outage o = outage.get();
    return o == null ? null : o.since();
  }

  /** The innermost cause's type and message: what operators search for, without a stack trace. */
  static String summary(Throwable cause) {
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == cause
        ? String.valueOf(cause)
        : cause.getClass().getSimpleName() + " caused by " + root;
  }
}
