package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.PartitionEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The host's lifecycle and commit log, step by step, with ports that only record what they are
 * asked. The seeded simulation runs the same host under faults; this pins the rules one at a time.
 */
class PartitionHostTest {
  /**
   * A journal event's size is the length of the payload of a raised event or of an activity's
   * result (10 bytes for any other event), so tests choose sizes exactly.
   */
  private final TestPorts ports = TestPorts.builder().sizes(PartitionHostTest::sizeOf).build();

  private final List<EventBatch> writes = ports.journal.writes;
  private final List<Checkpoint> checkpoints = ports.journal.checkpoints;
  private final List<String> errors = ports.log.errors;
  private final List<String> replies = new ArrayList<>();

  private final PartitionHost host = newHost(settings(HostSettings.DEFAULT_MAX_BATCH_BYTES));

  private static HostSettings settings(long maxBatchBytes) {
    return settings(maxBatchBytes, 2, HostSettings.DEFAULT_CHECKPOINT_AFTER_BYTES);
  }

  private static HostSettings settings(
      long maxBatchBytes, long checkpointAfterEvents, long checkpointAfterBytes) {
    return TestPorts.settings(PersistenceMode.LOCAL)
        .maxBatchBytes(maxBatchBytes)
        .checkpointAfterEvents(checkpointAfterEvents)
        .checkpointAfterBytes(checkpointAfterBytes)
        .build();
  }

  private static long sizeOf(PartitionEvent event) {
    if (event instanceof PartitionEvent.ClientRequestReceived c
        && c.request() instanceof ClientRequest.RaiseEvent r) {
      return r.input().length();
    }
    if (event instanceof PartitionEvent.ActivityCompleted a && a.result() != null) {
      return a.result().length();
    }
    return 10;
  }

  private PartitionHost newHost(HostSettings settings) {
    return ports.host(settings);
  }

  private PartitionHost newHost(HostSettings settings, CommitLogFaults faults) {
    return ports.host(settings, faults);
  }

  /** A request that changes nothing but is logged and answered: an event for no instance. */
  private void request(String id) {
    request(host, id, "1");
  }

  /** As {@link #request(String)}, with a payload of {@code payload}'s size. */
  private void request(PartitionHost to, String id, String payload) {
    to.input(
        new HostInput.ClientCommand(
            id,
            new ClientRequest.RaiseEvent("nobody", "e", payload),
            r -> {
              replies.add(id);
              responses.add(r);
            }));
  }

  private final List<ClientResponse> responses = new ArrayList<>();

  private static String bytes(int n) {
    return "x".repeat(n);
  }

  private static List<String> requestIds(EventBatch batch) {
    return batch.events().stream()
        .map(e -> ((PartitionEvent.ClientRequestReceived) e).requestId())
        .toList();
  }

  @Test
  void aReplyLeavesOnlyOnceItsWriteIsDurable() {
    host.recoveryCompleted();
    request("r1");
    assertEquals(1, writes.size());
    assertEquals(List.of(), replies);
    ports.journal.complete(host);
    assertEquals(List.of("r1"), replies);
  }

  @Test
  void whatArrivesDuringAWriteGoesIntoTheNextOne() {
    host.recoveryCompleted();
    request("r1");
    request("r2");
    request("r3");
    assertEquals(1, writes.size());
    ports.journal.complete(host);
    assertEquals(2, writes.size());
    assertEquals(2, writes.get(1).events().size());
    assertEquals(List.of("r1"), replies);
    ports.journal.complete(host);
    assertEquals(List.of("r1", "r2", "r3"), replies);
  }

  @Test
  void aCheckpointIsCapturedWhenNothingIsInFlightAndInputGoesOnWhileItIsStored() {
    host.recoveryCompleted();
    request("r1");
    ports.journal.complete(host); // 1 event since the last checkpoint
    request("r2");
    request("r3"); // buffered behind r2's write
    ports.journal.complete(host); // 2 events: a checkpoint is due, but r3 is buffered
    assertEquals(PartitionHost.Phase.CHECKPOINTING, host.phase());
    assertEquals(3, writes.size(), "the buffer is written first");
    assertEquals(0, checkpoints.size(), "no checkpoint with a write in flight");

    request("r4"); // arrives while waiting for the quiescent point: waits
    assertEquals(1, host.stashedInputs());
    ports.journal.complete(host);
    assertEquals(1, checkpoints.size());
    assertEquals(3, checkpoints.get(0).number(), "labelled with the last durable batch");
    assertEquals(PartitionHost.Phase.RUNNING, host.phase(), "captured: the host runs on");
    assertEquals(4, writes.size(), "the waiting input is taken while the checkpoint is stored");
    assertEquals(0, host.stashedInputs());

    request("r5");
    ports.journal.complete(host);
    request("r6");
    ports.journal.complete(host); // events enough for the next checkpoint, but one is being stored
    assertEquals(1, checkpoints.size(), "one checkpoint at a time");
    assertEquals(List.of("r1", "r2", "r3", "r4", "r5"), replies);

    host.onCheckpointSaved(3);
    assertEquals(List.of(3L), ports.journal.deletions);
    assertEquals(PartitionHost.Phase.RUNNING, host.phase());
    assertEquals(2, host.eventsSinceCheckpoint(), "what came after the capture counts");
  }

