package dev.netherite.engine.partition;

import static dev.netherite.engine.partition.PartsFixture.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.PartitionMessage.LockReleased;
import dev.netherite.engine.partition.PartitionMessage.LockRequested;
import dev.netherite.engine.partition.PartitionMessage.LocksGranted;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lock protocol on its own, at the owner and along the chain of entities. */
class LockChainTest {
  private static final String A = "@Account@a!0";
  private static final String B = "@Account@b!0";
  private static final String X = "@Account@x!1";
  private static final String Y = "@Account@y!1";

  private final PartsFixture parts = new PartsFixture();
  private final List<Effect> effects = new ArrayList<>();

  private static InstanceState owner(RuntimeStatus status) {
    InstanceState i = new InstanceState();
    i.instanceId = "o!0";
    i.executionId = "0-1";
    i.status = status;
    return i;
  }

  @Test
  void aRequestTravelsAlongTheChainAndTheLastEntityAnswersTheOwner() {
    LockOwner section = new LockOwner("o!1", "1-1", 3);
    parts.entities.enqueue(new LockRequested(List.of(A, B), 0, section), T0, effects);

    assertEquals(section, parts.entities.get(A).lockedBy());
    assertEquals(section, parts.entities.get(B).lockedBy());
    assertTrue(parts.delivered.contains(new LockRequested(List.of(A, B), 1, section)));
    assertEquals(List.of(new LocksGranted(section, List.of(A, B))), parts.sentToOtherPartition());
  }

  @Test
  void theOwnerHoldsTheLocksOnceGrantedAndReleasesEachOnce() {
    InstanceState i = owner(RuntimeStatus.RUNNING);
    parts.locks.request(i, new HistoryEvent.EntityLockRequested(4, List.of(X, Y)), T0, effects);
    LockOwner section = new LockOwner("o!0", "0-1", 4);
    assertEquals(
        List.of(new LockRequested(List.of(X, Y), 0, section)), parts.sentToOtherPartition());
    assertNull(parts.locks.heldLock(i, X), "not held before the grant");

    assertTrue(parts.locks.accept(i, new LocksGranted(section, List.of(X, Y)), T0, effects));
    assertEquals(section, parts.locks.heldLock(i, X));
    assertNull(parts.locks.heldLock(i, "@Account@z!1"), "only the section's entities");

    parts.locks.release(i, T0, effects);
    assertEquals(
        List.of(
            new LockRequested(List.of(X, Y), 0, section),
            new LockReleased(X, section),
            new LockReleased(Y, section)),
        parts.sentToOtherPartition());
    assertNull(parts.locks.heldLock(i, X));
    parts.locks.release(i, T0, effects);
    assertEquals(3, parts.sentToOtherPartition().size(), "a second release sends nothing");
  }

  @Test
  void aGrantStillTravellingWhenItsSectionEndsIsReleasedOnArrival() {
    InstanceState i = owner(RuntimeStatus.RUNNING);
    parts.locks.request(i, new HistoryEvent.EntityLockRequested(4, List.of(X, Y)), T0, effects);
    LockOwner section = new LockOwner("o!0", "0-1", 4);
    parts.locks.release(i, T0, effects);
    assertEquals(1, parts.sentToOtherPartition().size(), "no release overtakes its grant");

    assertFalse(parts.locks.accept(i, new LocksGranted(section, List.of(X, Y)), T0, effects));
    assertEquals(
        List.of(new LockReleased(X, section), new LockReleased(Y, section)),
        parts.sentToOtherPartition().subList(1, 3));
  }

  @Test
  void aGrantForAnOwnerThatIsGoneOrEndedIsReleasedAtOnce() {
    LockOwner section = new LockOwner("o!0", "0-1", 4);
    assertFalse(parts.locks.accept(null, new LocksGranted(section, List.of(X)), T0, effects));
    InstanceState ended = owner(RuntimeStatus.COMPLETED);
    ended.lockTaskId = 4;
    ended.lockEntities = List.of(Y);
    assertFalse(parts.locks.accept(ended, new LocksGranted(section, List.of(Y)), T0, effects));
    assertEquals(
        List.of(new LockReleased(X, section), new LockReleased(Y, section)),
        parts.sentToOtherPartition());
  }
}
