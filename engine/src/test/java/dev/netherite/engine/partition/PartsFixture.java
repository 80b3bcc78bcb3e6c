package dev.netherite.engine.partition;

import dev.netherite.engine.PartitionPlacement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of partition 0 of 2 wired to one another as {@link PartitionState} wires them, with
 * every message delivered here recorded. Ids ending in {@code !0} live here, {@code !1} on the
 * other partition.
 */
final class PartsFixture {
  static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

  final Outbox outbox = new Outbox();
  final DedupVector dedup = new DedupVector();
  final TimerTable timers = new TimerTable();
  final List<PartitionMessage> delivered = new ArrayList<>();
  final MessageRouter router;
  final LockChain locks;
  final Instances instances;
  final EntityScheduler entities;
  int batchLimit = 3;

  private long executions;

  PartsFixture() {
    router = new MessageRouter(0, new PartitionPlacement(2), outbox, dedup, this::deliver);
    locks = new LockChain(router);
    instances =
        new Instances(
            new RecordTable<>(new java.util.LinkedHashMap<>(), StoredRecord.INSTANCE_PREFIX),
            timers,
            router,
            locks,
            () -> "0-" + ++executions);
    entities =
        new EntityScheduler(
            new RecordTable<>(new java.util.LinkedHashMap<>(), StoredRecord.ENTITY_PREFIX),
            () -> batchLimit,
            locks,
            router);
  }

  private void deliver(PartitionMessage m, Instant now, List<Effect> effects) {
    delivered.add(m);
    switch (m) {
      case PartitionMessage.ToInstance t -> instances.deliver(t, now, effects);
      case PartitionMessage.ToEntity t -> entities.enqueue(t, now, effects);
    }
  }

  /** The messages in the outbox channel to partition 1. */
  List<PartitionMessage> sentToOtherPartition() {
    return outbox.entries(1, 0, outbox.lastSeq(1), 1000).stream()
        .map(Outbox.Entry::message)
        .toList();
  }

  static <T> List<T> only(List<Effect> effects, Class<T> type) {
    return effects.stream().filter(type::isInstance).map(type::cast).toList();
  }
}
