package dev.netherite.runtime.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * INTERNAL API
 *
 * <p>The write timestamps of one node's partition writes, bounded by the partition's lease: a write
 * for a partition carries {@code min(now, the end of this node's right to write it)} ({@link
 * PartitionLease#writeDeadlineMicros}). A partition's next holder takes its lease only after the
 * row expired in Cassandra, which is later than that end, and then deletes whatever follows its
 * recovery with a range tombstone dated after it took the lease ({@link PartitionLease#fence}). So
 * a write this node handed to the driver before a pause and that leaves the process after it is
 * dated before the tombstone and deleted on arrival, however long the pause and whatever ran first
 * after it. {@link FencedSession} asks for the timestamp of every statement that names a {@code
 * persistence_id}.
 */
public final class WriteFence implements Extension {
  static final Id ID = new Id();

  /** The Pekko extension id. */
  static final class Id extends AbstractExtensionId<WriteFence> {
    @Override
    public WriteFence createExtension(ExtendedActorSystem system) {
      return new WriteFence();
    }
  }

  /**
   * The latest lease this node took for each persistence id. A lease that lapsed or was released
   * stays until the partition is taken again here: writes still on their way for it must stay
   * bounded by it.
   */
  private final ConcurrentHashMap<String, PartitionLease> leases = new ConcurrentHashMap<>();

  private final AtomicLong last = new AtomicLong();

  void register(String persistenceId, PartitionLease lease) {
    leases.put(persistenceId, lease);
  }

  /**
   * The timestamp (microseconds) for a write of {@code persistenceId}, or {@code Long.MIN_VALUE}
   * when no lease of this node covers it (the driver's own generator then stamps it).
   */
  long timestampFor(String persistenceId) {
    PartitionLease lease = leases.get(persistenceId);
    if (lease == null) {
      return Long.MIN_VALUE;
    }
    return Math.min(next(), lease.writeDeadlineMicros());
  }

  /**
   * The wall clock in microseconds, later than every timestamp this node handed out before (a
   * deletion wins a tie with a write, so a holder's own writes must follow its fence strictly).
   */
  long next() {
    return last.updateAndGet(previous -> Math.max(previous + 1, nowMicros()));
  }

  static long nowMicros() {
    return System.currentTimeMillis() * 1000;
  }
}
