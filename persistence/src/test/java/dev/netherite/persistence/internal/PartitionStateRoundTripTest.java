package dev.netherite.persistence.internal;

import static dev.netherite.persistence.internal.WireSamples.ALICE;
import static dev.netherite.persistence.internal.WireSamples.CAROL;
import static dev.netherite.persistence.internal.WireSamples.HITS;
import static dev.netherite.persistence.internal.WireSamples.ORDER;
import static dev.netherite.persistence.internal.WireSamples.REPORT;
import static dev.netherite.persistence.internal.WireSamples.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.InstanceState;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.StepResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A checkpoint restores a working partition: the sample PartitionState, written and read back with
 * the production Kryo configuration, answers queries as the original does and, given the same
 * further events, asks for the same effects and reaches the same state.
 */
class PartitionStateRoundTripTest {

  private static PartitionState roundTrip(PartitionState state) {
    Output output = new Output(1024, -1);
    WireRegistry.newKryo(null).writeClassAndObject(output, state);
    return (PartitionState)
        WireRegistry.newKryo(null).readClassAndObject(new Input(output.toBytes()));
  }

  @Test
  void theSampleIsTheStateItDescribes() {
    PartitionState s = WireSamples.partitionState();
    assertEquals(3, s.partitionId());
    assertEquals(12, s.partitionCount());
    assertEquals(2, s.instanceCount());
    assertEquals(RuntimeStatus.RUNNING, s.instance(ORDER).status());
    assertEquals(RuntimeStatus.PENDING, s.instance(REPORT).status());
    assertEquals(List.of(5), s.outbox().pendingDestinations());
    // event (acknowledged), sub-orchestration, call to carol, lock request forwarded to carol by
    // alice
    assertEquals(4, s.outbox().lastSeq(5));
    assertEquals(1, s.outbox().acknowledged(5));
    assertEquals(3, s.outbox().unacknowledgedCount());
    assertEquals(Map.of(7, 1L), s.dedup().positions());
    // the order's timer, the report's scheduled start, the counter's delayed signal
    assertEquals(3, s.timers().size());
    assertEquals(2, s.entityCount());
    assertEquals(ORDER, s.entity(ALICE).lockedBy().instanceId());
    assertEquals(1, s.entity(ALICE).backlog()); // the client's signal waits for the lock
    assertEquals(1, s.entity(HITS).backlog()); // its batch runs
    assertEquals(0, s.entity(CAROL) == null ? 0 : 1); // carol lives on partition 5
    assertEquals(50, s.entityBatchLimit());
    assertEquals(T0.plus(Duration.ofHours(1)), s.timers().nextDue());
    assertEquals(Set.of(1), s.instance(ORDER).pendingActivities().keySet());
    // req-4, a second start of a running instance, was rejected; its retry is answered from the
    // request log.
    List<Effect> retried =
        s.apply(
            new PartitionEvent.ClientRequestReceived(
                "req-4",
                new ClientRequest.StartOrchestration(ORDER, "OrderFlow", "{}", null, Set.of()),
                T0));
    assertInstanceOf(
        ClientResponse.Rejected.class,
        ((Effect.ReplyToClient) retried.get(0)).response(),
        retried.toString());
  }