  @Test
  void aCheckpointIsDueAfterEnoughJournalBytesToo() {
    PartitionHost byBytes = newHost(settings(HostSettings.DEFAULT_MAX_BATCH_BYTES, 1000, 1000));
    byBytes.recoveryCompleted();
    request(byBytes, "r1", bytes(600));
    ports.journal.complete(byBytes);
    assertEquals(0, checkpoints.size(), "600 bytes since the last checkpoint");
    request(byBytes, "r2", bytes(500));
    ports.journal.complete(byBytes);
    assertEquals(1, checkpoints.size(), "1100 bytes: due, though 2 events are far from 1000");
    byBytes.onCheckpointFailed(new IOException("refused"));
    request(byBytes, "r3", bytes(600));
    ports.journal.complete(byBytes);
    assertEquals(1, checkpoints.size(), "after a failure, the next is due 1000 bytes later");
    request(byBytes, "r4", bytes(500));
    ports.journal.complete(byBytes);
    assertEquals(2, checkpoints.size());
  }

  @Test
  void aFailedCheckpointCountsItsEventsAgainForTheNext() {
    host.recoveryCompleted();
    request("r1");
    ports.journal.complete(host);
    request("r2");
    ports.journal.complete(host); // a checkpoint at 2
    assertEquals(1, checkpoints.size());
    request("r3");
    ports.journal.complete(host);
    host.onCheckpointFailed(new IOException("refused"));
    assertEquals(3, host.eventsSinceCheckpoint());
    assertEquals(PartitionHost.Phase.RUNNING, host.phase());
  }

  @Test
  void aHandOffDuringACheckpointTakesAFinalOneAfterIt() {
    host.recoveryCompleted();
    request("r1");
    ports.journal.complete(host);
    request("r2");
    ports.journal.complete(host); // a checkpoint at 2 is being stored
    request("r3");
    host.handOff();
    ports.journal.complete(host);
    assertEquals(1, checkpoints.size(), "still one at a time");
    host.onCheckpointSaved(2);
    assertEquals(PartitionHost.Phase.HANDING_OFF, host.phase());
    assertEquals(2, checkpoints.size(), "the final checkpoint holds r3");
    assertEquals(3, checkpoints.get(1).number());
    host.onCheckpointSaved(3);
    assertEquals(PartitionHost.Phase.STOPPED, host.phase());
  }

  @Test
  void aHandOffTakesAFinalCheckpointThenStops() {
    host.recoveryCompleted();
    request("r1");
    host.handOff();
    assertEquals(PartitionHost.Phase.HANDING_OFF, host.phase());
    assertEquals(0, checkpoints.size());
    ports.journal.complete(host);
    assertEquals(1, checkpoints.size());
    host.onCheckpointSaved(1);
    assertEquals(PartitionHost.Phase.STOPPED, host.phase());
    assertEquals(1, ports.stops);
  }

  @Test
  void aFailedWriteStopsTheHostAndNothingOfItIsAnswered() {
    host.recoveryCompleted();
    request("r1");
    ports.journal.fail(host, new IOException("refused"));
    assertEquals(PartitionHost.Phase.STOPPED, host.phase());
    assertEquals(1, ports.stops);
    request("r2");
    host.onWritten(); // a completion that comes too late is ignored
    assertEquals(1, writes.size());
    assertTrue(replies.isEmpty(), "nothing of a lost write is answered: " + replies);
  }

  @Test
  void inputWaitsWhileRecovering() {
    request("r1");
    assertEquals(0, writes.size());
    assertEquals(1, host.stashedInputs());
    host.recoveryCompleted();
    assertEquals(1, writes.size());
    ports.journal.complete(host);
    assertEquals(List.of("r1"), replies);
  }

  @Test
  void aWriteIsCutAtTheByteCap() {
    PartitionHost capped = newHost(settings(1000));
    capped.recoveryCompleted();
    request(capped, "r1", bytes(400)); // written at once, alone
    request(capped, "r2", bytes(400));
    request(capped, "r3", bytes(400));
    request(capped, "r4", bytes(250));
    request(capped, "r5", bytes(400));
    ports.journal.complete(capped);
    assertEquals(List.of("r2", "r3"), requestIds(writes.get(1)), "800 bytes; r4 would make 1050");
    ports.journal.complete(capped);
    assertEquals(List.of("r4", "r5"), requestIds(writes.get(2)));
    ports.journal.complete(capped);
    assertEquals(List.of("r1", "r2", "r3", "r4", "r5"), replies);
  }

