package dev.netherite.engine.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.netherite.dsl.RuntimeStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * One batch of a purge sweep, {@link PartitionEvent.InstancesPurged}, applied to a partition that
 * holds the ended instances in memory and to one that holds them in the store only: the same state,
 * the same deletions at the next checkpoint. That is what makes its replay correct, since a
 * recovered partition holds other records in memory than the live one did.
 */
class InstancesPurgedTest {
  private static final Instant T0 = Instant.parse("2025-01-02T03:04:05Z");
  private static final Instant LATER = T0.plusSeconds(3600);

  private static PartitionEvent start(String id) {
    return new PartitionEvent.ClientRequestReceived(
        "start-" + id,
        new ClientRequest.StartOrchestration(id, "Hello", "null", LATER, Set.of()),
        T0);
  }

  private static PartitionEvent terminate(String id) {
    return new PartitionEvent.ClientRequestReceived(
        "terminate-" + id, new ClientRequest.Terminate(id, "done"), T0);
  }

  /** Two ended instances and one that has not ended, all in a committed checkpoint. */
  private static PartitionState committed() {
    PartitionState state = new PartitionState(0, 1, 100);
    for (String id : List.of("a", "b", "running")) {
      state.apply(start(id));
    }
    state.apply(terminate("a"));
    state.apply(terminate("b"));
    state.captureCheckpoint(5, new ArrayList<>());
    state.checkpointCommitted();
    return state;
  }

  private static List<String> rows(List<StoredRecord> records) {
    return records.stream()
        .map(r -> r.key() + (r.deleted() ? " deleted" : " written"))
        .sorted()
        .toList();
  }

  @Test
  void anEndedInstanceGoesTheSameWayInMemoryAndInTheStoreOnly() {
    PartitionState inMemory = committed();
    PartitionState inStore = committed();
    assertEquals(2, inStore.evict(0, Long.MAX_VALUE, false, Set.of()).ended());
    assertNull(inStore.instance("a"));

    PartitionEvent purge =
        new PartitionEvent.InstancesPurged(List.of("a", "b", "running"), T0.plusSeconds(1));
    inMemory.apply(purge);
    inStore.apply(purge);

    for (PartitionState s : List.of(inMemory, inStore)) {
      assertNull(s.instance("a"));
      assertNull(s.instance("b"));
      assertFalse(s.mayBeStored("a"), "its committed version must not be read back");
      assertEquals(RuntimeStatus.PENDING, s.instance("running").status(), "not ended: stays");
    }
    List<StoredRecord> fromMemory = new ArrayList<>();
    List<StoredRecord> fromStore = new ArrayList<>();
    inMemory.captureCheckpoint(6, fromMemory);
    inStore.captureCheckpoint(6, fromStore);
    assertEquals(List.of("o:a deleted", "o:b deleted"), rows(fromStore));
    assertEquals(rows(fromStore), rows(fromMemory));
  }

  @Test
  void aPurgedInstanceThatIsStartedAgainIsANewInstance() {
    PartitionState state = committed();
    state.evict(0, Long.MAX_VALUE, false, Set.of());
    state.apply(new PartitionEvent.InstancesPurged(List.of("a"), T0.plusSeconds(1)));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "again",
            new ClientRequest.StartOrchestration("a", "Hello", "null", LATER, Set.of()),
            T0.plusSeconds(2)));
    assertNotNull(state.instance("a"));
    // Its new version supersedes whatever the store held of it.
    List<StoredRecord> next = new ArrayList<>();
    state.captureCheckpoint(7, next);
    StoredRecord a = next.stream().filter(r -> r.key().equals("o:a")).findFirst().orElseThrow();
    assertEquals(true, a.superseding());
  }

  @Test
  void aBatchMergesMemoryAndTheStoreInIdOrderAndSkipsWhatIsNotEnded() {
    PartitionState state = committed();
    List<StoredRecord> stored = new ArrayList<>();
    // A page the store read: a only (as if b were past its end).
    stored.add(new StoredRecord("o:a", state.instance("a")));
    state.evict(0, Long.MAX_VALUE, false, Set.of());
    state.apply(start("c"));
    state.apply(terminate("c"));
    PurgeFilter all = new PurgeFilter(PurgeFilter.endedStatuses(Set.of()), null, null, null, null);
    PartitionState.PurgeBatch batch = state.purgeBatch(all, null, 10, stored, false);
    assertEquals(List.of("a", "c"), batch.instanceIds(), "b is in the store only and was not read");
    assertFalse(batch.more());

    PartitionState.PurgeBatch first = state.purgeBatch(all, null, 1, stored, false);
    assertEquals(List.of("a"), first.instanceIds());
    assertEquals(true, first.more());
  }
}
