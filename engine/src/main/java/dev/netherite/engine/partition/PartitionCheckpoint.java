package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>A partition's checkpoint: its partition-wide state only (the outbox, the dedup vector, the
 * timers, the request log, the counters), so its size is bounded by active work, not by the number
 * of instances. The instances and entities are records in the instance store, written by the same
 * checkpoint; this object is written last and is the checkpoint's commit point. A record row
 * carries the number of the checkpoint that wrote it, and the current version of a record is its
 * newest row at or below {@link #number()}: rows of a checkpoint that never committed are above it.
 */
public final class PartitionCheckpoint implements WireSerializable {
  private int partitionId;
  private int partitionCount;

  /** The journal sequence number of the last batch this checkpoint holds. */
  private long number;

  private int entityBatchLimit;
  private Outbox outbox;
  private DedupVector dedup;
  private TimerTable timers;
  private RequestLog requests;
  private long executionCounter;

  /**
   * The store keys of the records recovery reads back: instances that have not ended, and entities.
   * Ended instances are read when a request needs them.
   */
  private ArrayList<String> activeKeys;

  /** The records that have not ended and are out of memory, and the input parked for them. */
  private Residency residency;

  /** Where the partition was in its applied order, and how far its incarnations survived. */
  private Incarnations incarnations;

  private PartitionCheckpoint() {}

  PartitionCheckpoint(
      int partitionId,
      int partitionCount,
      long number,
      int entityBatchLimit,
      Outbox outbox,
      DedupVector dedup,
      TimerTable timers,
      RequestLog requests,
      long executionCounter,
      ArrayList<String> activeKeys,
      Residency residency,
      Incarnations incarnations) {
    this.partitionId = partitionId;
    this.partitionCount = partitionCount;
    this.number = number;
    this.entityBatchLimit = entityBatchLimit;
    this.outbox = outbox;
    this.dedup = dedup;
    this.timers = timers;
    this.requests = requests;
    this.executionCounter = executionCounter;
    this.activeKeys = activeKeys;
    this.residency = residency;
    this.incarnations = incarnations;
  }

  public int partitionId() {
    return partitionId;
  }

  public int partitionCount() {
    return partitionCount;
  }

  /** The checkpoint's number: record rows above it belong to no committed checkpoint. */
  public long number() {
    return number;
  }

  int entityBatchLimit() {
    return entityBatchLimit;
  }

  Outbox outbox() {
    return outbox;
  }

  DedupVector dedup() {
    return dedup;
  }

  TimerTable timers() {
    return timers;
  }

  RequestLog requests() {
    return requests;
  }

  long executionCounter() {
    return executionCounter;
  }

  Residency residency() {
    return residency;
  }

  Incarnations incarnations() {
    return incarnations;
  }

  /** The records that recovery reads back from the store before it replays the log suffix. */
  public List<String> activeKeys() {
    return activeKeys;
  }
}
