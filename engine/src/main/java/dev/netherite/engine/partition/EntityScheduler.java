package dev.netherite.engine.partition;

import dev.netherite.dsl.EntityId;
import dev.netherite.engine.partition.PartitionEvent.EntityBatchCompleted;
import dev.netherite.engine.partition.PartitionMessage.EntityOperationRequested;
import dev.netherite.engine.partition.PartitionMessage.EntityResponded;
import dev.netherite.engine.partition.PartitionMessage.LockReleased;
import dev.netherite.engine.partition.PartitionMessage.LockRequested;
import dev.netherite.engine.partition.PartitionMessage.ToEntity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * INTERNAL API
 *
 * <p>The entities a partition hosts, and what each runs next. Messages queue per entity in arrival
 * order; the scheduler takes operations into one batch of at most the batch limit, and lock grants
 * and releases at once; a lock change waits for the operations queued before it.
 *
 * <p>Invariants: at most one batch per entity at a time (its code needs no locks); a locked entity
 * serves only its lock owner, and the others' messages keep their place; an entity with no state,
 * no lock, no queue and no batch is removed. The batch limit is part of the partition's state, so
 * that replay forms the same batches as the original run.
 */
final class EntityScheduler {
  private final RecordTable<EntityRecord> entities;
  private final IntSupplier batchLimit;
  private final LockChain locks;
  private final MessageRouter router;

  EntityScheduler(
      RecordTable<EntityRecord> entities,
      IntSupplier batchLimit,
      LockChain locks,
      MessageRouter router) {
    this.entities = entities;
    this.batchLimit = batchLimit;
    this.locks = locks;
    this.router = router;
  }

  EntityRecord get(String entityId) {
    return entities.get(entityId);
  }

  /** The entity, to read only (a query). */
  EntityRecord peek(String entityId) {
    return entities.peek(entityId);
  }

  int count() {
    return entities.size();
  }

  Collection<EntityRecord> all() {
    return entities.values();
  }

  /** Queues a message for its entity (created on first use) and runs what can run. */
  void enqueue(ToEntity m, Instant now, List<Effect> effects) {
    EntityRecord e = entities.get(m.entityId());
    if (e == null) {
      if (m instanceof LockReleased) {
        return; // late: the entity was unlocked and has since gone
      }
      e = new EntityRecord(m.entityId(), EntityId.parse(m.entityId()).name(), now);
      entities.put(e.entityId, e);
    }
    if (m instanceof LockReleased r && !e.expectsRelease(r.owner())) {
      return;
    }
    e.queue.addLast(m);
    schedule(e, now, effects);
  }

  /** A batch ran: keeps its state, answers its callers, sends its messages, runs what is next. */
  void onBatchCompleted(EntityBatchCompleted ev, List<Effect> effects) {
    EntityRecord e = entities.get(ev.entityId());
    if (e == null || e.batch.isEmpty() || e.batchNumber != ev.batchNumber()) {
      return; // a duplicate result of a batch already applied
    }
    EntityBatchResult r = ev.result();
    if (r.outcomes().size() != e.batch.size()) {
      throw new IllegalStateException(
          "entity batch result does not match its batch: entity="
              + e.entityId
              + " batch="
              + e.batchNumber
              + " operations="
              + e.batch.size()
              + " outcomes="
              + r.outcomes().size());
    }
    Instant now = ev.timestamp();
    e.state = r.state();
    e.lastModified = now;
    for (int k = 0; k < e.batch.size(); k++) {
      EntityOperationRequested op = e.batch.get(k);
      if (!op.isSignal()) {
        EntityBatchResult.Outcome o = r.outcomes().get(k);
        router.send(
            new EntityResponded(
                op.callerInstanceId(),
                op.callerExecutionId(),
                op.callerTaskId(),
                o.result(),
                o.failure()),
            now,
            effects);
      }
    }
    e.batch = List.of();
    for (PartitionMessage m : r.messages()) {
      router.send(m, now, effects);
    }
    schedule(e, now, effects);
  }

  /** After recovery: run the batches that were running again. */
  void addRecoveryEffects(List<Effect> effects) {
    for (EntityRecord e : entities.values()) {
      if (!e.batch.isEmpty()) {
        effects.add(runBatch(e));
      }
    }
  }

  /**
   * Takes from the entity's queue what can be served now: lock grants and releases at once,
   * operations into one batch of at most the batch limit. A lock change waits until the operations
   * before it have run. Starts the batch, or removes the entity when nothing is left of it.
   */
  private void schedule(EntityRecord e, Instant now, List<Effect> effects) {
    if (!e.batch.isEmpty()) {
      return;
    }
    int limit = batchLimit.getAsInt();
    List<EntityOperationRequested> batch = new ArrayList<>();
    boolean lockChanged = true;
    while (lockChanged && batch.size() < limit) {
      lockChanged = false;
      for (Iterator<ToEntity> it = e.queue.iterator(); it.hasNext() && batch.size() < limit; ) {
        ToEntity m = it.next();
        if (!e.mayServe(m)) {
          continue;
        }
        if (m instanceof EntityOperationRequested op) {
          it.remove();
          batch.add(op);
          continue;
        }
        if (!batch.isEmpty()) {
          break;
        }
        it.remove();
        if (m instanceof LockRequested l) {
          locks.grant(e, l, now, effects);
        } else if (m instanceof LockReleased r) {
          locks.unlock(e, r);
        }
        e.lastModified = now;
        // What waited behind the old lock state may be served now: look again from the head.
        lockChanged = true;
        break;
      }
    }
    if (!batch.isEmpty()) {
      e.batch = List.copyOf(batch);
      e.batchNumber++;
      effects.add(runBatch(e));
    } else if (e.isIdle()) {
      entities.remove(e.entityId);
    }
  }

  private static Effect.RunEntityBatch runBatch(EntityRecord e) {
    return new Effect.RunEntityBatch(e.entityId, e.name, e.batchNumber, e.state, e.batch);
  }
}
