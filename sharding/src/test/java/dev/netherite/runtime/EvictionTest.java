package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static dev.netherite.runtime.TestWorkflows.WAIT_EVENT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceAlreadyExistsException;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceQuery;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.Workflows;
import dev.netherite.persistence.StorageMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ended instances leave memory once the instance store holds their final version, on the real
 * Cassandra: a request that needs one reads it back (status, wait, list, purge, a start that
 * refuses to replace it), and a purge of an instance out of memory, recorded after the last
 * checkpoint, is replayed by recovery against the record read back, so the instance stays gone.
 */
@Timeout(180)
class EvictionTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static Workflows app() {
    return TestWorkflows.register(Workflows.builder()).build();
  }

  private static Map<String, Object> overrides() {
    return Map.of(
        "netherite.partition-count",
        2,
        "netherite.checkpoint.after-idle",
        "600ms",
        "netherite.resident-ended-instances",
        0);
  }

  @Test
  void endedInstancesLeaveMemoryAndAreReadBackWhenARequestNeedsThem() {
    String hub = RuntimeTestKit.newTaskHub("eviction");
    List<InstanceId> hellos = new ArrayList<>();
    List<InstanceId> waiting = new ArrayList<>();
    DurableRuntime first =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      for (int i = 0; i < 6; i++) {
        hellos.add(first.client().start(HELLO5, null));
      }
      for (int i = 0; i < 2; i++) {
        waiting.add(first.client().start(WAIT_EVENT, null));
      }
      for (InstanceId id : hellos) {
        first.client().waitForCompletion(id, WAIT);
      }
      // Once a checkpoint holds them, the ended instances leave memory: a status read goes to the
      // store.
      awaitReadFromStore(first, hellos.get(0));
      long reads = StorageMetrics.global().instanceRecordReads();
      for (InstanceId id : hellos) {
        InstanceStatus s = first.client().getStatus(id, true).orElseThrow();
        assertEquals(RuntimeStatus.COMPLETED, s.runtimeStatus(), id.value());
        assertEquals(HELLO5_OUTPUT, s.output(List.class), id.value());
        assertEquals(1, ends(s), id.value());
        assertEquals(HELLO5_OUTPUT, first.client().waitForCompletion(id, WAIT).output(List.class));
      }
      assertTrue(
          StorageMetrics.global().instanceRecordReads() > reads,
          "the ended instances were read back from the store");

      // Lists cover instances in memory and in the store alike.
      assertEquals(ids(hellos, waiting), listed(first, InstanceQuery.all().withPageSize(3)));
      assertEquals(
          ids(hellos, List.of()),
          listed(first, InstanceQuery.all().withStatuses(RuntimeStatus.COMPLETED)));

      // A start that refuses to replace a completed instance sees it, though it left memory.
      assertThrows(
          InstanceAlreadyExistsException.class,
          () ->
              first
                  .client()
                  .start(
                      HELLO5,
                      null,
                      StartOptions.defaults()
                          .instanceId(hellos.get(1))
                          .refuseIfExistsWith(RuntimeStatus.COMPLETED)));

      waiting.forEach(id -> first.client().raiseEvent(id, "Approval", "yes"));
      for (InstanceId id : waiting) {
        assertEquals("got yes", first.client().waitForCompletion(id, WAIT).output(String.class));
      }
      awaitReadFromStore(first, waiting.get(0));

      // Purge by filter reaches every ended instance; the purges are in the log after the last
      // checkpoint when the node dies.
      assertEquals(
          8, first.client().purge(InstanceQuery.all().withStatuses(RuntimeStatus.COMPLETED)));
      assertEquals(Set.of(), listed(first, InstanceQuery.all()));
    } finally {
      RuntimeTestKit.crash(first);
    }

    DurableRuntime second =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      for (InstanceId id : hellos) {
        assertTrue(second.client().getStatus(id).isEmpty(), id.value() + " stays purged");
      }
      for (InstanceId id : waiting) {
        assertTrue(second.client().getStatus(id).isEmpty(), id.value() + " stays purged");
      }
      assertEquals(Set.of(), listed(second, InstanceQuery.all()));
      InstanceId fresh = second.client().start(HELLO5, null);
      assertEquals(
          HELLO5_OUTPUT, second.client().waitForCompletion(fresh, WAIT).output(List.class));
    } finally {
      RuntimeTestKit.crash(second);
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
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private static Set<String> ids(List<InstanceId> a, List<InstanceId> b) {
    Set<String> all = new TreeSet<>();
    a.forEach(id -> all.add(id.value()));
    b.forEach(id -> all.add(id.value()));
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
      page =
          new InstanceQuery(
              query.statuses(),
              query.createdFrom(),
              query.createdTo(),
              query.idPrefix(),
              query.pageSize(),
              result.continuationToken());
    }
  }

  private static long ends(InstanceStatus s) {
    return s.history().stream().filter(e -> e instanceof HistoryEvent.ExecutionCompleted).count();
  }
}
