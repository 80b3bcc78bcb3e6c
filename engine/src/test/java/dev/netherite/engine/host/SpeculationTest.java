package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.netherite.engine.partition.StepId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The commit frontier of one partition and what another partition's commit tells it. */
class SpeculationTest {

  private static StepId s(long incarnation, long position) {
    return new StepId(incarnation, position);
  }

  @Test
  void aStepOfAnotherPartitionIsCommittedLostOrPendingByWhatThatPartitionSaid() {
    // Partition runs incarnation 7, committed to 7:4; incarnation 3 survived to 10, 5 lost all.
    CommitInfo info = CommitInfo.of(7, s(7, 4), Map.of(3L, 10L), 0);
    assertEquals(CommitInfo.Fate.COMMITTED, info.fateOf(s(7, 4)));
    assertEquals(CommitInfo.Fate.PENDING, info.fateOf(s(7, 5)));
    assertEquals(CommitInfo.Fate.COMMITTED, info.fateOf(s(3, 10)));
    assertEquals(CommitInfo.Fate.LOST, info.fateOf(s(3, 11)));
    assertEquals(CommitInfo.Fate.LOST, info.fateOf(s(5, 1)));
    assertEquals(CommitInfo.Fate.PENDING, info.fateOf(s(8, 1))); // newer than what it said
    // Committed only up to 3:6 (its survivors after 3:6 wait for their own dependencies).
    CommitInfo behind = CommitInfo.of(7, s(3, 6), Map.of(3L, 10L), 0);
    assertEquals(CommitInfo.Fate.PENDING, behind.fateOf(s(3, 8)));
    // Ends forgotten below incarnation 4: nothing is known of incarnation 2.
    assertEquals(CommitInfo.Fate.PENDING, CommitInfo.of(7, s(7, 1), Map.of(), 4).fateOf(s(2, 1)));
  }

  @Test
  void theNewerInformationWins() {
    CommitInfo a = CommitInfo.of(7, s(7, 4), Map.of(), 0);
    CommitInfo b = CommitInfo.of(7, s(7, 9), Map.of(), 0);
    CommitInfo c = CommitInfo.of(9, s(7, 2), Map.of(7L, 3L), 0);
    assertEquals(b, CommitInfo.newer(a, b));
    assertEquals(c, CommitInfo.newer(b, c));
    assertEquals(c, CommitInfo.newer(c, b));
  }

  @Test
  void commitStopsJustBeforeThePendingDependencyAndWaitersRunInOrder() {
    Speculation sp = new Speculation(s(1, 1));
    List<String> ran = new ArrayList<>();
    sp.depend(s(1, 3), 2, s(4, 8), 0);
    sp.whenCommitted(s(1, 2), () -> ran.add("a"));
    sp.whenCommitted(s(1, 5), () -> ran.add("b"));
    assertNull(sp.advance(s(1, 6)));
    assertEquals(s(1, 2), sp.committed());
    assertEquals(List.of("a"), ran);
    sp.learn(2, CommitInfo.of(4, s(4, 8), Map.of(), 0));
    assertNull(sp.advance(s(1, 6)));
    assertEquals(s(1, 6), sp.committed());
    assertEquals(List.of("a", "b"), ran);
  }

  @Test
  void aLostDependencyNamesTheFirstStepToTakeBack() {
    Speculation sp = new Speculation(s(1, 1));
    List<String> ran = new ArrayList<>();
    sp.depend(s(1, 3), 2, s(4, 8), 0);
    sp.depend(s(1, 5), 3, s(2, 2), 0);
    sp.whenCommitted(s(1, 4), () -> ran.add("held"));
    // Partition 2 recovered into incarnation 6; incarnation 4 survived only to 7.
    sp.learn(2, CommitInfo.of(6, s(6, 1), Map.of(4L, 7L), 0));
    assertEquals(s(1, 3), sp.advance(s(1, 9)));
    assertEquals(List.of(), ran); // nothing that depended on it was released
  }
}
