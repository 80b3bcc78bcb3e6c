package dev.netherite.engine.partition;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.partition.PartitionMessage.LockReleased;
import dev.netherite.engine.partition.PartitionMessage.LockRequested;
import dev.netherite.engine.partition.PartitionMessage.LocksGranted;
import java.time.Instant;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>The lock protocol of critical sections, on both of its sides. The owner (an orchestration
 * execution) sends its request to the first entity of the sorted chain of ids; each entity grants
 * it when it reaches the head of its queue and forwards it to the next; the last answers the owner
 * with {@link LocksGranted}. Every section acquires in the same global order, so overlapping
 * sections cannot deadlock.
 *
 * <p>Invariant: every grant is released exactly once: by the section's close, by the owner's end,
 * or, when the grant reaches an owner that has ended or moved on, at once by {@link #accept}. A
 * grant still travelling when its owner ends is released on arrival, not before, so a release never
 * overtakes its grant.
 */
final class LockChain {
  private final MessageRouter router;

  LockChain(MessageRouter router) {
    this.router = router;
  }

  // ---------------------------------------------------------------- the owner's side

  /** Opens the instance's critical section: sends its lock request along the chain. */
  void request(
      InstanceState i, HistoryEvent.EntityLockRequested l, Instant now, List<Effect> effects) {
    i.lockTaskId = l.taskId();
    i.lockEntities = List.copyOf(l.entityIds());
    i.locksGranted = false;
    router.send(new LockRequested(l.entityIds(), 0, ownerOf(i)), now, effects);
  }

  /**
   * The chain answered: returns whether {@code owner} (null when the instance is gone) still waits
   * for this grant and now holds the locks. Otherwise the locks are released at once: nobody else
   * will release them.
   */
  boolean accept(InstanceState owner, LocksGranted g, Instant now, List<Effect> effects) {
    LockOwner section = g.owner();
    if (owner != null
        && owner.executionId.equals(section.executionId())
        && !owner.status.isTerminal()
        && owner.lockTaskId == section.taskId()
        && !owner.locksGranted) {
      owner.locksGranted = true;
      return true;
    }
    for (String entityId : g.entityIds()) {
      router.send(new LockReleased(entityId, section), now, effects);
    }
    return false;
  }

  /** The lock the instance holds on the entity, to attach to its calls; null when it holds none. */
  LockOwner heldLock(InstanceState i, String entityId) {
    return i.locksGranted && i.lockEntities.contains(entityId) ? ownerOf(i) : null;
  }

  /**
   * Ends the instance's critical section, if it has one: releases the locks it holds; a grant still
   * travelling is released on arrival.
   */
  void release(InstanceState i, Instant now, List<Effect> effects) {
    if (i.lockTaskId < 0) {
      return;
    }
    if (i.locksGranted) {
      LockOwner owner = ownerOf(i);
      for (String entityId : i.lockEntities) {
        router.send(new LockReleased(entityId, owner), now, effects);
      }
    }
    i.lockTaskId = -1;
    i.lockEntities = List.of();
    i.locksGranted = false;
  }

  private static LockOwner ownerOf(InstanceState i) {
    return new LockOwner(i.instanceId, i.executionId, i.lockTaskId);
  }

  // ---------------------------------------------------------------- the entity's side

  /**
   * The request reached the head of the entity's queue: the entity is locked for its owner, and the
   * request travels on (or the owner hears that it holds every lock).
   */
  void grant(EntityRecord e, LockRequested l, Instant now, List<Effect> effects) {
    e.lockedBy = l.owner();
    if (l.position() + 1 < l.entityIds().size()) {
      router.send(new LockRequested(l.entityIds(), l.position() + 1, l.owner()), now, effects);
    } else {
      router.send(new LocksGranted(l.owner(), l.entityIds()), now, effects);
    }
  }

  /** The owner released the entity; a release by anyone else changes nothing. */
  void unlock(EntityRecord e, LockReleased r) {
    if (r.owner().equals(e.lockedBy)) {
      e.lockedBy = null;
    }
  }
}