  @Test
  void anEventAboveTheCapIsNeverWrittenAndFailsOnlyWhatProducedIt() {
    PartitionHost capped = newHost(settings(1000));
    capped.recoveryCompleted();
    request(capped, "big", bytes(1001));
    assertEquals(0, writes.size(), "the oversized request is not recorded");
    ClientResponse.Rejected refusal = (ClientResponse.Rejected) responses.get(0);
    assertTrue(
        refusal.message().contains("netherite.commit-log.max-batch-bytes"), refusal.message());

    // An activity's oversized result becomes the failure of that call.
    capped.input(new HostInput.ActivityFinished("i1", "e1", 3, bytes(5000), null));
    PartitionEvent.ActivityCompleted recorded =
        (PartitionEvent.ActivityCompleted) writes.get(0).events().get(0);
    assertEquals(null, recorded.result());
    assertTrue(recorded.failure().isCausedBy(dev.netherite.dsl.PayloadTooLargeException.class));
    assertTrue(
        recorded.failure().message().contains("activity call 3 of instance 'i1'")
            && recorded.failure().message().contains("netherite.commit-log.max-batch-bytes"),
        recorded.failure().message());
    ports.journal.complete(capped);
    request(capped, "small", bytes(10));
    assertEquals(PartitionHost.Phase.RUNNING, capped.phase(), "the partition goes on");
    assertEquals(2, writes.size());
  }

  /**
   * A store that refuses every batch holding request "poison": the first host's batch is refused,
   * the next writes one event at a time and finds it, the third refuses it when the client retries
   * it, and everything else is written and answered. Hosts share what they learned, as the
   * partition's supervisor makes them.
   */
  @Test
  void aWriteTheStoreRefusesIsIsolatedToTheEventThatCausedIt() {
    CommitLogFaults faults = new CommitLogFaults();
    HostSettings settings = settings(HostSettings.DEFAULT_MAX_BATCH_BYTES);
    List<String> retried = List.of("a", "poison", "b");

    PartitionHost first = newHost(settings, faults);
    first.recoveryCompleted();
    request(first, "r0", "1");
    retried.forEach(id -> request(first, id, "1"));
    ports.journal.complete(first); // r0
    assertEquals(List.of("a", "poison", "b"), requestIds(writes.get(1)));
    ports.journal.refuse(first, new IllegalArgumentException("Mutation too large"));
    assertEquals(1, ports.stops);
    assertTrue(faults.isolating());
    assertTrue(errors.get(0).contains("batch of 3 events"), errors.get(0));

    PartitionHost second = newHost(settings, faults);
    second.recoveryCompleted();
    retried.forEach(id -> request(second, id, "1")); // the client retries with the same ids
    assertEquals(List.of("a"), requestIds(writes.get(2)), "one event per write");
    ports.journal.complete(second);
    assertEquals(List.of("poison"), requestIds(writes.get(3)));
    ports.journal.refuse(second, new IllegalArgumentException("Mutation too large"));
    assertEquals(2, ports.stops);
    assertEquals(1, faults.poisonedCount());
    assertTrue(
        errors.get(1).contains("client request poison") && errors.get(1).contains("refused"),
        errors.get(1));

    replies.clear();
    responses.clear();
    PartitionHost third = newHost(settings, faults);
    third.recoveryCompleted();
    retried.forEach(id -> request(third, id, "1"));
    assertEquals(List.of("poison"), replies, "refused at once, never written");
    assertTrue(
        ((ClientResponse.Rejected) responses.get(0)).message().contains("refused to store"),
        responses.get(0).toString());
    while (third.writeInFlight()) {
      ports.journal.complete(third);
    }
    assertEquals(List.of("poison", "a", "b"), replies);
    assertTrue(third.phase() != PartitionHost.Phase.STOPPED);
    assertEquals(2, ports.stops, "no more restarts");
    assertTrue(
        writes.stream().skip(4).allMatch(w -> !requestIds(w).contains("poison")),
        "the poison is never written again");
  }

  @Test
  void aWriteThatFailedBecauseTheStoreWasDownBlamesNoEvent() {
    CommitLogFaults faults = new CommitLogFaults();
    PartitionHost first = newHost(settings(HostSettings.DEFAULT_MAX_BATCH_BYTES), faults);
    first.recoveryCompleted();
    request(first, "r1", "1");
    ports.journal.fail(first, new IOException("no node was available"));
    assertEquals(1, ports.stops);
    assertTrue(!faults.isolating() && faults.poisonedCount() == 0);
  }
}
