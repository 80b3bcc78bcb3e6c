package dev.netherite.persistence;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Storage traffic of the partitions of this JVM: journal writes (one per group-committed batch),
 * events in them, bytes serialized for the journal, checkpoints (snapshots) and their bytes. Read
 * {@link #snapshot()} before and after a run and subtract.
 */
public final class StorageMetrics {
  private static final StorageMetrics GLOBAL = new StorageMetrics();

  private final LongAdder journalWrites = new LongAdder();
  private final LongAdder eventsWritten = new LongAdder();
  private final LongAdder journalBytes = new LongAdder();
  private final LongAdder snapshotsWritten = new LongAdder();
  private final LongAdder snapshotBytes = new LongAdder();
  private final LongAdder journalWriteNanos = new LongAdder();
  private final List<Observer> observers = new CopyOnWriteArrayList<>();

  /**
   * Sees each recorded value as it is recorded (e.g. to fill a histogram); called on the recording
   * thread, so it must only count.
   */
  public interface Observer {
    default void journalWrite(int events) {}

    default void journalWriteLatency(long nanos) {}

    default void journalBytes(int bytes) {}

    default void snapshot() {}

    default void snapshotBytes(int bytes) {}
  }

  public void addObserver(Observer observer) {
    observers.add(observer);
  }

  public void removeObserver(Observer observer) {
    observers.remove(observer);
  }

  private final LongAdder recordsWritten = new LongAdder();
  private final LongAdder recordBytes = new LongAdder();
  private final LongAdder checkpointFailures = new LongAdder();
  private final LongAdder instanceRecordReads = new LongAdder();

  /** A point-in-time copy of the counters. */
  public record Snapshot(
      long journalWrites,
      long eventsWritten,
      long journalBytes,
      long snapshotsWritten,
      long snapshotBytes) {
    public Snapshot minus(Snapshot earlier) {
      return new Snapshot(
          journalWrites - earlier.journalWrites,
          eventsWritten - earlier.eventsWritten,
          journalBytes - earlier.journalBytes,
          snapshotsWritten - earlier.snapshotsWritten,
          snapshotBytes - earlier.snapshotBytes);
    }
  }

  private StorageMetrics() {}

  public static StorageMetrics global() {
    return GLOBAL;
  }

  public void recordJournalWrite(int events) {
    journalWrites.increment();
    eventsWritten.add(events);
    for (Observer o : observers) {
      o.journalWrite(events);
    }
  }

  /** Time from handing a batch to the journal to its write being acknowledged. */
  public void recordJournalWriteLatency(long nanos) {
    journalWriteNanos.add(nanos);
    for (Observer o : observers) {
      o.journalWriteLatency(nanos);
    }
  }

  /**
   * Total time of all acknowledged journal writes, in nanoseconds (divide by the writes for a
   * mean).
   */
  public long journalWriteNanos() {
    return journalWriteNanos.sum();
  }

  public void recordJournalBytes(int bytes) {
    journalBytes.add(bytes);
    for (Observer o : observers) {
      o.journalBytes(bytes);
    }
  }

  public void recordSnapshot() {
    snapshotsWritten.increment();
    for (Observer o : observers) {
      o.snapshot();
    }
  }

  public void recordSnapshotBytes(int bytes) {
    snapshotBytes.add(bytes);
    for (Observer o : observers) {
      o.snapshotBytes(bytes);
    }
  }

  /** One instance record serialized for the instance store by a checkpoint. */
  public void recordRecordBytes(int bytes) {
    recordsWritten.increment();
    recordBytes.add(bytes);
  }

  /** Instance records written by checkpoints (deletions not counted). */
  public long recordsWritten() {
    return recordsWritten.sum();
  }

  /** Bytes of the instance records written by checkpoints. */
  public long recordBytes() {
    return recordBytes.sum();
  }

  /** One instance record read back from the instance store because a request needed it. */
  public void recordInstanceRecordRead() {
    instanceRecordReads.increment();
  }

  /** Instance records read back from the instance store for requests (recovery's not counted). */
  public long instanceRecordReads() {
    return instanceRecordReads.sum();
  }

  public void recordCheckpointFailure() {
    checkpointFailures.increment();
  }

  /** Checkpoints that failed (their records or their snapshot). */
  public long checkpointFailures() {
    return checkpointFailures.sum();
  }

  public Snapshot snapshot() {
    return new Snapshot(
        journalWrites.sum(),
        eventsWritten.sum(),
        journalBytes.sum(),
        snapshotsWritten.sum(),
        snapshotBytes.sum());
  }
}
