package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static dev.netherite.runtime.TestWorkflows.WAIT_EVENT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceQuery;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.Workflows;
import dev.netherite.persistence.StorageMetrics;
import dev.netherite.runtime.internal.RuntimeMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Purge by filter and retention run inside each partition, in batches that are logged events, on
 * the real Cassandra, with ended instances out of memory (resident-ended-instances = 0): a purge by
 * filter reaches the instances only the instance store holds, in batches of {@code
 * netherite.purge.batch-size}; retention purges the instances that ended longer ago than it and
 * nothing else; and both stay purged when a crashed node's partitions replay the log.
 */
@Timeout(180)
class PurgeAndRetentionTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static Workflows app() {
    return TestWorkflows.register(Workflows.builder()).build();
  }

  private static Map<String, Object> overrides(Map<String, Object> more) {
    Map<String, Object> all = new HashMap<>();
    all.put("netherite.partition-count", 2);
    all.put("netherite.checkpoint.after-idle", "600ms");
    all.put("netherite.resident-ended-instances", 0);
    all.put("netherite.purge.batch-size", 2);
    all.putAll(more);
    return all;
  }

  private static InstanceId start(
      DurableRuntime runtime, OrchestrationRef<Void, ?> orchestration, String id) {
    return runtime
        .client()
        .start(orchestration, null, StartOptions.defaults().instanceId(InstanceId.of(id)));
  }

  @Test
  void purgeByFilterReachesInstancesOutOfMemoryInBatchesInsideEachPartition() {
    String hub = RuntimeTestKit.newTaskHub("purge");
    List<InstanceId> drop = new ArrayList<>();
    List<InstanceId> keep = new ArrayList<>();
    List<InstanceId> waiting = new ArrayList<>();
    DurableRuntime first =
        RuntimeTestKit.start(app(), hub, overrides(Map.of()), DurableRuntime.Options.defaults());
    try {
      for (int k = 0; k < 7; k++) {
        drop.add(start(first, HELLO5, "drop-" + k));
      }
      for (int k = 0; k < 3; k++) {
        keep.add(start(first, HELLO5, "keep-" + k));
      }
      for (int k = 0; k < 2; k++) {
        waiting.add(start(first, WAIT_EVENT, "drop-waiting-" + k)); // matches, has not ended
      }
      for (InstanceId id : concat(drop, keep)) {
        assertEquals(HELLO5_OUTPUT, first.client().waitForCompletion(id, WAIT).output(List.class));
      }
      for (InstanceId id : concat(drop, keep)) {
        awaitReadFromStore(first, id);
      }

      long batches = purgeBatches();
      assertEquals(7, first.client().purge(InstanceQuery.all().withIdPrefix("drop-")));
      // 7 over 2 partitions in batches of at most 2: at least 4 batches, each one event.
      long logged = purgeBatches() - batches;
      assertTrue(logged >= 4, "batches logged: " + logged);

      for (InstanceId id : drop) {
        assertTrue(first.client().getStatus(id).isEmpty(), id.value() + " is purged");
      }
      for (InstanceId id : keep) {
        assertEquals(
            RuntimeStatus.COMPLETED,
            first.client().getStatus(id).orElseThrow().runtimeStatus(),
            id.value() + " does not match the filter");
      }
      for (InstanceId id : waiting) {
        assertEquals(
            RuntimeStatus.RUNNING,
            first.client().getStatus(id).orElseThrow().runtimeStatus(),
            id.value() + " has not ended");
      }
      assertEquals(0, first.client().purge(InstanceQuery.all().withIdPrefix("drop-")));
      assertEquals(
          0,
          first.client().purge(InstanceQuery.all().withStatuses(RuntimeStatus.RUNNING)),
          "a running instance is never purged");
    } finally {
      RuntimeTestKit.crash(first);
    }

    // The batches are in the log after the last checkpoint: replayed against records that are in
    // the store only, they remove them again.
    DurableRuntime second =
        RuntimeTestKit.start(app(), hub, overrides(Map.of()), DurableRuntime.Options.defaults());
    try {
      for (InstanceId id : drop) {
        assertTrue(second.client().getStatus(id).isEmpty(), id.value() + " stays purged");
      }
      assertEquals(ids(concat(keep, waiting)), listed(second, InstanceQuery.all()));
      // A purged id can be started anew.
      InstanceId again = start(second, HELLO5, drop.get(0).value());
      assertEquals(
          HELLO5_OUTPUT, second.client().waitForCompletion(again, WAIT).output(List.class));
    } finally {
      RuntimeTestKit.crash(second);
    }
  }

  @Test
  void retentionPurgesInstancesThatEndedLongerAgoThanItAndNothingElse() {
    String hub = RuntimeTestKit.newTaskHub("retention");
    Map<String, Object> retention =
        overrides(
            Map.of(
                "netherite.retention.completed", "4s",
                "netherite.retention.check-interval", "300ms"));
    List<InstanceId> old = new ArrayList<>();
    List<InstanceId> waiting = new ArrayList<>();
    long purgedBefore = purgedByRetention();
    DurableRuntime first =
        RuntimeTestKit.start(app(), hub, retention, DurableRuntime.Options.defaults());
    try {
      for (int k = 0; k < 5; k++) {
        old.add(first.client().start(HELLO5, null));
      }
      for (int k = 0; k < 2; k++) {
        waiting.add(first.client().start(WAIT_EVENT, null));
      }
      for (InstanceId id : old) {
        first.client().waitForCompletion(id, WAIT);
      }
      awaitTrue(
          () -> old.stream().allMatch(id -> first.client().getStatus(id).isEmpty()),
          "the instances that ended are purged once their retention has passed");
      assertEquals(5, purgedByRetention() - purgedBefore, "retention purged those and no other");
      for (InstanceId id : waiting) {
        assertEquals(
            RuntimeStatus.RUNNING,
            first.client().getStatus(id).orElseThrow().runtimeStatus(),
            id.value() + " started before them but has not ended: it stays");
      }

      // Ended now: kept until their own retention passes, then purged.
      waiting.forEach(id -> first.client().raiseEvent(id, "Approval", "yes"));
      for (InstanceId id : waiting) {
        assertEquals("got yes", first.client().waitForCompletion(id, WAIT).output(String.class));
        assertEquals(
            RuntimeStatus.COMPLETED,
            first.client().getStatus(id).orElseThrow().runtimeStatus(),
            id.value() + " ended just now: within its retention");
      }
      awaitTrue(
          () -> waiting.stream().allMatch(id -> first.client().getStatus(id).isEmpty()),
          "the recently ended ones go once their retention has passed too");
      assertEquals(7, purgedByRetention() - purgedBefore);
    } finally {
      RuntimeTestKit.crash(first);
    }

    DurableRuntime second =
        RuntimeTestKit.start(app(), hub, retention, DurableRuntime.Options.defaults());
    try {
      for (InstanceId id : concat(old, waiting)) {
        assertTrue(second.client().getStatus(id).isEmpty(), id.value() + " stays purged");
      }
      assertEquals(Set.of(), listed(second, InstanceQuery.all()));
    } finally {
      RuntimeTestKit.crash(second);
    }
  }

  @Test
  void aBadRetentionIsRefusedWithItsKey() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RuntimeTestKit.start(
                    app(),
                    RuntimeTestKit.newTaskHub("retention"),
                    Map.of("netherite.retention.completed", "forever"),
                    DurableRuntime.Options.defaults()));
    assertEquals(
        "netherite.retention.completed is 'forever'; it must be a duration such as 30d or 12h, or"
            + " off.",
        e.getMessage());
    var batch =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RuntimeTestKit.start(
                    app(),
                    RuntimeTestKit.newTaskHub("retention"),
                    Map.of("netherite.purge.batch-size", 0),
                    DurableRuntime.Options.defaults()));
    assertEquals("netherite.purge.batch-size is 0; it must be at least 1.", batch.getMessage());
  }

  private static long purgeBatches() {
    return RuntimeMetrics.global().partitions().values().stream()
        .mapToLong(RuntimeMetrics.PartitionCounters::purgeBatches)
        .sum();
  }

  private static long purgedByRetention() {
    return RuntimeMetrics.global().partitions().values().stream()
        .mapToLong(RuntimeMetrics.PartitionCounters::purgedByRetention)
        .sum();
  }

  private static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      sleep(200);
    }
  }

  /** Waits until a status read of the ended instance is answered from the store. */
  private static void awaitReadFromStore(DurableRuntime runtime, InstanceId id) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      long before = StorageMetrics.global().instanceRecordReads();
      runtime.client().getStatus(id).orElseThrow();
      if (StorageMetrics.global().instanceRecordReads() > before) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(id.value() + " never left memory");
      }
      sleep(100);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static List<InstanceId> concat(List<InstanceId> a, List<InstanceId> b) {
    List<InstanceId> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static Set<String> ids(List<InstanceId> ids) {
    Set<String> all = new TreeSet<>();
    ids.forEach(id -> all.add(id.value()));
    return all;
  }

  /** Every id the query lists, page by page. */
  private static Set<String> listed(DurableRuntime runtime, InstanceQuery query) {
    Set<String> found = new TreeSet<>();
    InstanceQuery page = query;
    while (true) {
      var result = runtime.client().list(page);
      result
          .instances()
          .forEach(s -> assertTrue(found.add(s.instanceId().value()), "listed twice"));
      if (result.continuationToken() == null) {
        return found;
      }
      page = query.continueAfter(result.continuationToken());
    }
  }
}
