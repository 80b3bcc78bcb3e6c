package dev.netherite.engine.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Positions in the applied order, incarnation ends, and what a Voided marker takes back. */
class IncarnationsTest {
  private static final Instant T = Instant.parse("2030-01-01T00:00:00Z");

  private static PartitionEvent e() {
    return new PartitionEvent.TimersFired(T);
  }

  private static PartitionEvent started(long incarnation) {
    return new PartitionEvent.IncarnationStarted(incarnation, T);
  }

  private static PartitionEvent voided(long incarnation, long position) {
    return new PartitionEvent.Voided(new StepId(incarnation, position), -1, T);
  }

  private static Incarnations applied(List<PartitionEvent> log) {
    PartitionState s = new PartitionState(0, 1, 10);
    log.forEach(s::apply);
    return s.incarnations();
  }

  @Test
  void everyEventButAMarkerTakesAPositionAndANewIncarnationEndsThePreviousOne() {
    List<PartitionEvent> log = List.of(started(1), e(), e(), started(5), e(), voided(5, 9));
    Incarnations i = applied(log);
    assertEquals(new StepId(5, 2), i.now());
    assertEquals(Map.of(1L, 3L), i.ends());
  }

  @Test
  void aMarkerTakesBackEverythingBeforeItFromItsStepOnAcrossIncarnations() {
    List<PartitionEvent> log = new ArrayList<>();
    log.add(started(1)); // 1:1
    log.add(e()); // 1:2
    log.add(e()); // 1:3 (depends on a step that was lost)
    log.add(e()); // 1:4
    log.add(started(6)); // 6:1, the recovered suffix 1:3..1:4 is still speculative
    log.add(e()); // 6:2
    log.add(voided(1, 3)); // takes back 1:3, 1:4, 6:1, 6:2
    log.add(started(9)); // 9:1
    log.add(e()); // 9:2
    List<PartitionEvent> kept = Incarnations.surviving(StepId.ORIGIN, log);
    assertEquals(List.of(log.get(0), log.get(1), log.get(6), log.get(7), log.get(8)), kept);
    Incarnations i = applied(kept);
    // Incarnation 1 survived to 2; 6 lost everything (no end: every step of it is lost).
    assertEquals(Map.of(1L, 2L), i.ends());
    assertEquals(new StepId(9, 2), i.now());
  }

  @Test
  void aSuffixStartsCountingAtItsCheckpointsStep() {
    List<PartitionEvent> suffix = List.of(e(), e(), voided(4, 12));
    // From the checkpoint at 4:10: the suffix is 4:11 and 4:12; the marker takes back 4:12.
    assertEquals(
        List.of(suffix.get(0), suffix.get(2)), Incarnations.surviving(new StepId(4, 10), suffix));
  }

  @Test
  void aLogWithoutMarkersIsKeptWhole() {
    List<PartitionEvent> log = List.of(started(1), e(), e());
    assertEquals(log, Incarnations.surviving(StepId.ORIGIN, log));
  }
}
