package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static dev.netherite.runtime.TestWorkflows.WAIT_EVENT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The instance store on the real Cassandra: checkpoints write the records that changed, each row
 * labelled with its checkpoint's number, and commit with the snapshot written last. A checkpoint
 * that dies after its records are written and before its snapshot leaves rows above the committed
 * number; recovery must take the previous checkpoint plus the log suffix, never those rows.
 */
@Timeout(180)
class InstanceStoreTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static Workflows app() {
    return TestWorkflows.register(Workflows.builder()).entity(EntitiesTest.COUNTER).build();
  }

  private static Map<String, Object> overrides() {
    return Map.of(
        "netherite.partition-count",
        1,
        // A checkpoint when idle for a moment, so the test knows where the commits fall.
        "netherite.checkpoint.after-idle",
        "600ms",
        "pekko.persistence.cassandra.snapshot.class",
        CrashingSnapshotStore.class.getName());
  }

  @Test
  void aCrashBetweenTheRecordsAndTheSnapshotRecoversThePreviousCheckpoint() {
    CrashingSnapshotStore.reset();
    String hub = RuntimeTestKit.newTaskHub("instance-store-crash");
    List<InstanceId> hellos = new ArrayList<>();
    List<InstanceId> waiting = new ArrayList<>();
    DurableRuntime first =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    long committed;
    try {
      for (int i = 0; i < 5; i++) {
        first.client().signalEntity(EntitiesTest.COUNTER.id("c"), EntitiesTest.ADD, 1);
        hellos.add(first.client().start(HELLO5, null));
      }
      for (int i = 0; i < 3; i++) {
        waiting.add(first.client().start(WAIT_EVENT, null));
      }
      for (InstanceId id : hellos) {
        first.client().waitForCompletion(id, WAIT);
      }
      await(
          () ->
              Integer.valueOf(5)
                  .equals(first.client().readEntity(EntitiesTest.COUNTER, "c").state()),
          "the counter reaches 5");
      int saved = CrashingSnapshotStore.SAVED.get();
      await(() -> CrashingSnapshotStore.SAVED.get() > saved, "a checkpoint commits");
      committed = CrashingSnapshotStore.LAST_SAVED.get();

      // From now on every checkpoint writes its records and dies before its commit point.
      CrashingSnapshotStore.FAIL.set(true);
      for (int i = 0; i < 5; i++) {
        first.client().signalEntity(EntitiesTest.COUNTER.id("c"), EntitiesTest.ADD, 1);
        hellos.add(first.client().start(HELLO5, null));
      }
      waiting.forEach(id -> first.client().raiseEvent(id, "Approval", "yes"));
      for (InstanceId id : hellos) {
        first.client().waitForCompletion(id, WAIT);
      }
      await(
          () ->
              Integer.valueOf(10)
                  .equals(first.client().readEntity(EntitiesTest.COUNTER, "c").state()),
          "the counter reaches 10");
      int failed = CrashingSnapshotStore.FAILED.get();
      await(() -> CrashingSnapshotStore.FAILED.get() > failed, "a checkpoint fails at its commit");
      long above = rowsAbove(first, hub, committed);
      assertTrue(above > 0, "the failed checkpoint left rows above " + committed);
    } finally {
      RuntimeTestKit.crash(first);
    }

    CrashingSnapshotStore.FAIL.set(false);
    DurableRuntime second =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      // Reading the failed checkpoint's rows as current would apply the last five signals twice.
      assertEquals(10, second.client().readEntity(EntitiesTest.COUNTER, "c").state());
      assertCompletedOnce(second, hellos, waiting);
      int saved = CrashingSnapshotStore.SAVED.get();
      await(() -> CrashingSnapshotStore.SAVED.get() > saved, "the recovered partition checkpoints");
    } finally {
      RuntimeTestKit.crash(second);
    }

    // The committed checkpoint after recovery supersedes what the failed one left.
    DurableRuntime third =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      assertEquals(10, third.client().readEntity(EntitiesTest.COUNTER, "c").state());
      assertCompletedOnce(third, hellos, waiting);
      InstanceId fresh = third.client().start(HELLO5, null);
      assertEquals(HELLO5_OUTPUT, third.client().waitForCompletion(fresh, WAIT).output(List.class));
    } finally {
      RuntimeTestKit.crash(third);
    }
  }

  private static void assertCompletedOnce(
      DurableRuntime runtime, List<InstanceId> hellos, List<InstanceId> waiting) {
    for (InstanceId id : hellos) {
      InstanceStatus s = runtime.client().getStatus(id, true).orElseThrow();
      assertEquals(RuntimeStatus.COMPLETED, s.runtimeStatus(), id.value());
      assertEquals(HELLO5_OUTPUT, s.output(List.class), id.value());
      assertEquals(1, ends(s), "one end in the history of " + id.value());
    }
    for (InstanceId id : waiting) {
      InstanceStatus s = runtime.client().waitForCompletion(id, WAIT);
      assertEquals(RuntimeStatus.COMPLETED, s.runtimeStatus(), id.value());
      assertEquals("got yes", s.output(String.class));
      assertEquals(1, ends(runtime.client().getStatus(id, true).orElseThrow()), id.value());
    }
  }

  private static long ends(InstanceStatus s) {
    return s.history().stream().filter(e -> e instanceof HistoryEvent.ExecutionCompleted).count();
  }

  /** Rows of the hub's instance records above the committed checkpoint, read from Cassandra. */
  private static long rowsAbove(DurableRuntime runtime, String hub, long committed) {
    CqlSession session =
        CassandraSessionRegistry.get(Adapter.toClassic(runtime.system()))
            .sessionFor("pekko.persistence.cassandra")
            .underlying()
            .toCompletableFuture()
            .join();
    String keyspace =
        runtime
            .system()
            .settings()
            .config()
            .getString("netherite.persistence.instance-store.keyspace");
    int buckets =
        runtime.system().settings().config().getInt("netherite.persistence.instance-store.buckets");
    long above = 0;
    for (int b = 0; b < buckets; b++) {
      for (Row row :
          session.execute(
              "SELECT checkpoint FROM "
                  + keyspace
                  + ".instance_records WHERE task_hub = ? AND partition_id = 0 AND bucket = ?",
              hub,
              b)) {
        if (row.getLong(0) > committed) {
          above++;
        }
      }
    }
    return above;
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
