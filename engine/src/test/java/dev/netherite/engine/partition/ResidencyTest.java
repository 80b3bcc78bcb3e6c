package dev.netherite.engine.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.RuntimeStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Idle records out of memory: which records the budget lets go, and that input for an evicted
 * record is parked, survives a checkpoint, and is delivered, in order, when the record is back.
 */
class ResidencyTest {
  private static final Instant T0 = Instant.parse("2025-01-02T03:04:05Z");

  /** A start scheduled for later: the instance is PENDING, with a timer, and idle. */
  private static PartitionEvent scheduled(String id, int seconds) {
    return new PartitionEvent.ClientRequestReceived(
        "req-" + id,
        new ClientRequest.StartOrchestration(
            id, "Hello", "null", T0.plusSeconds(seconds), Set.of()),
        T0.plusSeconds(seconds).minus(Duration.ofSeconds(60)));
  }

  private static PartitionEvent startNow(String id) {
    return new PartitionEvent.ClientRequestReceived(
        "req-" + id, new ClientRequest.StartOrchestration(id, "Hello", "null", null, Set.of()), T0);
  }

  private static PartitionState committed(PartitionEvent... events) {
    PartitionState state = new PartitionState(0, 1, 100);
    for (PartitionEvent e : events) {
      state.apply(e);
    }
    state.captureCheckpoint(events.length, new ArrayList<>());
    state.checkpointCommitted();
    return state;
  }

  @Test
  void theBudgetLetsIdleRecordsGoOldestFirstAndKeepsBusyOnes() {
    PartitionState state =
        committed(scheduled("old", 100), scheduled("new", 200), startNow("busy"));
    assertTrue(state.instance("busy").stepInProgress, "a step runs for it");
    long all = state.residentBytes();
    long old = state.instance("old").approximateBytes();
    assertTrue(old > 0);

    PartitionState.Eviction some = state.evict(1000, all - old, true, Set.of());
    assertEquals(List.of("o:old"), some.idle(), "only as many as bring memory within the budget");
    PartitionState.Eviction none = state.evict(1000, all, true, Set.of());
    assertEquals(List.of(), none.idle(), "within the budget: nothing leaves");
    PartitionState.Eviction most = state.evict(1000, 0, true, Set.of("o:new"));
    assertEquals(List.of("o:old"), most.idle(), "busy and pinned records stay");
    assertEquals(
        List.of(), state.evict(1000, 0, false, Set.of()).idle(), "idle ones only if asked");
  }

  @Test
  void inputForAnEvictedRecordIsParkedKeptByTheCheckpointAndDeliveredWhenItIsBack() {
    PartitionState state = committed(scheduled("a", 60), scheduled("b", 120));
    StoredRecord a = state.record("o:a");
    state.apply(new PartitionEvent.RecordsEvicted(List.of("o:a", "o:b"), T0));
    assertNull(state.instance("a"));
    assertTrue(state.isEvicted("o:a") && state.isEvicted("o:b"));
    assertEquals(2, state.evictedCount());

    // a's scheduled start comes due while it is out: parked, and its record asked for.
    List<Effect> fired = state.apply(new PartitionEvent.TimersFired(T0.plusSeconds(61)));
    assertTrue(fired.contains(new Effect.LoadRecord("o:a")), fired.toString());
    assertFalse(fired.contains(new Effect.LoadRecord("o:b")), "b's timer is not due");

    // The checkpoint holds what is out and what waits for it; recovery asks for it again.
    PartitionCheckpoint c = state.captureCheckpoint(5, new ArrayList<>());
    assertEquals(List.of(), c.activeKeys(), "evicted records are not read at recovery");
    PartitionState recovered = PartitionState.fromCheckpoint(c);
    assertTrue(recovered.isEvicted("o:a") && recovered.isEvicted("o:b"));
    assertTrue(recovered.recoveryEffects().contains(new Effect.LoadRecord("o:a")));
    assertFalse(recovered.recoveryEffects().contains(new Effect.LoadRecord("o:b")));

    // Back: the parked start is delivered, the instance runs.
    recovered.restoreRecord(a);
    recovered.apply(new PartitionEvent.RecordsLoaded(List.of("o:a"), T0.plusSeconds(62)));
    assertFalse(recovered.isEvicted("o:a"));
    assertEquals(RuntimeStatus.RUNNING, recovered.instance("a").status());
    assertTrue(recovered.isEvicted("o:b"), "b stays out");
  }
}
