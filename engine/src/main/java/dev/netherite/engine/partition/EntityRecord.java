package dev.netherite.engine.partition;

import dev.netherite.engine.partition.PartitionMessage.EntityOperationRequested;
import dev.netherite.engine.partition.PartitionMessage.LockReleased;
import dev.netherite.engine.partition.PartitionMessage.LockRequested;
import dev.netherite.engine.partition.PartitionMessage.ToEntity;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;

/**
 * INTERNAL API: one entity inside a partition's state: its state, its lock, its queue and the batch
 * that runs.
 *
 * <p>Invariants: at most one batch runs at a time; while locked, only the lock owner's messages are
 * taken from the queue, in their order, and the others keep theirs; a record with no state, no
 * lock, no queue and no batch is removed (the entity no longer exists).
 */
public final class EntityRecord implements TableRecord {
  /** Whether the instance store may hold rows of this record; see {@link TableRecord}. */
  private transient boolean inStore;

  /** {@link #approximateBytes}, or -1 when it must be computed again. */
  private transient long approximateBytes = -1;

  String entityId;

  /** The entity type's name. */
  String name;

  /** The serialized state, or null when the entity has none. */
  String state;

  LockOwner lockedBy;
  ArrayDeque<ToEntity> queue = new ArrayDeque<>();

  /** The operations of the running batch, taken off the queue; empty when none runs. */
  List<EntityOperationRequested> batch = List.of();

  long batchNumber;
  Instant lastModified;

  EntityRecord() {}

  EntityRecord(String entityId, String name, Instant now) {
    this.entityId = entityId;
    this.name = name;
    this.lastModified = now;
  }

  /**
   * Whether the message may be taken from the queue now: anything when unlocked, only the owner's
   * when locked.
   */
  boolean mayServe(ToEntity m) {
    if (lockedBy == null) {
      return true;
    }
    return switch (m) {
      case EntityOperationRequested op -> lockedBy.equals(op.lockOwner());
      case LockReleased r -> lockedBy.equals(r.owner());
      case LockRequested l -> false;
    };
  }

  /**
   * Whether a release of {@code owner} still means something here: it holds the lock, or its lock
   * request is queued. Any other release is late (its section's lock was already released) and is
   * dropped.
   */
  boolean expectsRelease(LockOwner owner) {
    if (owner.equals(lockedBy)) {
      return true;
    }
    for (ToEntity m : queue) {
      if (m instanceof LockRequested l && l.owner().equals(owner)) {
        return true;
      }
    }
    return false;
  }

  boolean isIdle() {
    return state == null && lockedBy == null && queue.isEmpty() && batch.isEmpty();
  }

  public String entityId() {
    return entityId;
  }

  public String state() {
    return state;
  }

  public LockOwner lockedBy() {
    return lockedBy;
  }

  public int backlog() {
    return queue.size() + batch.size();
  }

  EntityView view() {
    return new EntityView(
        entityId, state, lockedBy == null ? null : lockedBy.instanceId(), backlog(), lastModified);
  }

  @Override
  public long approximateBytes() {
    if (approximateBytes < 0) {
      long n = 120 + MemorySize.chars(entityId, name, state);
      for (ToEntity m : queue) {
        n += 96 + (m instanceof EntityOperationRequested op ? MemorySize.chars(op.input()) : 0);
      }
      approximateBytes = n + 96L * batch.size();
    }
    return approximateBytes;
  }

  @Override
  public void changing() {
    approximateBytes = -1;
  }

  @Override
  public boolean inStore() {
    return inStore;
  }

  @Override
  public void markInStore() {
    inStore = true;
  }
}