  @Test
  void aRestoredCheckpointBehavesAsTheOriginal() {
    PartitionState original = WireSamples.partitionState();
    PartitionState copy = roundTrip(original);
    assertNotSame(original, copy);
    assertEquals(observe(original), observe(copy));

    String execution = original.instance(ORDER).executionId();
    List<PartitionEvent> next =
        List.of(
            // Step 2 (the one in progress) ends: an event to partition 5 (outbox seq 3), then step
            // 3 for "Note".
            new PartitionEvent.StepCompleted(
                ORDER,
                execution,
                2,
                new StepResult(
                    List.of(new HistoryEvent.EventSent(5, "audit!5", "OrderApproved", "true")),
                    true,
                    "\"approved\"",
                    null),
                T0.plusSeconds(10)),
            // The order's timer and the report's scheduled start fire.
            new PartitionEvent.TimersFired(T0.plus(Duration.ofDays(1))),
            // The pending activity ends.
            new PartitionEvent.ActivityCompleted(
                ORDER, execution, 1, "\"reserved\"", null, T0.plus(Duration.ofDays(1))),
            // A duplicate of origin 7's first message and its next one.
            new PartitionEvent.MessagesReceived(
                7,
                1,
                List.of(
                    new PartitionMessage.EventDelivered(ORDER, "Approved", "true"),
                    new PartitionMessage.EventDelivered(REPORT, "Go", "1")),
                T0.plus(Duration.ofDays(1)).plusSeconds(1)),
            // Partition 5 acknowledges everything; a retried request is answered from the log.
            new PartitionEvent.DeliveryAcknowledged(
                5, 5, T0.plus(Duration.ofDays(1)).plusSeconds(2)),
            new PartitionEvent.ClientRequestReceived(
                "req-1",
                new ClientRequest.StartOrchestration(
                    ORDER, "OrderFlow", "{\"qty\":2}", null, Set.of(RuntimeStatus.FAILED)),
                T0.plus(Duration.ofDays(1)).plusSeconds(3)),
            // A new instance takes the next execution id (the counter is part of the checkpoint).
            new PartitionEvent.ClientRequestReceived(
                "req-5",
                new ClientRequest.StartOrchestration(
                    "invoice-9!3", "Invoice", "{\"order\":42}", null, Set.of()),
                T0.plus(Duration.ofDays(1)).plusSeconds(4)));
    for (PartitionEvent event : next) {
      List<Effect> expected = original.apply(event);
      List<Effect> actual = copy.apply(event);
      assertEquals(expected, actual, () -> "effects of " + event);
      assertEquals(observe(original), observe(copy), () -> "state after " + event);
    }
    // The events did change the state: the outbox drained, the timers fired, the dedup position
    // advanced.
    assertEquals(0, copy.outbox().unacknowledgedCount());
    assertEquals(0, copy.timers().size());
    assertEquals(
        2, copy.entity(HITS).backlog()); // the delayed signal arrived behind the running batch
    assertEquals(Map.of(7, 2L), copy.dedup().positions());
    assertEquals(RuntimeStatus.RUNNING, copy.instance(REPORT).status());
    assertEquals(
        original.instance("invoice-9!3").executionId(), copy.instance("invoice-9!3").executionId());
  }

  /** Everything the engine can observe of a partition's state. */
  private static List<Object> observe(PartitionState s) {
    return Arrays.asList(
        s.partitionId(),
        s.partitionCount(),
        s.instanceCount(),
        s.statusCounts(),
        s.query(new ClientQuery.GetStatus(ORDER, true)),
        s.query(new ClientQuery.GetStatus(REPORT, true)),
        s.query(new ClientQuery.ListInstances(Set.of(), null, null, null, null, 10)),
        instanceDetails(s.instance(ORDER)),
        instanceDetails(s.instance(REPORT)),
        s.outbox().entries(5, 0, Long.MAX_VALUE, Integer.MAX_VALUE),
        s.outbox().acknowledged(5),
        s.outbox().lastSeq(5),
        s.outbox().pendingDestinations(),
        s.outbox().unacknowledgedCount(),
        s.timers().nextDue(),
        s.timers().size(),
        Map.copyOf(s.dedup().positions()),
        s.entityCount(),
        s.entityBatchLimit(),
        s.query(new ClientQuery.ReadEntity(ALICE)),
        s.query(new ClientQuery.ReadEntity(HITS)),
        inAnyOrder(s.recoveryEffects()));
  }

  /**
   * recoveryEffects() walks the instances in the iteration order of PartitionState's HashMap, which
   * depends on the map's capacity, not only on its keys: Kryo's MapSerializer re-creates the map
   * sized for its entries, so once a key is added the original and the restored copy may list the
   * same effects in another order.
   */
  private static List<String> inAnyOrder(List<Effect> effects) {
    return effects.stream().map(Object::toString).sorted().toList();
  }

  private static List<Object> instanceDetails(InstanceState i) {
    Map<Integer, List<String>> pending = new TreeMap<>();
    i.pendingActivities()
        .forEach(
            (task, call) -> pending.put(task, Arrays.asList(call.activityName(), call.input())));
    return Arrays.asList(
        i.instanceId(), i.executionId(), i.status(), new ArrayList<>(i.history()), pending);
  }
}
