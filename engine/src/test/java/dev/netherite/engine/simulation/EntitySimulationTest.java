package dev.netherite.engine.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.CriticalSection;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.host.PersistenceMode;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.EntityRecord;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.StoredRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded simulation of entities and critical sections: transfers between accounts on 4 partitions,
 * each locking its two accounts, with conflicting pairs, clients depositing by signal, and lock
 * holders terminated while they hold (or still wait for) their locks, under partition crashes and
 * lossy, duplicating delivery. Money must be conserved, each transfer applied once, every lock
 * released and every queue drained. Rerun one seed with {@code -Dnetherite.sim.seed=<seed>}.
 */
class EntitySimulationTest {
  private static final int PARTITIONS = 4;
  private static final int ACCOUNTS = 8;
  private static final int TRANSFERS = 40;
  private static final int HOLDERS = 4;
  private static final int DEPOSITS = 12;
  private static final int INITIAL = 100;

  private static final EntityOp<Integer, Void> ADD = EntityOp.of("add", Integer.class, Void.class);
  private static final EntityOp<Void, Integer> GET = EntityOp.of("get", Void.class, Integer.class);
  private static final EntityType<Integer> ACCOUNT =
      EntityType.define("Account", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, amount) -> {
                ctx.setState(ctx.state() + amount);
                return null;
              })
          .operation(GET, (ctx, none) -> ctx.state());

  @SuppressWarnings("rawtypes")
  private static final OrchestrationRef<List, Boolean> TRANSFER =
      OrchestrationRef.of("Transfer", List.class, Boolean.class);

  @SuppressWarnings("rawtypes")
  private static final OrchestrationRef<List, Boolean> HOLDER =
      OrchestrationRef.of("Holder", List.class, Boolean.class);

  private static final PartitionPlacement PLACEMENT = new PartitionPlacement(PARTITIONS);

  static Workflows app() {
    return Workflows.builder()
        .entity(ACCOUNT)
        .orchestration(
            TRANSFER,
            (ctx, t) -> {
              EntityId from = ACCOUNT.id((String) t.get(0));
              EntityId to = ACCOUNT.id((String) t.get(1));
              int amount = (Integer) t.get(2);
              try (CriticalSection section = ctx.lockEntities(from, to)) {
                if (ctx.callEntity(from, GET).await() < amount) {
                  return false;
                }
                Task.allOf(ctx.callEntity(from, ADD, -amount), ctx.callEntity(to, ADD, amount))
                    .await();
                return true;
              }
            })
        .orchestration(
            HOLDER,
            (ctx, accounts) -> {
              // Takes the locks and waits for an event nobody sends: only its termination frees the
              // accounts.
              try (CriticalSection section =
                  ctx.lockEntities(
                      ACCOUNT.id((String) accounts.get(0)), ACCOUNT.id((String) accounts.get(1)))) {
                return ctx.waitForEvent("never", Boolean.class).await();
              }
            })
        .build();
  }

  static String account(int k) {
    return "a" + k + "!" + (k % PARTITIONS);
  }

  static LongStream seeds() {
    return PartitionSimulationTest.seeds();
  }

  private record Transfer(String id, String from, String to, int amount) {}

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void transfersConserveMoneyAndLocksAreAlwaysReleased(long seed) {
    PartitionSimulationTest.withSeed(seed, app(), sim -> simulate(sim, seed));
  }

  /**
   * The same transfers with a memory budget of 0: idle accounts (locked ones among them) and idle
   * transfers leave memory after each checkpoint; operations, lock requests, grants and releases
   * for them are parked until they are read back.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void transfersConserveMoneyWithIdleEntitiesOutOfMemory(long seed) {
    PartitionSimulationTest.withSeed(
        seed,
        app(),
        sim -> {
          sim.recordBudget(0);
          simulate(sim, seed);
          PartitionSimulationTest.assertIdleRecordsLeftMemory(sim, seed);
        });
  }

  /**
   * The same transfers with partitions that stay down (after a hand-off or a failed write) longer
   * than {@code max-unconfirmed}: in the global mode, partitions that consumed their speculative
   * messages take back what depends on them instead of waiting, and apply their messages only once
   * committed until they are heard from again. Nothing is lost or done twice.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void transfersConserveMoneyWhenPartitionsStayDownPastMaxUnconfirmed(long seed) {
    PartitionSimulationTest.withSeed(
        seed,
        app(),
        sim -> {
          sim.restartAfter(Duration.ofSeconds(2)).maxUnconfirmed(Duration.ofMillis(700));
          simulate(sim, seed);
          if (PartitionSimulationTest.MODE == PersistenceMode.GLOBAL) {
            assertTrue(
                sim.slowOriginRollbacks() > 0,
                "no partition gave up waiting for a slow origin: " + sim.storageSummary());
          }
          System.out.printf("seed %d (slow origins): %s%n", seed, sim.storageSummary());
        });
  }

  private void simulate(SimulatedPartitions sim, long seed) {
    Random random = new Random(seed * 13 + 5);
    // Initial balances go in while the network is reliable, so that the test knows what was
    // deposited.
    for (int k = 0; k < ACCOUNTS; k++) {
      sim.submit(
          new ClientRequest.SignalEntity(
              ACCOUNT.id(account(k)).toString(), ADD.name(), sim.converter().serialize(INITIAL)));
    }
    sim.settle(100_000);
    sim.faults(0.1, 0.1).cacheCapacity(6).maxMessagesPerDelivery(3);

    List<Transfer> transfers = new ArrayList<>();
    for (int k = 0; k < TRANSFERS; k++) {
      int a = random.nextInt(ACCOUNTS);
      int b = (a + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
      if (k % 5 == 0) {
        a = 0; // a hot pair, so that transfers conflict
        b = 1 + k % 2;
      }
      Transfer t =
          new Transfer(
              "t" + k + "!" + (k % PARTITIONS), account(a), account(b), 1 + random.nextInt(60));
      transfers.add(t);
      sim.start(t.id(), TRANSFER.name(), List.of(t.from(), t.to(), t.amount()));
    }
    List<String> holders = new ArrayList<>();
    Map<String, String> holderStarts = new TreeMap<>();
    for (int k = 0; k < HOLDERS; k++) {
      String id = "h" + k + "!" + ((k + 1) % PARTITIONS);
      holders.add(id);
      holderStarts.put(
          id, sim.start(id, HOLDER.name(), List.of(account(2 * k), account(2 * k + 1))));
    }
    Map<String, String> terminations = new TreeMap<>();
    List<String> deposits = new ArrayList<>();
    Runnable client =
        () -> {
          if (deposits.size() < DEPOSITS && random.nextDouble() < 0.01) {
            deposits.add(
                sim.submit(
                    new ClientRequest.SignalEntity(
                        ACCOUNT.id(account(random.nextInt(ACCOUNTS))).toString(),
                        ADD.name(),
                        sim.converter().serialize(10))));
          }
          if (random.nextDouble() < 0.004) {
            String holder = holders.get(random.nextInt(HOLDERS));
            if (sim.response(holderStarts.get(holder)) == null) {
              return; // not started yet as far as the client knows
            }
            terminations.computeIfAbsent(
                holder, h -> sim.submit(new ClientRequest.Terminate(h, "free the accounts")));
          }
        };
    PartitionSimulationTest.chaos(
        sim,
        random,
        () ->
            transfers.stream().allMatch(t -> sim.hasEnded(t.id()))
                && deposits.size() == DEPOSITS
                && holders.stream().allMatch(h -> sim.hasEnded(h)),
        client);
    sim.faults(0, 0);
    sim.settle(300_000);
    assertTrue(sim.quiescent(), () -> "not quiescent after settling: " + sim.summary());

    // Each transfer ended once, as its own outcome says; the balances are what the applied
    // transfers make them.
    Map<String, Integer> expected = new TreeMap<>();
    for (int k = 0; k < ACCOUNTS; k++) {
      expected.put(account(k), INITIAL);
    }
    for (String d : deposits) {
      assertEquals(new ClientResponse.Accepted(), sim.response(d), "deposit " + d);
    }
    int applied = 0;
    for (Transfer t : transfers) {
      InstanceView v = sim.status(t.id());
      assertEquals(RuntimeStatus.COMPLETED, v.status(), t.id() + ": " + v);
      PartitionSimulationTest.assertAtMostOnce(sim, t.id(), t.id() + " ended more than once");
      if (sim.converter().deserialize(v.output(), Boolean.class)) {
        applied++;
        expected.merge(t.from(), -t.amount(), Integer::sum);
        expected.merge(t.to(), t.amount(), Integer::sum);
      }
    }
    int total = 0;
    Map<String, Integer> actual = new TreeMap<>();
    for (int k = 0; k < ACCOUNTS; k++) {
      String entity = ACCOUNT.id(account(k)).toString();
      EntityRecord e = sim.entity(entity);
      assertNotNull(e, entity);
      assertNull(e.lockedBy(), entity + " still locked");
      assertEquals(0, e.backlog(), entity + " has work left");
      int balance = sim.converter().deserialize(e.state(), Integer.class);
      assertTrue(balance >= 0, entity + " overdrawn: " + balance);
      actual.put(account(k), balance);
      total += balance;
    }
    // Deposits of 10 land on random accounts: each account may exceed what the transfers make it by
    // a multiple of 10.
    int depositedDuringRun = 10 * deposits.size();
    assertEquals(ACCOUNTS * INITIAL + depositedDuringRun, total, "money is conserved");
    int drift = 0;
    for (String acct : expected.keySet()) {
      drift += actual.get(acct) - expected.get(acct);
      assertTrue(
          actual.get(acct) - expected.get(acct) >= 0
              && (actual.get(acct) - expected.get(acct)) % 10 == 0,
          acct
              + ": balance "
              + actual.get(acct)
              + " is not what the applied transfers make it ("
              + expected.get(acct)
              + ") plus deposits");
    }
    assertEquals(depositedDuringRun, drift);

    for (String h : holders) {
      InstanceView v = sim.status(h);
      assertEquals(RuntimeStatus.TERMINATED, v.status(), h + " can only end by termination");
      assertTrue(terminations.containsKey(h));
    }

    // Recovery is replay: entities rebuilt from each durable log equal the live ones.
    for (int p = 0; p < PARTITIONS; p++) {
      PartitionState rebuilt = sim.rebuild(p, sim.durableLog(p));
      for (int k = 0; k < ACCOUNTS; k++) {
        String entity = ACCOUNT.id(account(k)).toString();
        if (PLACEMENT.partitionOf(entity) == p) {
          String key = StoredRecord.entityKey(entity);
          assertEquals(sim.state(p).isEvicted(key), rebuilt.isEvicted(key), entity + " residency");
          if (rebuilt.isEvicted(key)) {
            continue; // out of memory in both; the store's version is the one checked above
          }
          EntityRecord live = sim.entity(entity);
          EntityRecord replayed = rebuilt.entity(entity);
          assertEquals(live.state(), replayed.state(), entity);
          assertEquals(live.lockedBy(), replayed.lockedBy(), entity);
          assertEquals(live.backlog(), replayed.backlog(), entity);
        }
      }
    }
    assertTrue(
        sim.crashes() > 0 && sim.dropped() > 0, "the seed caused no faults: " + sim.summary());
    System.out.printf(
        "seed %d (entities): %d transfers (%d applied), %d holders terminated, %d deposits, %d actions, %d entity batches,"
            + " %d crashes, %d dropped, %d duplicated%n",
        seed,
        TRANSFERS,
        applied,
        HOLDERS,
        deposits.size(),
        sim.actions(),
        sim.entityBatchesRun(),
        sim.crashes(),
        sim.dropped(),
        sim.duplicated());
  }
}
