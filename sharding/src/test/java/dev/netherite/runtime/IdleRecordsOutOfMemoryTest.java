package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.WAIT_EVENT;
import static dev.netherite.runtime.TestWorkflows.WAIT_TIMER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityQuery;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceQuery;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Workflows;
import dev.netherite.persistence.StorageMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Running instances and entities leave memory when idle, on the real Cassandra, with a memory
 * budget of 0 (every idle record leaves after each checkpoint): an event raised to an evicted,
 * waiting instance resumes it; a timer that comes due for one fires; an evicted entity is called,
 * signalled and read; and after a crash, recovery (which reads only the records in memory at the
 * checkpoint) leaves the evicted ones in the store, where the same requests find them.
 */
@Timeout(180)
class IdleRecordsOutOfMemoryTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  static final EntityOp<Integer, Integer> ADD = EntityOp.of("add", Integer.class, Integer.class);

  static final EntityType<Integer> COUNTER =
      EntityType.define("IdleCounter", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, n) -> {
                ctx.setState(ctx.state() + n);
                return ctx.state();
              });

  /** Waits for an event, then calls the counter with it. */
  static final OrchestrationRef<Void, Integer> ADD_WHEN_TOLD =
      OrchestrationRef.of("AddWhenTold", Void.class, Integer.class);

  private static Workflows app() {
    return TestWorkflows.register(Workflows.builder())
        .entity(COUNTER)
        .orchestration(
            ADD_WHEN_TOLD,
            (ctx, none) -> {
              int n = ctx.waitForEvent("Go", Integer.class).await();
              return ctx.callEntity(COUNTER.id("shared"), ADD, n).await();
            })
        .build();
  }

  private static Map<String, Object> overrides() {
    return Map.of(
        "netherite.partition-count",
        2,
        "netherite.checkpoint.after-idle",
        "600ms",
        "netherite.resident-ended-instances",
        0,
        "netherite.memory.records",
        "0");
  }

  @Test
  void idleInstancesAndEntitiesLeaveMemoryAndResumeWhenInputComes() {
    String hub = RuntimeTestKit.newTaskHub("idle");
    List<InstanceId> waiting = new ArrayList<>();
    InstanceId adder;
    InstanceId timer;
    DurableRuntime first =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      first.client().signalEntity(COUNTER.id("shared"), ADD, 5);
      for (int i = 0; i < 4; i++) {
        waiting.add(first.client().start(WAIT_EVENT, null));
      }
      adder = first.client().start(ADD_WHEN_TOLD, null);
      timer = first.client().start(WAIT_TIMER, 6);

      // Once a checkpoint holds them, the idle instances and the entity leave memory: reading them
      // goes to the store.
      for (InstanceId id : waiting) {
        awaitReadFromStore(
            id.value(),
            () ->
                first.client().getStatus(id).orElseThrow().runtimeStatus()
                    == RuntimeStatus.RUNNING);
      }
      awaitReadFromStore(
          "the counter",
          () -> first.client().readEntity(COUNTER.id("shared"), Integer.class).state() == 5);

      // Lists cover them: a list taken while they are out of memory (a read right after it goes to
      // the store) names every waiting instance and the counter.
      awaitReadFromStore(
          "a list of the evicted records",
          () -> {
            sleep(); // the reads above brought them back; the next idle checkpoint evicts them
            java.util.Set<String> listed = new java.util.TreeSet<>();
            first
                .client()
                .list(InstanceQuery.all().withStatuses(RuntimeStatus.RUNNING))
                .instances()
                .forEach(s -> listed.add(s.instanceId().value()));
            List<String> entities =
                first
                    .client()
                    .listEntities(EntityQuery.ofType("IdleCounter"), Integer.class)
                    .entities()
                    .stream()
                    .map(e -> e.id().toString())
                    .toList();
            boolean all =
                waiting.stream().allMatch(id -> listed.contains(id.value()))
                    && entities.equals(List.of(COUNTER.id("shared").toString()));
            long before = StorageMetrics.global().instanceRecordReads();
            first.client().readEntity(COUNTER.id("shared"), Integer.class);
            boolean wasOut = StorageMetrics.global().instanceRecordReads() > before;
            assertTrue(!wasOut || all, "listed while out of memory: " + listed + " " + entities);
            return all && wasOut;
          });

      // An event raised to an evicted, waiting instance resumes it.
      first.client().raiseEvent(waiting.get(0), "Approval", "yes");
      assertEquals(
          "got yes", first.client().waitForCompletion(waiting.get(0), WAIT).output(String.class));

      // An evicted instance, told to, calls the evicted entity: the event, the call and the
      // response each wait for their record to be read back.
      awaitReadFromStore(
          adder.value(),
          () ->
              first.client().getStatus(adder).orElseThrow().runtimeStatus()
                  == RuntimeStatus.RUNNING);
      first.client().raiseEvent(adder, "Go", 2);
      assertEquals(
          Integer.valueOf(7), first.client().waitForCompletion(adder, WAIT).output(Integer.class));

      // The timer of an evicted instance comes due and fires it.
      assertEquals(
          "timer fired", first.client().waitForCompletion(timer, WAIT).output(String.class));
    } finally {
      RuntimeTestKit.crash(first);
    }

    DurableRuntime second =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      for (int i = 1; i < waiting.size(); i++) {
        InstanceId id = waiting.get(i);
        assertEquals(
            RuntimeStatus.RUNNING,
            second.client().getStatus(id).orElseThrow().runtimeStatus(),
            id.value() + " is still waiting after the crash");
        second.client().raiseEvent(id, "Approval", "yes " + i);
      }
      for (int i = 1; i < waiting.size(); i++) {
        InstanceId id = waiting.get(i);
        InstanceStatus s = second.client().waitForCompletion(id, WAIT);
        assertEquals("got yes " + i, s.output(String.class), id.value());
      }
      second.client().signalEntity(COUNTER.id("shared"), ADD, 1);
      awaitTrue(
          "the counter counts the signal after the crash",
          () -> second.client().readEntity(COUNTER.id("shared"), Integer.class).state() == 8);
      for (InstanceId id : List.of(waiting.get(0), adder, timer)) {
        InstanceStatus s = second.client().getStatus(id, true).orElseThrow();
        assertEquals(RuntimeStatus.COMPLETED, s.runtimeStatus(), id.value());
        assertEquals(1, ends(s), id.value() + " ended once");
      }
    } finally {
      RuntimeTestKit.crash(second);
    }
  }

  /**
   * Waits until {@code read} holds and was answered with a read of the instance store (so the
   * record was out of memory).
   */
  private static void awaitReadFromStore(String what, Supplier<Boolean> read) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      long before = StorageMetrics.global().instanceRecordReads();
      boolean holds = read.get();
      if (holds && StorageMetrics.global().instanceRecordReads() > before) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " never left memory (or never read as expected)");
      }
      sleep();
    }
  }

  private static void awaitTrue(String what, Supplier<Boolean> condition) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": not within " + WAIT);
      }
      sleep();
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static long ends(InstanceStatus s) {
    return s.history().stream().filter(e -> e instanceof HistoryEvent.ExecutionCompleted).count();
  }
}
