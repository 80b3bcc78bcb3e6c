package dev.netherite.engine.partition;

import static dev.netherite.engine.partition.PartsFixture.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.netherite.engine.partition.PartitionEvent.MessagesReceived;
import dev.netherite.engine.partition.PartitionMessage.EventDelivered;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Routing on its own: local delivery, the outbox, and the numbered incoming channels. */
class MessageRouterTest {
  private final PartsFixture parts = new PartsFixture();
  private final List<Effect> effects = new ArrayList<>();

  private static EventDelivered event(String instanceId, String name) {
    return new EventDelivered(instanceId, name, null);
  }

  @Test
  void aMessageForThisPartitionIsDeliveredAtOnceAndOneForAnotherGoesToTheOutbox() {
    parts.router.send(event("here!0", "e1"), T0, effects);
    parts.router.send(event("there!1", "e2"), T0, effects);
    parts.router.send(event("there!1", "e3"), T0, effects);
    assertEquals(List.of(event("here!0", "e1")), parts.delivered);
    assertEquals(
        List.of(event("there!1", "e2"), event("there!1", "e3")), parts.sentToOtherPartition());
    assertEquals(List.of(new Effect.OutboxReady(1, 1), new Effect.OutboxReady(1, 2)), effects);
  }

  @Test
  void eachChannelAppliesOnlyItsNextNumberAndAcknowledgesWhatItApplied() {
    parts.router.receive(
        new MessagesReceived(1, 1, List.of(event("a!0", "m1"), event("a!0", "m2")), T0), effects);
    // A resend overlapping what was applied, then a batch after a gap.
    parts.router.receive(
        new MessagesReceived(1, 2, List.of(event("a!0", "m2"), event("a!0", "m3")), T0), effects);
    parts.router.receive(new MessagesReceived(1, 5, List.of(event("a!0", "m5")), T0), effects);

    assertEquals(
        List.of(event("a!0", "m1"), event("a!0", "m2"), event("a!0", "m3")), parts.delivered);
    assertEquals(3L, parts.dedup.lastApplied(1));
    assertEquals(
        List.of(
            new Effect.AcknowledgeOrigin(1, 2),
            new Effect.AcknowledgeOrigin(1, 3),
            new Effect.AcknowledgeOrigin(1, 3)),
        effects);
  }

  @Test
  void recoverySendsTheUnacknowledgedAgainAndAcknowledgesWhatWasApplied() {
    parts.router.send(event("there!1", "e1"), T0, effects);
    parts.router.send(event("there!1", "e2"), T0, effects);
    parts.outbox.acknowledge(1, 1);
    parts.router.receive(new MessagesReceived(1, 1, List.of(event("a!0", "m1")), T0), effects);
    List<Effect> recovery = new ArrayList<>();
    parts.router.addRecoveryEffects(recovery);
    assertEquals(
        List.of(new Effect.OutboxReady(1, 2), new Effect.AcknowledgeOrigin(1, 1)), recovery);
  }
}
