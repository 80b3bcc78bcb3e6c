package dev.netherite.engine.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What a checkpoint captures: the records the state machine touched since the last capture, and
 * again those of a capture that was abandoned; all of them after a whole-state checkpoint.
 */
class IncrementalCheckpointTest {
  private static final Instant T0 = Instant.parse("2025-01-02T03:04:05Z");

  private static PartitionEvent start(String id) {
    return new PartitionEvent.ClientRequestReceived(
        "req-" + id, new ClientRequest.StartOrchestration(id, "Hello", "null", null, Set.of()), T0);
  }

  private static List<String> keys(List<StoredRecord> records) {
    return records.stream().map(StoredRecord::key).sorted().toList();
  }

  @Test
  void aCheckpointCapturesOnlyTheRecordsTouchedSinceTheLastOne() {
    PartitionState state = new PartitionState(0, 1, 100);
    state.apply(start("a"));
    state.apply(start("b"));
    List<StoredRecord> first = new ArrayList<>();
    PartitionCheckpoint c1 = state.captureCheckpoint(2, first);
    assertEquals(2, c1.number());
    assertEquals(List.of("o:a", "o:b"), keys(first));
    state.checkpointCommitted();

    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-raise", new ClientRequest.RaiseEvent("b", "Go", "1"), T0));
    state.query(new ClientQuery.GetStatus("a", true)); // a query changes nothing
    List<StoredRecord> second = new ArrayList<>();
    state.captureCheckpoint(3, second);
    assertEquals(List.of("o:b"), keys(second));
    assertTrue(second.get(0).value() instanceof InstanceState);
  }

  @Test
  void anAbandonedCaptureIsCapturedAgainByTheNextCheckpoint() {
    PartitionState state = new PartitionState(0, 1, 100);
    state.apply(start("a"));
    state.captureCheckpoint(1, new ArrayList<>());
    state.checkpointAbandoned();
    state.apply(start("b"));
    List<StoredRecord> next = new ArrayList<>();
    state.captureCheckpoint(2, next);
    assertEquals(List.of("o:a", "o:b"), keys(next));
  }

  @Test
  void afterAWholeStateCheckpointEveryRecordIsCaptured() {
    PartitionState state = new PartitionState(0, 1, 100);
    state.apply(start("a"));
    state.apply(start("b"));
    state.captureCheckpoint(2, new ArrayList<>());
    state.checkpointCommitted();
    state.markAllChanged();
    List<StoredRecord> all = new ArrayList<>();
    state.captureCheckpoint(2, all);
    assertEquals(List.of("o:a", "o:b"), keys(all));
  }

  @Test
  void aRemovedRecordIsCapturedAsADeletion() {
    PartitionState state = new PartitionState(0, 1, 100);
    state.apply(start("a"));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-stop", new ClientRequest.Terminate("a", "test"), T0));
    state.captureCheckpoint(1, new ArrayList<>());
    state.checkpointCommitted();
    state.apply(
        new PartitionEvent.ClientRequestReceived("req-purge", new ClientRequest.Purge("a"), T0));
    List<StoredRecord> next = new ArrayList<>();
    state.captureCheckpoint(2, next);
    assertEquals(List.of("o:a"), keys(next));
    assertTrue(next.get(0).deleted(), "a purged instance is a deletion");
  }

  @Test
  void aRecordCreatedAndRemovedBetweenCheckpointsLeavesNoRow() {
    PartitionState state = new PartitionState(0, 1, 100);
    state.apply(start("a"));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-stop", new ClientRequest.Terminate("a", "test"), T0));
    state.apply(
        new PartitionEvent.ClientRequestReceived("req-purge", new ClientRequest.Purge("a"), T0));
    List<StoredRecord> next = new ArrayList<>();
    state.captureCheckpoint(1, next);
    assertEquals(List.of(), keys(next));
  }

  @Test
  void onlyRecordsAlreadyInTheStoreSupersedeEarlierRows() {
    PartitionState state = new PartitionState(0, 1, 100);
    state.apply(start("a"));
    List<StoredRecord> first = new ArrayList<>();
    state.captureCheckpoint(1, first);
    assertFalse(first.get(0).superseding(), "a new record has no earlier rows");
    state.checkpointCommitted();
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-raise", new ClientRequest.RaiseEvent("a", "Go", "1"), T0));
    List<StoredRecord> second = new ArrayList<>();
    state.captureCheckpoint(2, second);
    assertTrue(second.get(0).superseding());
  }

  @Test
  void aDeletionOfAnAbandonedCaptureIsCapturedAgain() {
    PartitionState state = new PartitionState(0, 1, 100);
    state.apply(start("a"));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-stop", new ClientRequest.Terminate("a", "test"), T0));
    state.captureCheckpoint(1, new ArrayList<>());
    state.checkpointAbandoned(); // its row of "a" may be in the store
    state.apply(
        new PartitionEvent.ClientRequestReceived("req-purge", new ClientRequest.Purge("a"), T0));
    List<StoredRecord> next = new ArrayList<>();
    state.captureCheckpoint(2, next);
    assertEquals(List.of("o:a"), keys(next));
    assertTrue(next.get(0).deleted());
    state.checkpointAbandoned();
    List<StoredRecord> again = new ArrayList<>();
    state.captureCheckpoint(3, again);
    assertEquals(List.of("o:a"), keys(again), "the deletion is written by the next checkpoint");
    assertTrue(again.get(0).deleted() && again.get(0).superseding());
  }

  @Test
  void aRecordRestoredFromTheStoreSupersedesItsRow() {
    PartitionState source = new PartitionState(0, 1, 100);
    source.apply(start("a"));
    StoredRecord stored = source.record("o:a");
    PartitionState state = new PartitionState(0, 1, 100);
    state.restoreRecord(new StoredRecord(stored.key(), stored.value()));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-stop", new ClientRequest.Terminate("a", "test"), T0));
    state.apply(
        new PartitionEvent.ClientRequestReceived("req-purge", new ClientRequest.Purge("a"), T0));
    List<StoredRecord> next = new ArrayList<>();
    state.captureCheckpoint(1, next);
    assertEquals(List.of("o:a"), keys(next), "the deletion of a stored record is written");
    assertTrue(next.get(0).deleted() && next.get(0).superseding());
  }

  @Test
  void aRecordTheReplayedSuffixCreatesAndRemovesIsWrittenAsADeletion() {
    // A checkpoint of an earlier incarnation may have written "a" and failed before its commit.
    PartitionState state = new PartitionState(0, 1, 100);
    state.replaying(true);
    state.apply(start("a"));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-stop", new ClientRequest.Terminate("a", "test"), T0));
    state.apply(
        new PartitionEvent.ClientRequestReceived("req-purge", new ClientRequest.Purge("a"), T0));
    state.replaying(false);
    List<StoredRecord> next = new ArrayList<>();
    state.captureCheckpoint(1, next);
    assertEquals(List.of("o:a"), keys(next));
    assertTrue(next.get(0).deleted() && next.get(0).superseding());
  }
}
