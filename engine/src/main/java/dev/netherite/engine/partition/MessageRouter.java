package dev.netherite.engine.partition;

import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.partition.PartitionEvent.MessagesReceived;
import java.time.Instant;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>Where a partition's messages go. A message for an id this partition hosts is delivered at
 * once; one for another partition goes into the {@link Outbox} channel to it and is sent once the
 * event that produced it is durable. Incoming channels are applied through the {@link DedupVector}:
 * only the next number of each channel takes effect, so a resent message is applied once.
 */
final class MessageRouter {

  /** The parts of the partition that take the messages it hosts. */
  @FunctionalInterface
  interface LocalDelivery {
    void deliver(PartitionMessage m, Instant now, List<Effect> effects);
  }

  private final int partitionId;
  private final PartitionPlacement placement;
  private final Outbox outbox;
  private final DedupVector dedup;
  private final LocalDelivery local;

  MessageRouter(
      int partitionId,
      PartitionPlacement placement,
      Outbox outbox,
      DedupVector dedup,
      LocalDelivery local) {
    this.partitionId = partitionId;
    this.placement = placement;
    this.outbox = outbox;
    this.dedup = dedup;
    this.local = local;
  }

  /** Sends {@code m} to the partition that hosts its target. */
  void send(PartitionMessage m, Instant now, List<Effect> effects) {
    int destination = placement.partitionOf(m.targetId());
    if (destination == partitionId) {
      local.deliver(m, now, effects);
    } else {
      long seq = outbox.append(destination, m);
      effects.add(new Effect.OutboxReady(destination, seq));
    }
  }

  /** Delivers {@code m}, whose target this partition hosts, at once. */
  void deliverHere(PartitionMessage m, Instant now, List<Effect> effects) {
    local.deliver(m, now, effects);
  }

  /**
   * Applies the next messages of the channel from {@code e.origin()}; duplicates are skipped, and a
   * gap stops the batch (the sender resends from the first message it has not seen acknowledged).
   */
  void receive(MessagesReceived e, List<Effect> effects) {
    long seq = e.firstSeq();
    long applied = dedup.lastApplied(e.origin());
    for (PartitionMessage m : e.messages()) {
      if (seq == applied + 1) {
        local.deliver(m, e.timestamp(), effects);
        applied = seq;
      } else if (seq > applied + 1) {
        break;
      }
      seq++;
    }
    dedup.advance(e.origin(), applied);
    effects.add(new Effect.AcknowledgeOrigin(e.origin(), applied));
  }

  /** After recovery: send what is unacknowledged again, acknowledge what was applied. */
  void addRecoveryEffects(List<Effect> effects) {
    for (int destination : outbox.pendingDestinations()) {
      effects.add(new Effect.OutboxReady(destination, outbox.lastSeq(destination)));
    }
    dedup
        .positions()
        .forEach((origin, seq) -> effects.add(new Effect.AcknowledgeOrigin(origin, seq)));
  }
}
