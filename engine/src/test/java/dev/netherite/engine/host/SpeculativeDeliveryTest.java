package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.StepId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code global} mode at one host: what it records for messages from another partition's
 * speculative steps, and what it does when that partition says how far they survived.
 */
class SpeculativeDeliveryTest {
  /** A journal event takes 10 bytes. */
  private final TestPorts ports = TestPorts.builder().sizes(event -> 10).build();

  private final PartitionHost host = newHost();

  private static StepId s(long incarnation, long position) {
    return new StepId(incarnation, position);
  }

  /**
   * Partition 1 sent a message from step 3:9, then lost that step (its incarnation 3 survived only
   * to 3:4) and went on in incarnation 5. The message from 3:9 arrives late, after one from 5:1:
   * the dependency on 5:1 does not cover it, since 5:1 commits while 3:9 is lost. The host must
   * record its own dependency on 3:9 and take back what consumed it once partition 1 tells, never
   * acknowledge it: partition 1 numbers its channel again from what survived, and its next message
   * under that number would be dropped as a duplicate.
   */
  @Test
  void aMessageFromALostStepOfAnEarlierIncarnationIsTakenBackThoughALaterStepCommits() {
    host.recoveryCompleted();
    settle();
    host.input(deliver(1, s(5, 1), "from-5-1"));
    settle();
    host.input(deliver(2, s(3, 9), "from-3-9"));
    settle();
    assertEquals(
        List.of(
            new PartitionEvent.DependsOn(1, s(5, 1), Instant.EPOCH),
            new PartitionEvent.DependsOn(1, s(3, 9), Instant.EPOCH)),
        ports.journal.written(PartitionEvent.DependsOn.class),
        "the message from 3:9 needs a dependency of its own");

    host.input(new PartitionLink.Committed(1, CommitInfo.of(5, s(5, 1), Map.of(3L, 4L), 0)));
    settle();
    assertFalse(
        ports.journal.written(PartitionEvent.Voided.class).isEmpty(),
        "the host takes back what consumed the lost step 3:9: " + ports.journal.writes);
    assertEquals(PartitionHost.Phase.STOPPED, host.phase(), "a new host recovers what is left");
    for (PartitionLink link : ports.sent) {
      if (link instanceof PartitionLink.Ack ack) {
        assertTrue(ack.upTo() < 2, "the message from the lost step was acknowledged: " + ack);
      }
    }
  }

  private static PartitionLink.Deliver deliver(long seq, StepId tag, String payload) {
    List<PartitionMessage> messages =
        List.of(new PartitionMessage.EventDelivered("nobody", "e", payload));
    return new PartitionLink.Deliver(1, seq, messages, tag, null);
  }

  private void settle() {
    while (host.writeInFlight() && host.phase() != PartitionHost.Phase.STOPPED) {
      ports.journal.complete(host);
    }
  }

  private PartitionHost newHost() {
    HostSettings settings =
        TestPorts.settings(PersistenceMode.GLOBAL)
            .partitionCount(2)
            .checkpointAfterEvents(1000)
            .build();
    return ports.host(settings);
  }
}
