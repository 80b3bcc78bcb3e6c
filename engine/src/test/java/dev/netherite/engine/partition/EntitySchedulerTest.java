package dev.netherite.engine.partition;

import static dev.netherite.engine.partition.PartsFixture.T0;
import static dev.netherite.engine.partition.PartsFixture.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.engine.partition.PartitionEvent.EntityBatchCompleted;
import dev.netherite.engine.partition.PartitionMessage.EntityOperationRequested;
import dev.netherite.engine.partition.PartitionMessage.EntityResponded;
import dev.netherite.engine.partition.PartitionMessage.LockReleased;
import dev.netherite.engine.partition.PartitionMessage.LockRequested;
import dev.netherite.engine.partition.PartitionMessage.LocksGranted;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The entity scheduler on its own: messages in, batches and messages out. */
class EntitySchedulerTest {
  private static final String COUNTER = "@Counter@c!0";
  private static final LockOwner OWNER = new LockOwner("o!1", "1-1", 4);

  private final PartsFixture parts = new PartsFixture();
  private final List<Effect> effects = new ArrayList<>();

  private static EntityOperationRequested signal(String input) {
    return new EntityOperationRequested(COUNTER, "add", input, null, null, 0, null);
  }

  private static EntityOperationRequested call(String input, LockOwner lock) {
    return new EntityOperationRequested(COUNTER, "add", input, "caller!1", "1-2", 7, lock);
  }

  private void enqueue(PartitionMessage.ToEntity m) {
    parts.entities.enqueue(m, T0, effects);
  }

  /** Completes the running batch with {@code state}, each operation answered with its input. */
  private List<Effect> completeBatch(String state) {
    EntityRecord e = parts.entities.get(COUNTER);
    List<EntityBatchResult.Outcome> outcomes =
        e.batch.stream().map(op -> new EntityBatchResult.Outcome(op.input(), null)).toList();
    List<Effect> out = new ArrayList<>();
    parts.entities.onBatchCompleted(
        new EntityBatchCompleted(
            COUNTER, e.batchNumber, new EntityBatchResult(state, outcomes, List.of()), T0),
        out);
    return out;
  }

  private static List<String> inputs(Effect.RunEntityBatch b) {
    return b.operations().stream().map(EntityOperationRequested::input).toList();
  }

  private static Effect.RunEntityBatch batch(List<Effect> effects) {
    List<Effect.RunEntityBatch> batches = only(effects, Effect.RunEntityBatch.class);
    assertEquals(1, batches.size(), effects.toString());
    return batches.get(0);
  }

  @Test
  void operationsRunInArrivalOrderInBatchesOfAtMostTheLimit() {
    for (int k = 1; k <= 5; k++) {
      enqueue(signal("" + k));
    }
    // The first operation starts a batch at once; the others wait for it.
    assertEquals(List.of("1"), inputs(batch(effects)));
    assertEquals(4, parts.entities.get(COUNTER).queue.size());

    Effect.RunEntityBatch second = batch(completeBatch("s1"));
    assertEquals(List.of("2", "3", "4"), inputs(second));
    assertEquals(2, second.batchNumber());
    assertEquals("s1", second.state());
    assertEquals(List.of("5"), inputs(batch(completeBatch("s2"))));

    // A stateless entity with nothing left is removed.
    assertTrue(only(completeBatch(null), Effect.RunEntityBatch.class).isEmpty());
    assertNull(parts.entities.get(COUNTER));
  }

  @Test
  void callersGetTheirOutcomesAndSignalsNone() {
    enqueue(call("a", null));
    enqueue(signal("b"));
    enqueue(call("c", null));
    completeBatch("s");
    completeBatch("s");
    List<String> answers =
        parts.sentToOtherPartition().stream().map(m -> ((EntityResponded) m).result()).toList();
    assertEquals(List.of("a", "c"), answers);
  }

  @Test
  void aLockWaitsForTheOperationsBeforeItAndThenServesOnlyItsOwner() {
    enqueue(signal("1"));
    enqueue(signal("2"));
    enqueue(new LockRequested(List.of(COUNTER), 0, OWNER));
    enqueue(signal("3"));

    // The batch after the first holds only what came before the lock request.
    assertEquals(List.of("2"), inputs(batch(completeBatch("s"))));
    assertNull(parts.entities.get(COUNTER).lockedBy());

    // Then the lock is granted (the owner hears it), and the others' operation waits.
    List<Effect> afterLock = completeBatch("s");
    assertTrue(only(afterLock, Effect.RunEntityBatch.class).isEmpty(), afterLock.toString());
    assertEquals(OWNER, parts.entities.get(COUNTER).lockedBy());
    assertEquals(List.of(new LocksGranted(OWNER, List.of(COUNTER))), parts.sentToOtherPartition());

    // The owner's call overtakes the waiting signal.
    List<Effect> ownerCall = new ArrayList<>();
    parts.entities.enqueue(call("mine", OWNER), T0, ownerCall);
    assertEquals(List.of("mine"), inputs(batch(ownerCall)));
    completeBatch("s");

    // A release by another section is dropped; the owner's release lets the signal run.
    List<Effect> stranger = new ArrayList<>();
    parts.entities.enqueue(new LockReleased(COUNTER, new LockOwner("o!1", "1-1", 9)), T0, stranger);
    assertEquals(OWNER, parts.entities.get(COUNTER).lockedBy());
    List<Effect> released = new ArrayList<>();
    parts.entities.enqueue(new LockReleased(COUNTER, OWNER), T0, released);
    assertNull(parts.entities.get(COUNTER).lockedBy());
    assertEquals(List.of("3"), inputs(batch(released)));
  }

  @Test
  void aLateReleaseForAnEntityThatIsGoneCreatesNothing() {
    parts.entities.enqueue(new LockReleased(COUNTER, OWNER), T0, effects);
    assertNull(parts.entities.get(COUNTER));
    assertTrue(effects.isEmpty());
  }

  @Test
  void aDuplicateBatchResultChangesNothingAndAMismatchedOneIsAnEngineFault() {
    enqueue(signal("1"));
    enqueue(signal("2"));
    EntityRecord e = parts.entities.get(COUNTER);
    long first = e.batchNumber;
    completeBatch("s"); // batch 2 runs now
    List<Effect> duplicate = new ArrayList<>();
    parts.entities.onBatchCompleted(
        new EntityBatchCompleted(
            COUNTER,
            first,
            new EntityBatchResult(
                "other", List.of(new EntityBatchResult.Outcome(null, null)), List.of()),
            T0),
        duplicate);
    assertTrue(duplicate.isEmpty());
    assertEquals("s", e.state());

    IllegalStateException fault =
        assertThrows(
            IllegalStateException.class,
            () ->
                parts.entities.onBatchCompleted(
                    new EntityBatchCompleted(
                        COUNTER,
                        e.batchNumber,
                        new EntityBatchResult(
                            "s",
                            Collections.nCopies(2, new EntityBatchResult.Outcome(null, null)),
                            List.of()),
                        T0),
                    new ArrayList<>()));
    assertTrue(fault.getMessage().contains("outcomes=2"), fault.getMessage());
  }

  @Test
  void recoveryRunsTheRunningBatchAgain() {
    enqueue(signal("1"));
    enqueue(signal("2"));
    List<Effect> recovery = new ArrayList<>();
    parts.entities.addRecoveryEffects(recovery);
    assertEquals(List.of("1"), inputs(batch(recovery)));
  }
}
