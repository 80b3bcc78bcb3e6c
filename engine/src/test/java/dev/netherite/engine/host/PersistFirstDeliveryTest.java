package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code persist-first} mode applies a delivery only when its write is durable, so the dedup
 * vector lags what the host has recorded: a delivery that arrives while the previous one is being
 * written must follow that one, not be taken for one after a gap.
 */
class PersistFirstDeliveryTest {
  private final TestPorts ports = TestPorts.builder().strict().build();
  private final PartitionHost host =
      ports.host(TestPorts.settings(PersistenceMode.PERSIST_FIRST).partitionCount(2).build());

  @Test
  void aDeliveryDuringTheWriteOfThePreviousOneIsRecordedAfterIt() {
    host.recoveryCompleted();
    ports.journal.completeAll(host);

    host.input(deliver(1, "first"));
    assertTrue(host.writeInFlight(), "the first delivery is being written");
    host.input(deliver(2, "second")); // the dedup vector still says 0 from partition 1
    host.input(deliver(2, "second")); // a resend of it, before either write is durable
    host.input(deliver(4, "fourth")); // after a real gap: message 3 was lost
    ports.journal.completeAll(host);

    List<PartitionEvent.MessagesReceived> received =
        ports.journal.written(PartitionEvent.MessagesReceived.class);
    assertEquals(List.of(1L, 2L), received.stream().map(r -> r.firstSeq()).toList());
    assertEquals(
        2, ports.journal.rebuilt(ports.journal.durable.size()).dedup().lastApplied(1), "applied");

    host.input(deliver(3, "third")); // the resend fills the gap; the fourth comes again after it
    host.input(deliver(4, "fourth"));
    ports.journal.completeAll(host);
    assertEquals(
        List.of(1L, 2L, 3L, 4L),
        ports.journal.written(PartitionEvent.MessagesReceived.class).stream()
            .map(r -> r.firstSeq())
            .toList());
  }

  private static PartitionLink.Deliver deliver(long seq, String payload) {
    List<PartitionMessage> messages =
        List.of(new PartitionMessage.EventDelivered("nobody", "e", payload));
    return new PartitionLink.Deliver(1, seq, messages, null, null);
  }
}
