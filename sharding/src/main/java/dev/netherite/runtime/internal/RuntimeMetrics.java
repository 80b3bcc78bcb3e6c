package dev.netherite.runtime.internal;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * INTERNAL API
 *
 * <p>What the partitions and activity pools of this JVM do, beyond storage traffic (which {@link
 * dev.netherite.persistence.StorageMetrics} counts): per partition number, resends, deliveries
 * dropped by the dedup vector, recoveries and their duration, failed checkpoints, rollbacks of
 * speculative work (global mode); per JVM, the latencies of steps, activities and checkpoints,
 * given to {@link Observer}s (e.g. to fill histograms), and the activities queued and running.
 *
 * <p>Recorded on the partitions' threads: a partition holds its {@link PartitionCounters} from its
 * start, so recording is a {@link LongAdder} increment, with no lookup, lock or allocation.
 */
public final class RuntimeMetrics {
  // Before GLOBAL, whose constructor reads it.
  private static final Observer[] NO_OBSERVERS = {};

  private static final RuntimeMetrics GLOBAL = new RuntimeMetrics();

  private final ConcurrentHashMap<Integer, PartitionCounters> partitions =
      new ConcurrentHashMap<>();
  private final LongAdder activitiesQueued = new LongAdder();
  private final LongAdder activitiesRunning = new LongAdder();

  /** Read at every recording; an array, so that no iterator is allocated for it. */
  private volatile Observer[] observers = NO_OBSERVERS;

  /**
   * Sees each latency as it is recorded; called on the recording thread (a partition's, or an
   * activity's), so it must only count.
   */
  public interface Observer {
    default void stepLatency(long nanos) {}

    default void activityLatency(long nanos) {}

    default void checkpointDuration(long nanos) {}
  }

  /** The counters of one partition number, summed over the hosts it had in this JVM. */
  public static final class PartitionCounters {
    private final RuntimeMetrics owner;
    private final LongAdder resent = new LongAdder();
    private final LongAdder duplicatesDropped = new LongAdder();
    private final LongAdder gapDropped = new LongAdder();
    private final LongAdder recoveries = new LongAdder();
    private final LongAdder recoveryNanos = new LongAdder();
    private final LongAdder checkpointFailures = new LongAdder();
    private final LongAdder rollbacks = new LongAdder();
    private final LongAdder clientRetriesAfterRollback = new LongAdder();
    private final LongAdder purgeBatches = new LongAdder();
    private final LongAdder purgedByRequest = new LongAdder();
    private final LongAdder purgedByRetention = new LongAdder();

    private PartitionCounters(RuntimeMetrics owner) {
      this.owner = owner;
    }

    public void resent(int messages) {
      resent.add(messages);
    }

    public void deliveryDropped(int messages, boolean duplicate) {
      (duplicate ? duplicatesDropped : gapDropped).add(messages);
    }

    public void recovered(long nanos) {
      recoveries.increment();
      recoveryNanos.add(nanos);
    }

    public void checkpointFailed() {
      checkpointFailures.increment();
    }

    /** In the global persistence mode, the partition took back its speculative suffix. */
    public void rolledBack() {
      rollbacks.increment();
    }

    /**
     * A client of this JVM was answered that the partition took back the speculative work its
     * request was part of, and sends the request again.
     */
    public void clientRetriedAfterRollback() {
      clientRetriesAfterRollback.increment();
    }

    /** A batch of a purge sweep was logged: by a client's purge, or by retention. */
    public void instancesPurged(int instances, boolean byRetention) {
      purgeBatches.increment();
      (byRetention ? purgedByRetention : purgedByRequest).add(instances);
    }

    public void stepLatency(long nanos) {
      for (Observer o : owner.observers) {
        o.stepLatency(nanos);
      }
    }

    public void checkpointDuration(long nanos) {
      for (Observer o : owner.observers) {
        o.checkpointDuration(nanos);
      }
    }

    public long resent() {
      return resent.sum();
    }

    public long duplicatesDropped() {
      return duplicatesDropped.sum();
    }

    public long gapDropped() {
      return gapDropped.sum();
    }

    public long recoveries() {
      return recoveries.sum();
    }

    public long recoveryNanos() {
      return recoveryNanos.sum();
    }

    public long checkpointFailures() {
      return checkpointFailures.sum();
    }

    public long clientRetriesAfterRollback() {
      return clientRetriesAfterRollback.sum();
    }

    public long rollbacks() {
      return rollbacks.sum();
    }

    /** Batches that purge sweeps logged, each one journal event. */
    public long purgeBatches() {
      return purgeBatches.sum();
    }

    public long purgedByRequest() {
      return purgedByRequest.sum();
    }

    public long purgedByRetention() {
      return purgedByRetention.sum();
    }
  }

  private RuntimeMetrics() {}

  public static RuntimeMetrics global() {
    return GLOBAL;
  }

  /** The counters of partition {@code partition}; a partition takes them once, at its start. */
  public PartitionCounters partition(int partition) {
    return partitions.computeIfAbsent(partition, p -> new PartitionCounters(this));
  }

  /** Every partition number that has recorded anything in this JVM, in order. */
  public Map<Integer, PartitionCounters> partitions() {
    return new TreeMap<>(partitions);
  }

  public void activityLatency(long nanos) {
    for (Observer o : observers) {
      o.activityLatency(nanos);
    }
  }

  /** An activity was submitted; it waits for a slot (the node's concurrency limit). */
  public void activityQueued() {
    activitiesQueued.increment();
  }

  /** A queued activity left the queue: {@code started} when it took a slot and runs. */
  public void activityDequeued(boolean started) {
    activitiesQueued.decrement();
    if (started) {
      activitiesRunning.increment();
    }
  }

  /** A running activity gave its slot back. */
  public void activityEnded() {
    activitiesRunning.decrement();
  }

  /** Activities waiting for a slot in their node's pool, over the nodes of this JVM. */
  public long activitiesQueued() {
    return activitiesQueued.sum();
  }

  /** Activities holding a slot, over the nodes of this JVM. */
  public long activitiesRunning() {
    return activitiesRunning.sum();
  }

  public synchronized void addObserver(Observer observer) {
    Observer[] next = Arrays.copyOf(observers, observers.length + 1);
    next[observers.length] = observer;
    observers = next;
  }

  public synchronized void removeObserver(Observer observer) {
    observers = Arrays.stream(observers).filter(o -> o != observer).toArray(Observer[]::new);
  }
}
