package dev.netherite.runtime;

import com.typesafe.config.Config;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.dispatch.Futures;
import org.apache.pekko.persistence.SnapshotMetadata;
import org.apache.pekko.persistence.cassandra.snapshot.CassandraSnapshotStore;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;

/**
 * The Cassandra snapshot store, which can be told to fail every save: a checkpoint then writes its
 * instance records and dies before its commit point, as a crash between the two would leave it.
 */
public final class CrashingSnapshotStore extends CassandraSnapshotStore {
  static final AtomicBoolean FAIL = new AtomicBoolean();
  static final AtomicInteger SAVED = new AtomicInteger();
  static final AtomicInteger FAILED = new AtomicInteger();

  /** The sequence number of the last snapshot stored. */
  static final AtomicLong LAST_SAVED = new AtomicLong();

  public CrashingSnapshotStore(Config cfg, String cfgPath) {
    super(cfg, cfgPath);
  }

  static void reset() {
    FAIL.set(false);
    SAVED.set(0);
    FAILED.set(0);
    LAST_SAVED.set(0);
  }

  @Override
  public Future<BoxedUnit> saveAsync(SnapshotMetadata metadata, Object snapshot) {
    if (FAIL.get()) {
      FAILED.incrementAndGet();
      return Futures.failed(new IllegalStateException("the snapshot store crashed (test)"));
    }
    Future<BoxedUnit> saved = super.saveAsync(metadata, snapshot);
    saved.foreach(
        done -> {
          LAST_SAVED.accumulateAndGet(metadata.sequenceNr(), Math::max);
          return SAVED.incrementAndGet();
        },
        context().dispatcher());
    return saved;
  }
}
