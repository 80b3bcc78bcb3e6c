package dev.netherite.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.cassandra.TestCassandra;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.runtime.DurableRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bank on one node against the real Cassandra: 1000 accounts on 12 partitions, 5000 concurrent
 * transfers between random accounts on different partitions, a tenth of them between a few hot
 * accounts so that they conflict. Every transfer completes (no deadlock), money is conserved, and
 * every account's balance is exactly what the transfers that report success make it (each applied
 * once). The second test terminates the ActorSystem abruptly mid-run and restarts it.
 */
@Timeout(600)
class BankTest {
  static final int PARTITIONS = 12;
  static final int ACCOUNTS = 1000;
  static final int TRANSFERS = 5000;
  static final int BALANCE = 100;

  record Planned(InstanceId id, Bank.Transfer transfer) {}

  static List<Planned> plan(long seed) {
    Random random = new Random(seed);
    List<Planned> planned = new ArrayList<>();
    for (int k = 0; k < TRANSFERS; k++) {
      int a;
      int b;
      if (k % 10 == 0) {
        a = random.nextInt(4); // hot accounts 0..3, on partitions 0..3
        b = (a + 1 + random.nextInt(3)) % 4;
      } else {
        a = random.nextInt(ACCOUNTS);
        do {
          b = random.nextInt(ACCOUNTS);
        } while (b % PARTITIONS == a % PARTITIONS);
      }
      Bank.Transfer t =
          new Bank.Transfer(
              Bank.accountKey(a, PARTITIONS),
              Bank.accountKey(b, PARTITIONS),
              1 + random.nextInt(80));
      planned.add(new Planned(InstanceId.of("transfer-" + seed + "-" + k), t));
    }
    return planned;
  }

  static DurableRuntime start(String hub) {
    return DurableRuntime.start(
        Samples.app(),
        Samples.singleNode(
            TestCassandra.contactPoint(),
            hub,
            Map.of(
                "netherite.partition-count", PARTITIONS,
                "pekko.coordinated-shutdown.run-by-actor-system-terminate", "off",
                "pekko.loglevel", "WARNING")));
  }

  static void startAll(DurableClient client, List<Planned> planned) throws Exception {
    try (ExecutorService starters =
        Executors.newFixedThreadPool(64, Thread.ofVirtual().factory())) {
      List<Future<?>> started = new ArrayList<>();
      for (Planned p : planned) {
        started.add(
            starters.submit(
                () ->
                    client.start(
                        Bank.TRANSFER, p.transfer(), StartOptions.defaults().instanceId(p.id()))));
      }
      for (Future<?> f : started) {
        f.get();
      }
    }
  }

  /** Waits for every transfer and checks conservation and exactly-once application. */
  static void verify(DurableClient client, List<Planned> planned) {
    Bank.Ledger ledger = new Bank.Ledger();
    for (int k = 0; k < ACCOUNTS; k++) {
      ledger.deposited(Bank.accountKey(k, PARTITIONS), BALANCE);
    }
    int applied = 0;
    for (Planned p : planned) {
      InstanceStatus done = client.waitForCompletion(p.id(), Duration.ofSeconds(300));
      assertEquals(
          RuntimeStatus.COMPLETED,
          done.runtimeStatus(),
          () -> p.id() + " failure: " + done.failure());
      if (done.output(Boolean.class)) {
        applied++;
        ledger.applied(p.transfer());
      }
    }
    assertTrue(applied > TRANSFERS / 2, "most transfers are covered: " + applied);
    // Every balance is what the successful transfers make it (each applied once), no lock or queue
    // is left, and
    // money is conserved.
    assertEquals(List.of(), ledger.check(client, true));
  }

  @Test
  void fiveThousandConcurrentTransfersConserveMoney() throws Exception {
    String hub = "bank-" + ProcessHandle.current().pid();
    List<Planned> planned = plan(1);
    try (DurableRuntime runtime = start(hub)) {
      Bank.openAccounts(runtime.client(), ACCOUNTS, PARTITIONS, BALANCE);
      long began = System.nanoTime();
      startAll(runtime.client(), planned);
      verify(runtime.client(), planned);
      System.out.printf(
          "Bank: %d transfers over %d accounts in %.1f s%n",
          TRANSFERS, ACCOUNTS, (System.nanoTime() - began) / 1e9);
    }
  }

  @Test
  void transfersSurviveAnAbruptStopMidRun() throws Exception {
    String hub = "bank-crash-" + ProcessHandle.current().pid();
    List<Planned> planned = plan(2);
    DurableRuntime first = start(hub);
    try {
      Bank.openAccounts(first.client(), ACCOUNTS, PARTITIONS, BALANCE);
      startAll(first.client(), planned);
      int ended = 0;
      List<Planned> last = planned.subList(TRANSFERS - 200, TRANSFERS);
      for (Planned p : last) {
        if (first
            .client()
            .getStatus(p.id())
            .map(s -> s.runtimeStatus().isTerminal())
            .orElse(false)) {
          ended++;
        }
      }
      System.out.printf("Bank crash: %d of the last 200 transfers had ended at the crash%n", ended);
      assertTrue(ended < last.size(), "the crash should come while transfers are in flight");
    } finally {
      first.system().terminate(); // no coordinated shutdown: no hand-over, no final checkpoint
      first.system().getWhenTerminated().toCompletableFuture().join();
    }
    try (DurableRuntime second = start(hub)) {
      verify(second.client(), planned);
    }
  }
}
