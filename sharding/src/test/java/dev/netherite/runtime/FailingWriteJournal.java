package dev.netherite.runtime;

import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.typesafe.config.Config;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.PartitionEvent;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.dispatch.Futures;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.cassandra.journal.CassandraJournal;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * The Cassandra journal, except that, once {@linkplain #arm armed} for one persistence id, it fails
 * chosen writes of that id that hold an orchestration step: the partition has applied the step and
 * (in the global mode) sent its messages before the write, and learns of the failure only after.
 * The failure is a driver timeout, as Cassandra reports an overloaded write; a write listed in
 * {@code storedButFailed} is stored first, and reported failed all the same (a timeout does not say
 * whether the write happened).
 */
public final class FailingWriteJournal extends CassandraJournal {
  private static volatile String target;
  private static volatile Set<Integer> failing = Set.of();
  private static volatile Set<Integer> storedButFailed = Set.of();
  private static volatile Duration failAfter = Duration.ZERO;
  private static final AtomicInteger STEP_WRITES = new AtomicInteger();

  /** Writes failed so far (stored or not). */
  static final AtomicInteger FAILED = new AtomicInteger();

  public FailingWriteJournal(Config config, String configPath) {
    super(config, configPath);
  }

  /**
   * From now on, the writes of {@code persistenceId} that hold a step are counted from 1; those
   * numbered in {@code fail} fail, those also in {@code stored} after they were stored.
   */
  static void arm(String persistenceId, Set<Integer> fail, Set<Integer> stored) {
    arm(persistenceId, fail, stored, Duration.ZERO);
  }

  /**
   * As {@link #arm(String, Set, Set)}, and a failing write reports its failure only {@code after}
   * it was handed over: a slow write that times out, during which the partition's receivers go on
   * with what it sent them speculatively.
   */
  static void arm(String persistenceId, Set<Integer> fail, Set<Integer> stored, Duration after) {
    failAfter = after;
    STEP_WRITES.set(0);
    FAILED.set(0);
    failing = Set.copyOf(fail);
    storedButFailed = Set.copyOf(stored);
    target = persistenceId;
  }

  static void disarm() {
    target = null;
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    String armedFor = target;
    if (armedFor == null || !holdsAStep(messages, armedFor)) {
      return super.asyncWriteMessages(messages);
    }
    int n = STEP_WRITES.incrementAndGet();
    if (!failing.contains(n)) {
      return super.asyncWriteMessages(messages);
    }
    FAILED.incrementAndGet();
    DriverTimeoutException failure =
        new DriverTimeoutException("injected: write " + n + " of " + armedFor + " timed out");
    Future<Seq<Try<BoxedUnit>>> outcome =
        storedButFailed.contains(n)
            ? super.asyncWriteMessages(messages)
                .flatMap(stored -> Futures.failed(failure), context().dispatcher())
            : Futures.failed(failure);
    Duration delay = failAfter;
    if (delay.isZero()) {
      return outcome;
    }
    return Patterns.after(
        FiniteDuration.create(delay.toMillis(), TimeUnit.MILLISECONDS),
        context().system().scheduler(),
        context().dispatcher(),
        () -> outcome);
  }

  private static boolean holdsAStep(Seq<AtomicWrite> messages, String persistenceId) {
    var writes = messages.iterator();
    while (writes.hasNext()) {
      AtomicWrite write = writes.next();
      if (!write.persistenceId().equals(persistenceId)) {
        continue;
      }
      var reprs = write.payload().iterator();
      while (reprs.hasNext()) {
        PersistentRepr repr = reprs.next();
        if (repr.payload() instanceof EventBatch batch) {
          for (PartitionEvent e : batch.events()) {
            if (e instanceof PartitionEvent.StepCompleted) {
              return true;
            }
          }
        }
      }
    }
    return false;
  }
}
