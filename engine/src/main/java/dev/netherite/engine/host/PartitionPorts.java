package dev.netherite.engine.host;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.StoredRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * INTERNAL API
 *
 * <p>Everything a {@link PartitionHost} does to the world goes through these ports, and everything
 * the world tells it comes back as a call on the host, on the host's one thread. The runtime
 * implements them over Pekko Persistence, Cluster Sharding and the node's executors; the seeded
 * simulation implements them with fakes that lose, duplicate, delay and reorder, fail writes, and
 * crash. A port call never blocks and never calls back into the host before it returns.
 */
public record PartitionPorts(
    Journal journal,
    Transport transport,
    LocalWork work,
    Clock clock,
    Timers timers,
    Log log,
    Metrics metrics,
    Runnable stop) {

  /** The partition's commit log and checkpoint store. */
  public interface Journal {
    /**
     * Appends one batch; at most one is outstanding. Completes with {@link
     * PartitionHost#onWritten()}, or {@link PartitionHost#onWriteFailed} (the store failed or was
     * unavailable; the batch may or may not be stored), {@link PartitionHost#onWriteRefused} (the
     * store refused what the batch holds, and would again: it is not stored) or {@link
     * PartitionHost#onWriteRejected} (it could not be serialized: it is not stored).
     */
    void write(EventBatch batch);

    /**
     * The bytes {@code event} takes in a journal write, for the byte cap per write ({@code
     * netherite.commit-log.max-batch-bytes}). The runtime measures the serialized event; this
     * default, for fakes, is the length of its text.
     */
    default long sizeOf(PartitionEvent event) {
      return event.toString().length();
    }

    /**
     * Saves a checkpoint at the last durable batch: first its records, in the instance store, each
     * row labelled with the checkpoint's number, then its partition-wide state as the snapshot
     * labelled with that same number (not with the journal's sequence number when it is written:
     * batches are written meanwhile), which commits it. The checkpoint refers to the live state:
     * the port takes its own copy (serializes it) before it returns, since the host changes the
     * state right after. Completes with {@link PartitionHost#onCheckpointSaved} or {@link
     * PartitionHost#onCheckpointFailed}. After the commit, the store may drop the rows that the
     * checkpoint's records supersede (older versions, and deleted records).
     */
    void saveCheckpoint(Checkpoint checkpoint);

    /**
     * Reads the records under {@code keys} as of checkpoint {@code number} (for each key, its
     * newest row at or below the number; keys with none, or whose newest is a deletion, are left
     * out): at recovery, the records the checkpoint names as active. Completes with {@link
     * PartitionHost#onRecordsLoaded} or {@link PartitionHost#onRecordsLoadFailed}.
     */
    void loadRecords(long number, List<String> keys);

    /**
     * Reads one record as of checkpoint {@code number}, as {@link #loadRecords} does. Completes
     * with {@link PartitionHost#onRecordLoaded} (null if there is none) or {@link
     * PartitionHost#onRecordsLoadFailed}.
     */
    void loadRecord(long number, String key);

    /**
     * Reads, as of checkpoint {@code number}, up to {@code limit} records whose key starts with
     * {@code keyPrefix} (instances or entities, see {@link StoredRecord}) that {@code filter}
     * takes, in key order after {@code afterKey} (null: from the first). Completes with {@link
     * PartitionHost#onRecordsScanned} (with whether the store holds more) or {@link
     * PartitionHost#onScanFailed}, naming {@code listId}.
     */
    void scanRecords(
        long listId,
        long number,
        String keyPrefix,
        String afterKey,
        int limit,
        Predicate<StoredRecord> filter);

    /** Deletes the batches up to {@code seqNr} and the checkpoints before it. */
    void deleteUpTo(long seqNr);

    /** The sequence number of the last durable batch (for logs and diagnostics). */
    long lastSequenceNr();

    /**
     * Whether this host may write now: false once another host may have taken the partition over (a
     * lease that lapsed). A host that may not write holds its buffer and its checkpoint; its owner
     * stops it when the partition is lost for good.
     */
    default boolean mayWrite() {
      return true;
    }
  }

  /** Messages to other partitions; at most once, in any order. */
  public interface Transport {
    void send(int destination, PartitionLink message);
  }

  /**
   * Local work the host starts: orchestration steps, activities and entity batches, each reporting
   * back as a {@link HostInput}. Work is lost with the host; recovery dispatches it again.
   */
  public interface LocalWork {
    /** A run of the instance's code, replaying {@code history} at its first step. */
    OrchestrationRun loadRun(
        String instanceId,
        String executionId,
        String orchestrationName,
        List<HistoryEvent> history);

    /** Runs one step; reports {@link HostInput.StepFinished}. */
    void step(
        OrchestrationRun run, long stepNumber, Instant stepTime, List<HistoryEvent> newEvents);

    /** Reports {@link HostInput.ActivityFinished}. */
    void startActivity(Effect.StartActivity activity);

    /** Reports {@link HostInput.EntityBatchFinished}. */
    void startEntityBatch(Effect.RunEntityBatch batch);

    /**
     * The instance's execution ended or was replaced: its activities still running are cancelled
     * (their results, should they come, are ignored by the state machine).
     */
    void cancelActivities(String instanceId);
  }

  public interface Clock {
    Instant now();

    /** A monotonic clock for durations, as {@link System#nanoTime()}. */
    long nanoTime();
  }

  /** Wake-ups, delivered as {@link HostInput.TimerFired}; starting a timer replaces its last. */
  public interface Timers {
    void startSingle(HostTimer timer, Duration delay);

    void startPeriodic(HostTimer timer, Duration interval);

    void cancel(HostTimer timer);
  }

  public interface Log {
    void info(Supplier<String> message);

    void warn(String message);

    void error(String message, Throwable cause);
  }

  /** Counters; called on the host's thread, must be cheap. */
  public interface Metrics {
    void journalWrite(int events);

    void journalWriteLatency(long nanos);

    void checkpoint();

    /** An instance ended and its end is durable. */
    default void instanceEnded(InstanceView view) {}

    /**
     * A step's result reached the host {@code nanos} after the host handed the step to its run (the
     * wait for a thread, the orchestration's code, and the way back).
     */
    default void stepLatency(long nanos) {}

    /**
     * {@code messages} of a delivery from another partition were dropped by the dedup vector: as
     * duplicates (applied already) or, when the delivery starts past a gap, until the sender
     * resends the missing ones.
     */
    default void deliveryDropped(int messages, boolean duplicate) {}

    /** In the global mode, the partition took back its speculative suffix. */
    default void rolledBack() {}

    /** {@code messages} unacknowledged messages to other partitions were sent again. */
    default void resent(int messages) {}

    /** Recovery (checkpoint and log suffix) completed {@code nanos} after the host was created. */
    default void recovered(long nanos) {}

    /** A purge sweep logged a batch of {@code instances}: a client's, or retention's. */
    default void instancesPurged(int instances, boolean byRetention) {}

    /** The checkpoint handed to the store {@code nanos} ago is stored. */
    default void checkpointSaved(long nanos) {}

    /** The store failed to save the checkpoint. */
    default void checkpointFailed() {}

    /** Idle records that have not ended left memory (their input is parked from now on). */
    default void recordsEvicted(int records) {}
  }
}
