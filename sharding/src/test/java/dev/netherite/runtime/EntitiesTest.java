package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.CriticalSection;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityState;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.TaskFailedException;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Entities and critical sections on one node against the real Cassandra: operations, signals from
 * clients and orchestrations, failed operations undone, delayed signals, implicit deletion, and
 * each rule of critical sections failing its orchestration with a message that names it, with the
 * locks released afterwards.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EntitiesTest {
  static final EntityOp<Integer, Integer> ADD = EntityOp.of("add", Integer.class, Integer.class);
  static final EntityOp<Void, Integer> GET = EntityOp.of("get", Void.class, Integer.class);
  static final EntityOp<Integer, Void> ADD_THEN_FAIL =
      EntityOp.of("addThenFail", Integer.class, Void.class);
  static final EntityOp<Void, Void> DELETE = EntityOp.of("delete", Void.class, Void.class);
  static final EntityOp<String, Void> START =
      EntityOp.of("startGreeting", String.class, Void.class);

  static final OrchestrationRef<String, String> GREET =
      OrchestrationRef.of("Greet", String.class, String.class);

  static final EntityType<Integer> COUNTER =
      EntityType.define("Counter", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, n) -> {
                ctx.setState(ctx.state() + n);
                return ctx.state();
              })
          .operation(GET, (ctx, none) -> ctx.state())
          .operation(
              ADD_THEN_FAIL,
              (ctx, n) -> {
                ctx.setState(ctx.state() + n);
                ctx.signal(ctx.id(), ADD, 1000); // undone with the rest of the operation
                throw new IllegalStateException("refused " + n);
              })
          .operation(
              DELETE,
              (ctx, none) -> {
                ctx.deleteState();
                return null;
              })
          .operation(
              START,
              (ctx, who) -> {
                ctx.startOrchestration(GREET, who, InstanceId.of("greet-" + who));
                return null;
              });

  static final OrchestrationRef<String, Integer> CALLS =
      OrchestrationRef.of("Calls", String.class, Integer.class);
  static final OrchestrationRef<String, String> NESTED =
      OrchestrationRef.of("Nested", String.class, String.class);
  static final OrchestrationRef<String, String> CALL_UNLOCKED =
      OrchestrationRef.of("CallUnlocked", String.class, String.class);
  static final OrchestrationRef<String, String> SUB_IN_SECTION =
      OrchestrationRef.of("SubInSection", String.class, String.class);
  static final OrchestrationRef<String, String> SIGNAL_LOCKED =
      OrchestrationRef.of("SignalLocked", String.class, String.class);
  static final OrchestrationRef<String, String> CAUGHT =
      OrchestrationRef.of("CaughtViolation", String.class, String.class);
  static final OrchestrationRef<String, Integer> DELAYED =
      OrchestrationRef.of("Delayed", String.class, Integer.class);
  static final OrchestrationRef<String, String> GHOST =
      OrchestrationRef.of("Ghost", String.class, String.class);

  private static DurableRuntime runtime;

  static Workflows app() {
    return Workflows.builder()
        .entity(COUNTER)
        .orchestration(GREET, (ctx, who) -> "Hello " + who + "!")
        .orchestration(
            CALLS,
            (ctx, key) -> {
              EntityId c = COUNTER.id(key);
              ctx.callEntity(c, ADD, 5).await();
              try {
                ctx.callEntity(c, ADD_THEN_FAIL, 7).await();
              } catch (TaskFailedException expected) {
                // the counter keeps 5: the failed operation's change and signal are undone
              }
              return ctx.callEntity(c, GET).await();
            })
        .orchestration(
            NESTED,
            (ctx, key) -> {
              try (CriticalSection outer = ctx.lockEntities(COUNTER.id(key + "-a"))) {
                try (CriticalSection inner = ctx.lockEntities(COUNTER.id(key + "-b"))) {
                  return "nested";
                }
              }
            })
        .orchestration(
            CALL_UNLOCKED,
            (ctx, key) -> {
              try (CriticalSection s = ctx.lockEntities(COUNTER.id(key + "-a"))) {
                ctx.callEntity(COUNTER.id(key + "-b"), GET).await();
                return "called";
              }
            })
        .orchestration(
            SUB_IN_SECTION,
            (ctx, key) -> {
              try (CriticalSection s = ctx.lockEntities(COUNTER.id(key + "-a"))) {
                return ctx.callSubOrchestration(GREET, "sub").await();
              }
            })
        .orchestration(
            SIGNAL_LOCKED,
            (ctx, key) -> {
              try (CriticalSection s =
                  ctx.lockEntities(COUNTER.id(key + "-a"), COUNTER.id(key + "-b"))) {
                ctx.signalEntity(COUNTER.id(key + "-b"), ADD, 1);
                return "signaled";
              }
            })
        .orchestration(
            CAUGHT,
            (ctx, key) -> {
              try (CriticalSection s = ctx.lockEntities(COUNTER.id(key + "-a"))) {
                try {
                  ctx.signalEntity(COUNTER.id(key + "-a"), ADD, 1);
                } catch (IllegalStateException swallowed) {
                  // user code must not be able to hide a broken rule
                }
                return "hidden";
              }
            })
        .orchestration(
            GHOST,
            (ctx, key) -> {
              try {
                ctx.callEntity(EntityId.of("Ghost", key), GET).await();
                return "no failure";
              } catch (TaskFailedException e) {
                return e.failure().message();
              }
            })
        .orchestration(
            DELAYED,
            (ctx, key) -> {
              ctx.signalEntity(COUNTER.id(key), ADD, 3, Duration.ofSeconds(2));
              return 0;
            })
        .build();
  }

  /** Settings of the runtime; a subclass runs the tests in another persistence mode. */
  Map<String, Object> settings() {
    return Map.of();
  }

  @BeforeAll
  void start() {
    runtime =
        RuntimeTestKit.start(
            app(),
            RuntimeTestKit.newTaskHub("entities"),
            settings(),
            DurableRuntime.Options.defaults());
  }

  @AfterAll
  void stop() {
    if (runtime != null) {
      runtime.close();
    }
  }

  private static InstanceStatus run(OrchestrationRef<String, ?> ref, String input) {
    InstanceId id = runtime.client().start(ref, input);
    return runtime.client().waitForCompletion(id, Duration.ofSeconds(60));
  }

  @Test
  void callsSeeEachOtherInOrderAndAFailedOperationIsUndone() {
    InstanceStatus done = run(CALLS, "calls");
    assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> "failure: " + done.failure());
    assertEquals(5, done.output(Integer.class));
    EntityState<Integer> counter = runtime.client().readEntity(COUNTER, "calls");
    assertTrue(counter.exists());
    assertEquals(5, counter.state());
    assertNull(counter.lockedBy());
    assertEquals(0, counter.backlog());
  }

  @Test
  void clientSignalsAreAppliedOnceEachInOrder() {
    EntityId c = COUNTER.id("signals");
    for (int i = 1; i <= 20; i++) {
      runtime.client().signalEntity(c, ADD, i);
    }
    awaitTrue(
        () -> Integer.valueOf(210).equals(runtime.client().readEntity(c, Integer.class).state()),
        "20 signals applied");
  }

  @Test
  void anEntityWithoutStateDoesNotExistAndDeletingStateRemovesIt() {
    EntityState<Integer> never = runtime.client().readEntity(COUNTER, "never-used");
    assertFalse(never.exists());
    assertNull(never.state());

    EntityId c = COUNTER.id("deleted");
    runtime.client().signalEntity(c, ADD, 4);
    awaitTrue(() -> runtime.client().readEntity(c, Integer.class).exists(), "created");
    runtime.client().signalEntity(c, DELETE, null);
    awaitTrue(() -> !runtime.client().readEntity(c, Integer.class).exists(), "deleted");
  }

  @Test
  void aDelayedSignalArrivesAfterItsDelay() {
    long began = System.nanoTime();
    run(DELAYED, "delayed");
    EntityId c = COUNTER.id("delayed");
    awaitTrue(
        () -> Integer.valueOf(3).equals(runtime.client().readEntity(c, Integer.class).state()),
        "delayed signal");
    assertTrue(System.nanoTime() - began >= Duration.ofSeconds(2).toNanos());
  }

  @Test
  void anEntityStartsAnOrchestration() {
    runtime.client().signalEntity(COUNTER.id("starter"), START, "Ada");
    awaitTrue(() -> runtime.client().getStatus(InstanceId.of("greet-Ada")).isPresent(), "started");
    InstanceStatus greeted =
        runtime.client().waitForCompletion(InstanceId.of("greet-Ada"), Duration.ofSeconds(30));
    assertEquals("Hello Ada!", greeted.output(String.class));
  }

  @Test
  void eachBrokenRuleFailsTheOrchestrationByNameAndReleasesItsLocks() {
    assertRuleBroken(NESTED, "rule-nested", "no nested critical section");
    assertRuleBroken(CALL_UNLOCKED, "rule-call", "call only locked entities");
    assertRuleBroken(SUB_IN_SECTION, "rule-sub", "no sub-orchestrations in a critical section");
    assertRuleBroken(SIGNAL_LOCKED, "rule-signal", "no signal to a locked entity");
    assertRuleBroken(CAUGHT, "rule-caught", "no signal to a locked entity");
  }

  private static void assertRuleBroken(
      OrchestrationRef<String, String> ref, String key, String rule) {
    InstanceStatus done = run(ref, key);
    assertEquals(
        RuntimeStatus.FAILED,
        done.runtimeStatus(),
        ref.name() + " output " + done.output(String.class));
    assertTrue(
        done.failure().message().contains("critical-section rule '" + rule + "'"),
        done.failure().message());
    // The section's entity is free again: a signal to it runs.
    EntityId a = COUNTER.id(key + "-a");
    awaitTrue(
        () -> runtime.client().readEntity(a, Integer.class).lockedBy() == null, key + " unlocked");
    runtime.client().signalEntity(a, ADD, 1);
    awaitTrue(
        () -> Integer.valueOf(1).equals(runtime.client().readEntity(a, Integer.class).state()),
        key + " usable");
  }

  @Test
  void badClientInputIsRefusedWithAClearMessage() {
    IllegalArgumentException unknownEntity =
        assertThrows(
            IllegalArgumentException.class,
            () -> runtime.client().signalEntity(EntityId.of("Cunter", "x"), ADD, 1));
    assertTrue(
        unknownEntity
            .getMessage()
            .contains("No entity named 'Cunter' is registered; registered entities are: Counter"),
        unknownEntity.getMessage());
    IllegalArgumentException unknownOp =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                runtime
                    .client()
                    .signalEntity(
                        COUNTER.id("x"), EntityOp.of("sub", Integer.class, Void.class), 1));
    assertTrue(
        unknownOp.getMessage().contains("Entity 'Counter' has no operation named 'sub'"),
        unknownOp.getMessage());
    @SuppressWarnings({"unchecked", "rawtypes"})
    EntityOp<Object, Integer> wrong = (EntityOp) ADD;
    IllegalArgumentException wrongType =
        assertThrows(
            IllegalArgumentException.class,
            () -> runtime.client().signalEntity(COUNTER.id("x"), wrong, "five"));
    assertTrue(
        wrongType.getMessage().contains("takes input of type java.lang.Integer"),
        wrongType.getMessage());
    assertThrows(IllegalArgumentException.class, () -> InstanceId.of("@Counter@x"));
  }

  @Test
  void anOrchestrationCallingAnUnregisteredEntityGetsAFailedTask() {
    InstanceStatus done = run(GHOST, "x");
    assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> "failure: " + done.failure());
    assertTrue(
        done.output(String.class).contains("No entity named 'Ghost' is registered on this node"),
        done.output(String.class));
    assertFalse(runtime.client().readEntity(EntityId.of("Ghost", "x"), Integer.class).exists());
  }

  private static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
