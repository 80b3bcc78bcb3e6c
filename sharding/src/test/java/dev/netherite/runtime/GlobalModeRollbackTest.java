package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.CriticalSection;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityState;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceAlreadyExistsException;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.StoreUnavailableException;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import dev.netherite.runtime.internal.RuntimeMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The global persistence mode on the real Cassandra: Bank transfers run on partition 0 between
 * accounts on partitions 1 and 2, and writes of partition 0 fail after it sent its steps' messages
 * (lock requests, entity operations, releases) speculatively. Partitions 1 and 2 consumed steps
 * that partition 0 lost: they take back their speculative work and redo it from what is committed.
 * Every transfer still completes exactly once, and the accounts hold what the transfers and the
 * deposits that a client signals meanwhile make them.
 */
@Timeout(180)
class GlobalModeRollbackTest {
  static final EntityOp<Integer, Void> ADD = EntityOp.of("add", Integer.class, Void.class);
  static final EntityOp<Void, Integer> GET = EntityOp.of("get", Void.class, Integer.class);
  static final EntityType<Integer> ACCOUNT =
      EntityType.define("Account", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, amount) -> {
                ctx.setState(ctx.state() + amount);
                return null;
              })
          .operation(GET, (ctx, none) -> ctx.state());

  /** "from to amount": moves the amount between two accounts in a critical section. */
  static final OrchestrationRef<String, Boolean> TRANSFER =
      OrchestrationRef.of("Transfer", String.class, Boolean.class);

  static final int ACCOUNTS = 8;
  static final int BALANCE = 1000;
  static final int TRANSFERS = 80;
  static final int DEPOSITS = 40;

  @SuppressWarnings("try") // the section is used for its scope: closing it releases the locks
  static Boolean transfer(OrchestrationContext ctx, String t) {
    String[] parts = t.split(" ");
    EntityId from = ACCOUNT.id(parts[0]);
    EntityId to = ACCOUNT.id(parts[1]);
    int amount = Integer.parseInt(parts[2]);
    try (CriticalSection section = ctx.lockEntities(from, to)) {
      Task.allOf(ctx.callEntity(from, ADD, -amount), ctx.callEntity(to, ADD, amount)).await();
      return true;
    }
  }

  /** Waits for the event "go", then adds 5 to the account "target!1" and returns its balance. */
  static final OrchestrationRef<Void, Integer> ADD_AFTER_GO =
      OrchestrationRef.of("AddAfterGo", Void.class, Integer.class);

  static Integer addAfterGo(OrchestrationContext ctx, Void none) {
    ctx.waitForEvent("go", Void.class).await();
    ctx.callEntity(ACCOUNT.id("target!1"), ADD, 5).await();
    return ctx.callEntity(ACCOUNT.id("target!1"), GET, null).await();
  }

  /** Account k lives on partition 1 (k even) or 2 (k odd). */
  static String account(int k) {
    return "acct-" + k + "!" + (1 + k % 2);
  }

  @Test
  void receiversOfASendersLostStepsRollBackAndEveryTransferCompletesOnce() throws Exception {
    String hub = RuntimeTestKit.newTaskHub("rollback");
    Workflows app =
        TestWorkflows.register(Workflows.builder())
            .entity(ACCOUNT)
            .orchestration(TRANSFER, GlobalModeRollbackTest::transfer)
            .build();
    Map<String, Object> settings = settings("netherite.delivery.resend-after", "300ms");
    long rollbacksBefore = receiverRollbacks();
    try (DurableRuntime runtime =
        RuntimeTestKit.start(app, hub, settings, DurableRuntime.Options.defaults())) {
      DurableClient client = runtime.client();
      for (int k = 0; k < ACCOUNTS; k++) {
        client.signalEntity(ACCOUNT.id(account(k)), ADD, BALANCE);
      }
      awaitTotal(client, ACCOUNTS * BALANCE);

      // The 3rd, 8th and 14th writes of partition 0 that hold a step fail; the 8th is stored.
      FailingWriteJournal.arm(hub + "-partition-0", Set.of(3, 8, 14), Set.of(8));
      Map<String, Long> expected = new TreeMap<>();
      for (int k = 0; k < ACCOUNTS; k++) {
        expected.put(account(k), (long) BALANCE);
      }
      List<String> transfers = new ArrayList<>();
      for (int i = 0; i < TRANSFERS; i++) {
        int a = (2 * i) % ACCOUNTS; // on partition 1
        int b = (2 * i + 3) % ACCOUNTS; // on partition 2
        boolean backwards = i % 3 == 0;
        String from = account(backwards ? b : a);
        String to = account(backwards ? a : b);
        int amount = 1 + i % 7;
        transfers.add(from + " " + to + " " + amount);
        expected.merge(from, (long) -amount, Long::sum);
        expected.merge(to, (long) amount, Long::sum);
      }
      List<InstanceId> ids = new ArrayList<>();
      try (var clients = Executors.newFixedThreadPool(8)) {
        // Meanwhile a client deposits into the accounts: the signals wait for commit on partitions
        // 1 and 2, so a rollback there answers them with a retry, which must take effect once.
        Future<?> deposits =
            clients.submit(
                () -> {
                  for (int d = 0; d < DEPOSITS; d++) {
                    depositOnce(client, account(d % ACCOUNTS));
                  }
                  return null;
                });
        List<Future<InstanceId>> started = new ArrayList<>();
        for (int i = 0; i < TRANSFERS; i++) {
          InstanceId id = InstanceId.of("transfer-" + i + "!0");
          String t = transfers.get(i);
          started.add(clients.submit(() -> startOnce(client, id, t)));
        }
        for (Future<InstanceId> f : started) {
          ids.add(f.get());
        }
        deposits.get();
      }
      for (int d = 0; d < DEPOSITS; d++) {
        expected.merge(account(d % ACCOUNTS), 1L, Long::sum);
      }
      for (InstanceId id : ids) {
        InstanceStatus done = client.waitForCompletion(id, Duration.ofSeconds(90));
        assertEquals(
            RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> id + ": " + done.failure());
        assertEquals(true, done.output(Boolean.class), id.value());
        List<HistoryEvent> history = client.getStatus(id, true).orElseThrow().history();
        assertEquals(1, count(history, HistoryEvent.ExecutionStarted.class), id.value());
        assertEquals(1, count(history, HistoryEvent.EntityLocksGranted.class), id.value());
        assertEquals(2, count(history, HistoryEvent.EntityCallCompleted.class), id.value());
        assertEquals(1, count(history, HistoryEvent.ExecutionCompleted.class), id.value());
      }
      FailingWriteJournal.disarm();

      assertEquals(3, FailingWriteJournal.FAILED.get(), "writes of partition 0 failed");
      long rollbacks = receiverRollbacks() - rollbacksBefore;
      assertTrue(rollbacks > 0, "partitions 1 and 2 took back speculative work: " + rollbacks);

      // Exactly once: each account holds its deposits and every transfer once (an operation or a
      // signal lost or applied twice would show), the money is conserved, and no lock is left.
      long total = 0;
      for (Map.Entry<String, Long> e : expected.entrySet()) {
        EntityState<Integer> account = client.readEntity(ACCOUNT, e.getKey());
        assertEquals(e.getValue(), (long) account.state(), e.getKey());
        assertNull(account.lockedBy(), e.getKey());
        assertEquals(0, account.backlog(), e.getKey());
        total += account.state();
      }
      assertEquals(ACCOUNTS * BALANCE + DEPOSITS, total, "money is conserved");
    } finally {
      FailingWriteJournal.disarm();
    }
  }

  /**
   * Client requests that partition 1 took after a speculative delivery from partition 0 are part of
   * its speculative suffix: they wait for partition 0's step to commit. That step's write is slow
   * and then fails, so partition 1 takes the suffix back and answers them ROLLED_BACK; the client
   * sends each again with its request id, and each takes effect once.
   */
  @Test
  void requestsInARolledBackSuffixAreAnsweredRolledBackAndTakeEffectOnce() throws Exception {
    String hub = RuntimeTestKit.newTaskHub("rolledback");
    Workflows app =
        TestWorkflows.register(Workflows.builder())
            .entity(ACCOUNT)
            .orchestration(ADD_AFTER_GO, GlobalModeRollbackTest::addAfterGo)
            .build();
    // An attempt timeout longer than the slow write and the recovery after it: the answer that
    // reaches the client is the rollback's.
    Map<String, Object> settings = settings("netherite.client.attempt-timeout", "15s");
    RuntimeMetrics.PartitionCounters partition1 = RuntimeMetrics.global().partition(1);
    try (DurableRuntime runtime =
        RuntimeTestKit.start(app, hub, settings, DurableRuntime.Options.defaults())) {
      DurableClient client = runtime.client();
      InstanceId caller = client.start(ADD_AFTER_GO, null, StartOptions.withInstanceId("caller!0"));
      awaitRunning(client, caller);
      long rollbacksBefore = partition1.rollbacks();
      long retriesBefore = partition1.clientRetriesAfterRollback();

      // The write of the step that "go" runs (it calls target!1) fails 2 s after it was handed
      // over; the call left at once, and partition 1 applied it.
      FailingWriteJournal.arm(hub + "-partition-0", Set.of(1), Set.of(), Duration.ofSeconds(2));
      try (var background = Executors.newFixedThreadPool(3)) {
        Future<?> go =
            background.submit(
                () -> {
                  while (true) {
                    try {
                      client.raiseEvent(caller, "go", null);
                      return null;
                    } catch (StoreUnavailableException e) {
                      Thread.sleep(50); // partition 0 is down for a moment after the failure
                    }
                  }
                });
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (FailingWriteJournal.FAILED.get() == 0) {
          assertTrue(System.nanoTime() < deadline, "partition 0 wrote no step after \"go\"");
          Thread.sleep(5);
        }
        Thread.sleep(200); // the call reaches partition 1 in well under a millisecond

        // Each of these returns only after partition 1 committed it, which needs partition 0's
        // step first: the rollback answers both, the client sends them again.
        Future<?> signal = background.submit(() -> depositOnce(client, "bystander!1"));
        InstanceId hello =
            client.start(TestWorkflows.HELLO5, null, StartOptions.withInstanceId("hello!1"));
        signal.get();
        go.get();

        assertEquals(1, FailingWriteJournal.FAILED.get(), "the step's write failed");
        assertTrue(
            partition1.rollbacks() > rollbacksBefore,
            "partition 1 took back what it did with partition 0's lost step");
        long retries = partition1.clientRetriesAfterRollback() - retriesBefore;
        assertTrue(
            retries >= 2,
            "the signal and the start were answered ROLLED_BACK and sent again: " + retries);

        InstanceStatus helloDone = client.waitForCompletion(hello, Duration.ofSeconds(30));
        assertEquals(RuntimeStatus.COMPLETED, helloDone.runtimeStatus());
        assertEquals(TestWorkflows.HELLO5_OUTPUT, helloDone.output(List.class));
        List<HistoryEvent> history = client.getStatus(hello, true).orElseThrow().history();
        assertEquals(1, count(history, HistoryEvent.ExecutionStarted.class));
        InstanceStatus callerDone = client.waitForCompletion(caller, Duration.ofSeconds(30));
        assertEquals(RuntimeStatus.COMPLETED, callerDone.runtimeStatus());
        assertEquals(5, callerDone.output(Integer.class), "the call took effect once");
        assertEquals(5, client.readEntity(ACCOUNT, "target!1").state());
        assertEquals(1, client.readEntity(ACCOUNT, "bystander!1").state(), "the signal, once");
      }
    } finally {
      FailingWriteJournal.disarm();
    }
  }

  /** Three partitions in the global mode, on the journal that fails chosen writes; and one more. */
  private static Map<String, Object> settings(String key, Object value) {
    return Map.of(
        "netherite.partition-count",
        3,
        "netherite.persistence-mode",
        "global",
        "netherite.client.request-timeout",
        "60s",
        "pekko.persistence.cassandra.journal.class",
        FailingWriteJournal.class.getName(),
        key,
        value);
  }

  private static void awaitRunning(DurableClient client, InstanceId id)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (client.getStatus(id, false).map(InstanceStatus::runtimeStatus).orElse(null)
        != RuntimeStatus.RUNNING) {
      assertTrue(System.nanoTime() < deadline, id + " is not running after 30 s");
      Thread.sleep(10);
    }
  }

  /**
   * Starts a transfer, retrying while the node reports its store unavailable (a failed write is
   * taken for an outage for a moment); a retry that finds it started is fine.
   */
  private static InstanceId startOnce(DurableClient client, InstanceId id, String transfer)
      throws InterruptedException {
    while (true) {
      try {
        return client.start(TRANSFER, transfer, StartOptions.withInstanceId(id.value()));
      } catch (InstanceAlreadyExistsException e) {
        return id;
      } catch (StoreUnavailableException e) {
        Thread.sleep(50);
      }
    }
  }

  /** A deposit of 1; refused while the node reports its store unavailable, then sent again. */
  private static Void depositOnce(DurableClient client, String account)
      throws InterruptedException {
    while (true) {
      try {
        client.signalEntity(ACCOUNT.id(account), ADD, 1);
        return null;
      } catch (StoreUnavailableException e) {
        Thread.sleep(50);
      }
    }
  }

  private static void awaitTotal(DurableClient client, long total) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    long seen = -1;
    while (System.nanoTime() < deadline) {
      seen = 0;
      for (int k = 0; k < ACCOUNTS; k++) {
        Integer balance = client.readEntity(ACCOUNT, account(k)).state();
        seen += balance == null ? 0 : balance;
      }
      if (seen == total) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the deposits did not arrive: the accounts hold " + seen);
  }

  private static long count(List<HistoryEvent> history, Class<?> type) {
    return history.stream().filter(type::isInstance).count();
  }

  /** Rollbacks of partitions 1 and 2, the accounts' (summed over every runtime of this JVM). */
  private static long receiverRollbacks() {
    return RuntimeMetrics.global().partition(1).rollbacks()
        + RuntimeMetrics.global().partition(2).rollbacks();
  }
}
