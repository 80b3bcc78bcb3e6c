package dev.netherite.engine.host;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * INTERNAL API
 *
 * <p>The heap a node gives to the instance and entity records its partitions keep in memory ({@code
 * netherite.memory.records}), shared evenly by the partitions it hosts: after each checkpoint, a
 * partition over its share lets records leave memory (ended instances first, then idle ones, the
 * least recently changed first) until it is within. The records' sizes are estimates ({@code
 * approximateBytes}); records that are busy (a step, an activity or an entity batch running) or
 * changed since the last checkpoint stay, so a partition may be over its share for a while.
 * Thread-safe: the node's partitions share one.
 */
public final class RecordBudget {
  /** No budget: records leave memory only as {@code netherite.resident-ended-instances} says. */
  public static final RecordBudget UNLIMITED = new RecordBudget(Long.MAX_VALUE);

  private final long bytes;
  private final AtomicInteger partitions = new AtomicInteger();

  public RecordBudget(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException(
          "netherite.memory.records must be 0 or more bytes (or off); it is " + bytes + ".");
    }
    this.bytes = bytes;
  }

  public boolean limited() {
    return bytes != Long.MAX_VALUE;
  }

  public long bytes() {
    return bytes;
  }

  /** A partition of the node runs; it counts towards the shares until {@link #left}. */
  void joined() {
    partitions.incrementAndGet();
  }

  void left() {
    partitions.decrementAndGet();
  }

  /** What one partition may keep, in estimated bytes. */
  public long share() {
    return limited() ? bytes / Math.max(1, partitions.get()) : Long.MAX_VALUE;
  }
}
