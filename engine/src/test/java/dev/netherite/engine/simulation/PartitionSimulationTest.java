package dev.netherite.engine.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.host.PersistenceMode;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.PurgeFilter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded randomized simulation: orchestrations on 4 partitions, each calling 2 activities and 2
 * sub-orchestrations on other partitions (which raise an event back on their parent), under crashes
 * of partitions and losses, duplicates and reordering of deliveries, acknowledgements, client
 * requests and replies. A failure names its seed; rerun one seed with {@code
 * -Dnetherite.sim.seed=<seed>} (see {@link #seeds()}).
 */
class PartitionSimulationTest {
  private static final int PARTITIONS = 4;
  private static final int ORCHESTRATIONS = 40;
  private static final double DROP_RATE = 0.1;
  private static final double DUPLICATE_RATE = 0.1;
  private static final double CRASH_RATE = 0.01;

  /** The persistence mode the simulations run in; {@code -Dnetherite.sim.mode=persist-first}. */
  static final PersistenceMode MODE =
      switch (System.getProperty("netherite.sim.mode", "local")) {
        case "persist-first" -> PersistenceMode.PERSIST_FIRST;
        case "global" -> PersistenceMode.GLOBAL;
        default -> PersistenceMode.LOCAL;
      };

  private static final long MAX_ACTIONS = 400_000;
  private static final int COUNTERS = 16;
  private static final int COUNTER_EVENTS = 7;
  private static final int COUNTER_BATCH = 2;
  private static final int VICTIMS = 8;

  private static final ActivityRef<String, String> UPPER =
      ActivityRef.of("Upper", String.class, String.class);
  private static final ActivityRef<String, String> REVERSE =
      ActivityRef.of("Reverse", String.class, String.class);
  private static final OrchestrationRef<String, String> PARENT =
      OrchestrationRef.of("Parent", String.class, String.class);
  private static final OrchestrationRef<String, String> CHILD =
      OrchestrationRef.of("Child", String.class, String.class);
  private static final OrchestrationRef<String, String> COUNTER =
      OrchestrationRef.of("Counter", String.class, String.class);
  private static final PartitionPlacement PLACEMENT = new PartitionPlacement(PARTITIONS);

  static Workflows app() {
    return Workflows.builder()
        .activity(UPPER, (ctx, s) -> s.toUpperCase())
        .activity(REVERSE, (ctx, s) -> new StringBuilder(s).reverse().toString())
        .orchestration(
            PARENT,
            (ctx, input) -> {
              String id = ctx.instanceId().value();
              int p = PLACEMENT.partitionOf(id);
              Task<String> upper = ctx.call(UPPER, input);
              Task<String> first =
                  ctx.callSubOrchestration(CHILD, input + "-x", InstanceId.of(firstChild(id, p)));
              String reversed = ctx.call(REVERSE, upper.await()).await();
              Task<String> second =
                  ctx.callSubOrchestration(CHILD, reversed, InstanceId.of(secondChild(id, p)));
              String a = first.await();
              String b = second.await();
              // Each child raises one event here: exactly two must arrive.
              TreeSet<String> notes = new TreeSet<>();
              notes.add(ctx.waitForEvent("child-done", String.class).await());
              notes.add(ctx.waitForEvent("child-done", String.class).await());
              return reversed + "|" + a + "|" + b + "|" + String.join("+", notes);
            })
        .orchestration(
            CHILD,
            (ctx, input) -> {
              String upper = ctx.call(UPPER, input).await();
              ctx.timer(Duration.ofMillis(200)).await();
              String id = ctx.instanceId().value();
              ctx.raiseEvent(
                  InstanceId.of(id.substring(0, id.lastIndexOf("-c"))), "child-done", input);
              return ctx.call(REVERSE, upper).await();
            })
        .orchestration(
            COUNTER,
            (ctx, counted) -> {
              // Counts "inc" events by payload; continues as new after every COUNTER_BATCH of them.
              String acc = counted;
              int inBatch = 0;
              while (true) {
                String e = ctx.waitForEvent("inc", String.class).await();
                acc = acc.isEmpty() ? e : acc + "," + e;
                if (acc.split(",").length >= COUNTER_EVENTS) {
                  return acc;
                }
                if (++inBatch == COUNTER_BATCH) {
                  ctx.continueAsNew(acc);
                }
              }
            })
        .build();
  }

  static String firstChild(String parentId, int partition) {
    return parentId + "-c1!" + (partition + 1) % PARTITIONS;
  }

  static String secondChild(String parentId, int partition) {
    return parentId + "-c2!" + (partition + 2) % PARTITIONS;
  }

  static String expectedOutput(String input) {
    String reversed = reverseUpper(input);
    List<String> notes = new ArrayList<>(List.of(input + "-x", reversed));
    notes.sort(null);
    return reversed
        + "|"
        + reverseUpper(input + "-x")
        + "|"
        + reverseUpper(reversed)
        + "|"
        + String.join("+", notes);
  }

  private static String reverseUpper(String s) {
    return new StringBuilder(s.toUpperCase()).reverse().toString();
  }

  /**
   * Five fixed seeds; {@code -Dnetherite.sim.seed=S} runs seed S only, {@code
   * -Dnetherite.sim.seeds=N} N seeds from {@code -Dnetherite.sim.first-seed} (1) on: a longer
   * search, as {@code bin/simulate} runs it.
   */
  static LongStream seeds() {
    String one = System.getProperty("netherite.sim.seed", "");
    if (!one.isBlank()) {
      return LongStream.of(Long.parseLong(one.strip()));
    }
    String many = System.getProperty("netherite.sim.seeds", "");
    if (!many.isBlank()) {
      long first = Long.parseLong(System.getProperty("netherite.sim.first-seed", "1").strip());
      return LongStream.range(first, first + Long.parseLong(many.strip()));
    }
    return LongStream.of(20300101L, 7L, 424242L, 1_000_003L, 987_654_321L);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void everyOrchestrationCompletesExactlyOnceDespiteCrashesAndLossyDelivery(long seed) {
    withSeed(seed, app(), sim -> simulate(sim, seed, () -> {}));
  }

  /**
   * The same run, with a crash of every partition caught while its checkpoint's records are being
   * written and batches after the checkpoint are already durable: recovery must take the committed
   * checkpoint, never the rows of the unfinished one, and replay the suffix.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void crashesWhileACheckpointsRecordsAreWrittenAndInputGoesOnLoseNothing(long seed) {
    withSeed(
        seed,
        app(),
        sim -> {
          simulate(
              sim,
              seed,
              () -> {
                for (int p = 0; p < PARTITIONS; p++) {
                  // The first chance always crashes: a seed that meets few of them still tests it.
                  if (sim.writingCheckpointWithLaterBatchesDurable(p)
                      && (sim.crashesWhileRecordsWritten() == 0 || sim.random().nextInt(4) == 0)) {
                    sim.crash(p);
                  }
                }
              });
          assertTrue(sim.crashesWhileRecordsWritten() > 0, "no such crash: " + sim.summary());
        });
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void clientEventsSuspensionsAndTerminationsTakeEffectExactlyOnce(long seed) {
    withSeed(seed, app(), sim -> simulateClients(sim, seed));
  }

  /**
   * Ended instances leave memory after each checkpoint (none stay in memory here); the requests
   * that tell an ended instance from none read it back from the store, under crashes, hand-offs and
   * lossy delivery, and recovery replays them against the same records: a raised event and a
   * terminate are refused as for an ended instance, a start that refuses to replace a completed
   * instance is refused, and a purge removes the instance for good.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void requestsForEndedInstancesOutOfMemoryReadThemBack(long seed) {
    withSeed(seed, app(), sim -> simulateEnded(sim, seed));
  }

  /**
   * The same run with a memory budget of 0: after each checkpoint every idle instance leaves memory
   * (those that wait for sub-orchestrations, events or timers). The messages, events and timers for
   * them are parked and delivered once they are read back, in the order they came, live and in
   * recovery's replay.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void idleInstancesOutOfMemoryGetTheirInputInOrder(long seed) {
    withSeed(
        seed,
        app(),
        sim -> {
          sim.recordBudget(0);
          simulate(sim, seed, () -> {});
          assertIdleRecordsLeftMemory(sim, seed);
        });
  }

  /** Client events, suspensions and terminations for idle instances out of memory. */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void clientRequestsForIdleInstancesOutOfMemoryTakeEffectExactlyOnce(long seed) {
    withSeed(
        seed,
        app(),
        sim -> {
          sim.recordBudget(0);
          simulateClients(sim, seed);
          assertIdleRecordsLeftMemory(sim, seed);
        });
  }

  static void assertIdleRecordsLeftMemory(SimulatedPartitions sim, long seed) {
    if (MODE != PersistenceMode.PERSIST_FIRST) {
      // In persist-first mode idle records stay (see PartitionHost#evict).
      assertTrue(sim.recordsEvicted() > 0, "no idle record left memory: " + sim.storageSummary());
      assertTrue(sim.recordLoads() > 0, "no record was read back: " + sim.storageSummary());
    }
    System.out.printf("seed %d (idle records out of memory): %s%n", seed, sim.storageSummary());
  }

  private void simulateEnded(SimulatedPartitions sim, long seed) {
    Random random = new Random(seed ^ 0x2545F491L);
    sim.faults(DROP_RATE, DUPLICATE_RATE).residentEndedInstances(0);
    sim.cacheCapacity(64); // restarts every partition, so that no ended instance stays in memory
    List<String> ids = new ArrayList<>();
    for (int k = 0; k < 12; k++) {
      String id = "e" + k + "!" + (k % PARTITIONS);
      ids.add(id);
      sim.start(id, "Parent", "in" + k);
    }
    chaos(sim, random, () -> ids.stream().allMatch(sim::hasEnded), () -> {});
    sim.faults(0, 0);
    sim.settle(200_000);
    sim.faults(DROP_RATE, DUPLICATE_RATE);

    Map<String, String> raises = new TreeMap<>();
    Map<String, String> terminates = new TreeMap<>();
    ids.forEach(id -> raises.put(id, sim.raiseEvent(id, "late", "x")));
    ids.forEach(id -> terminates.put(id, sim.submit(new ClientRequest.Terminate(id, "too late"))));
    chaos(sim, random, () -> answered(sim, raises) && answered(sim, terminates), () -> {});
    Map<String, String> starts = new TreeMap<>();
    for (String id : ids) {
      ClientRequest.StartOrchestration again = sim.startRequest(id, "Parent", "again", null);
      starts.put(
          id,
          sim.submit(
              new ClientRequest.StartOrchestration(
                  id,
                  again.orchestrationName(),
                  again.input(),
                  null,
                  java.util.EnumSet.of(RuntimeStatus.COMPLETED))));
    }
    chaos(sim, random, () -> answered(sim, starts), () -> {});
    Map<String, String> purges = new TreeMap<>();
    ids.forEach(id -> purges.put(id, sim.submit(new ClientRequest.Purge(id))));
    chaos(sim, random, () -> answered(sim, purges), () -> {});
    sim.faults(0, 0);
    sim.settle(200_000);
    assertTrue(sim.quiescent(), () -> "not quiescent after settling: " + sim.summary());

    for (String id : ids) {
      assertRejected(sim.response(raises.get(id)), ClientResponse.Reason.INVALID_STATE, id);
      // Terminating an ended instance is accepted and changes nothing; one unknown would be
      // refused.
      assertEquals(new ClientResponse.Accepted(), sim.response(terminates.get(id)), id);
      assertRejected(sim.response(starts.get(id)), ClientResponse.Reason.ALREADY_EXISTS, id);
      assertEquals(new ClientResponse.Purged(true), sim.response(purges.get(id)), id);
      assertEquals(null, sim.status(id), id + " was purged");
      int p = PLACEMENT.partitionOf(id);
      InstanceView child = sim.status(firstChild(id, p));
      assertEquals(RuntimeStatus.COMPLETED, child.status(), "the child of " + id + " stays");
    }
    for (int p = 0; p < PARTITIONS; p++) {
      PartitionState rebuilt = sim.rebuild(p, sim.durableLog(p));
      for (String id : ids) {
        if (PLACEMENT.partitionOf(id) == p) {
          assertEquals(null, rebuilt.instance(id), id + " is purged in the log");
        }
      }
    }
    assertTrue(sim.recordLoads() > 0, "no ended instance was read back: " + sim.storageSummary());
    System.out.printf("seed %d (ended out of memory): %s%n", seed, sim.storageSummary());
  }

  /**
   * Purge sweeps run inside the partitions (batches of 2, every ended instance out of memory) while
   * partitions crash, hand off, fail writes and checkpoints, and requests and replies are lost or
   * duplicated: a client that follows each sweep to its end removes exactly the ended instances its
   * filter takes, each batch is one logged event, and replaying the logs gives the same state.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void purgeSweepsRemoveExactlyTheEndedInstancesTheirFilterTakes(long seed) {
    withSeed(seed, app(), sim -> simulateSweeps(sim, seed));
  }

  private void simulateSweeps(SimulatedPartitions sim, long seed) {
    Random random = new Random(seed ^ 0x1F2E3D4CL);
    // cacheCapacity restarts every partition, so that the batch size applies.
    sim.faults(DROP_RATE, DUPLICATE_RATE).residentEndedInstances(0).purgeBatchSize(2);
    sim.cacheCapacity(64);
    List<String> parents = new ArrayList<>();
    Set<String> purgeable = new TreeSet<>();
    Set<String> kept = new TreeSet<>();
    for (int k = 0; k < 12; k++) {
      String id = (k < 8 ? "e" : "k") + k + "!" + (k % PARTITIONS);
      parents.add(id);
      sim.start(id, "Parent", "in" + k);
      int p = PLACEMENT.partitionOf(id);
      Set<String> family = k < 8 ? purgeable : kept;
      family.addAll(List.of(id, firstChild(id, p), secondChild(id, p)));
    }
    List<String> counters = new ArrayList<>();
    for (int k = 0; k < PARTITIONS; k++) {
      String id = "ew" + k + "!" + k; // matches the filter's prefix, never ends
      counters.add(id);
      sim.start(id, "Counter", "");
    }
    chaos(sim, random, () -> parents.stream().allMatch(sim::hasEnded), () -> {});
    // The state shows speculative steps (global mode) and events not yet durable (local): an end
    // may still be taken back. Settled, every end the state shows is committed.
    sim.faults(0, 0);
    sim.settle(200_000);
    sim.faults(DROP_RATE, DUPLICATE_RATE);

    PurgeFilter filter =
        new PurgeFilter(PurgeFilter.endedStatuses(Set.of()), null, null, "e", null);
    Map<Integer, String> asked = new TreeMap<>();
    Set<Integer> done = new TreeSet<>();
    int[] purged = {0};
    for (int p = 0; p < PARTITIONS; p++) {
      asked.put(p, sim.purgeSweep(p, filter, null));
    }
    chaos(
        sim,
        random,
        () -> done.size() == PARTITIONS,
        () -> {
          for (Map.Entry<Integer, String> e : asked.entrySet()) {
            ClientResponse r = sim.response(e.getValue());
            if (done.contains(e.getKey()) || r == null) {
              continue;
            }
            ClientResponse.PurgeProgress progress =
                assertInstanceOf(ClientResponse.PurgeProgress.class, r);
            purged[0] += progress.purged();
            if (progress.resumeAfter() == null) {
              done.add(e.getKey());
            } else {
              e.setValue(sim.purgeSweep(e.getKey(), filter, progress.resumeAfter()));
            }
          }
        });
    sim.faults(0, 0);
    sim.settle(200_000);
    assertTrue(sim.quiescent(), () -> "not quiescent after settling: " + sim.summary());

    for (String id : purgeable) {
      assertEquals(null, sim.status(id), id + " was purged");
    }
    for (String id : kept) {
      assertEquals(RuntimeStatus.COMPLETED, sim.status(id).status(), id + " does not match");
    }
    for (String id : counters) {
      assertEquals(RuntimeStatus.RUNNING, sim.status(id).status(), id + " has not ended");
    }
    // Answers lost with a crashed host are counted by no one: the sum is at most the total.
    assertTrue(purged[0] > 0 && purged[0] <= purgeable.size(), "purged " + purged[0]);

    Set<String> inLogs = new TreeSet<>();
    for (int p = 0; p < PARTITIONS; p++) {
      for (PartitionEvent e : sim.durableLog(p)) {
        if (e instanceof PartitionEvent.InstancesPurged batch) {
          assertTrue(batch.instanceIds().size() <= 2, "a batch of " + batch.instanceIds());
          inLogs.addAll(batch.instanceIds());
        }
      }
      PartitionState rebuilt = sim.rebuild(p, sim.durableLog(p));
      for (String id : purgeable) {
        if (PLACEMENT.partitionOf(id) == p) {
          assertEquals(null, rebuilt.instance(id), id + " is purged in the log");
        }
      }
      for (String id : kept) {
        if (PLACEMENT.partitionOf(id) == p) {
          assertEquals(sim.status(id).history(), rebuilt.instance(id).history(), id);
        }
      }
    }
    assertEquals(purgeable, inLogs, "the batches named exactly the ended instances that match");
    assertTrue(sim.crashes() > 0, "the seed caused no crash: " + sim.summary());
    System.out.printf(
        "seed %d (purge sweeps): %d purged as answered, %s%n",
        seed, purged[0], sim.storageSummary());
  }

  /**
   * Retention under the same faults: every partition purges the ended instances that ended longer
   * ago than the retention, and nothing else: each instance a logged batch names had ended at least
   * the retention before the batch's time, and instances that have not ended stay.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void retentionPurgesOnlyInstancesThatEndedLongerAgoThanIt(long seed) {
    withSeed(seed, app(), sim -> simulateRetention(sim, seed));
  }

  private void simulateRetention(SimulatedPartitions sim, long seed) {
    Random random = new Random(seed ^ 0x7A5B3C1DL);
    Duration retention = Duration.ofSeconds(20);
    sim.faults(DROP_RATE, DUPLICATE_RATE)
        .residentEndedInstances(0)
        .purgeBatchSize(2)
        .retention(retention, Duration.ofMillis(500));
    sim.cacheCapacity(64);
    Set<String> ending = new TreeSet<>();
    Map<String, String> starts = new TreeMap<>();
    for (int k = 0; k < 8; k++) {
      String id = "r" + k + "!" + (k % PARTITIONS);
      starts.put(id, sim.start(id, "Parent", "in" + k));
      int p = PLACEMENT.partitionOf(id);
      ending.addAll(List.of(id, firstChild(id, p), secondChild(id, p)));
    }
    List<String> counters = new ArrayList<>();
    for (int k = 0; k < PARTITIONS; k++) {
      String id = "w" + k + "!" + k;
      counters.add(id);
      sim.start(id, "Counter", "");
    }
    // Until every instance that ends has been purged, durably: that takes the retention's time at
    // least.
    chaos(
        sim,
        random,
        () ->
            sim.allDurable()
                && starts.values().stream().allMatch(r -> sim.response(r) != null)
                && ending.stream().allMatch(id -> sim.status(id) == null),
        () -> {});
    sim.faults(0, 0);
    sim.settle(200_000);
    assertTrue(sim.quiescent(), () -> "not quiescent after settling: " + sim.summary());
    for (String id : counters) {
      assertEquals(RuntimeStatus.RUNNING, sim.status(id).status(), id + " has not ended");
    }

    Set<String> purged = new TreeSet<>();
    for (int p = 0; p < PARTITIONS; p++) {
      PartitionState replayed = new PartitionState(p, PARTITIONS, 1000);
      for (PartitionEvent e : sim.durableLog(p)) {
        if (e instanceof PartitionEvent.InstancesPurged batch) {
          for (String id : batch.instanceIds()) {
            InstanceView v =
                ((ClientResponse.Status) replayed.query(new ClientQuery.GetStatus(id, false)))
                    .view();
            assertNotNull(v, id + " purged, but did not exist");
            assertTrue(v.status().isTerminal(), id + " purged, but " + v.status());
            assertTrue(
                !v.lastUpdatedAt().plus(retention).isAfter(batch.timestamp()),
                id + " ended at " + v.lastUpdatedAt() + ", purged at " + batch.timestamp());
            purged.add(id);
          }
        }
        replayed.apply(e);
      }
    }
    assertEquals(ending, purged, "retention purged exactly the instances that ended");
    assertTrue(sim.crashes() > 0, "the seed caused no crash: " + sim.summary());
    System.out.printf(
        "seed %d (retention): %d purged, now %s, %s%n",
        seed, purged.size(), sim.now(), sim.storageSummary());
  }

  private static boolean answered(SimulatedPartitions sim, Map<String, String> requests) {
    return requests.values().stream().allMatch(r -> sim.response(r) != null);
  }

  private static void assertRejected(
      ClientResponse response, ClientResponse.Reason reason, String id) {
    assertInstanceOf(ClientResponse.Rejected.class, response, id);
    assertEquals(reason, ((ClientResponse.Rejected) response).reason(), id + ": " + response);
  }

  /**
   * Runs {@code body} on a fresh simulation of {@code app}; a failure names the seed and how to
   * rerun it.
   */
  static void withSeed(
      long seed, Workflows app, java.util.function.Consumer<SimulatedPartitions> body) {
    try (SimulatedPartitions sim =
        new SimulatedPartitions(PARTITIONS, app, seed)
            // Small batches, early backpressure, a linger and frequent checkpoints, so that every
            // path of the host's commit log runs under the faults.
            .commitLog(MODE, 5, 40, Duration.ofMillis(2), 25)) {
      try {
        body.accept(sim);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(
            "simulation failed with seed "
                + seed
                + " (rerun: -Dnetherite.sim.seed="
                + seed
                + "): "
                + e.getMessage()
                + "\n"
                + sim.summary(),
            e);
      }
    }
  }

  private void simulate(SimulatedPartitions sim, long seed, Runnable extraFaults) {
    Random random = new Random(seed ^ 0x5DEECE66DL);
    sim.faults(DROP_RATE, DUPLICATE_RATE).cacheCapacity(6).maxMessagesPerDelivery(3);

    Map<String, String> inputs = new TreeMap<>();
    Map<String, String> startRequests = new HashMap<>();
    for (int k = 0; k < ORCHESTRATIONS; k++) {
      String id = "o" + k + "!" + (k % PARTITIONS);
      String input = "in" + k + "-" + Long.toString(random.nextLong() & 0xffff, 36);
      inputs.put(id, input);
      startRequests.put(id, sim.start(id, "Parent", input));
    }
    Set<String> children = new TreeSet<>();
    for (String id : inputs.keySet()) {
      int p = PLACEMENT.partitionOf(id);
      children.add(firstChild(id, p));
      children.add(secondChild(id, p));
    }

    // Chaos until every parent's end was made visible (after durability).
    chaos(
        sim, random, () -> inputs.keySet().stream().allMatch(id -> sim.hasEnded(id)), extraFaults);

    // Calm: no more faults; everything in flight settles and every outbox drains.
    sim.faults(0, 0);
    sim.settle(200_000);
    assertTrue(sim.quiescent(), () -> "not quiescent after settling: " + sim.summary());

    for (Map.Entry<String, String> e : inputs.entrySet()) {
      String id = e.getKey();
      InstanceView v = sim.status(id);
      assertEquals(RuntimeStatus.COMPLETED, v.status(), id + ": " + v);
      assertEquals(
          expectedOutput(e.getValue()), sim.converter().deserialize(v.output(), String.class), id);
      assertAtMostOnce(sim, id, id + " ended more than once");
      assertEquals(new ClientResponse.Started(id), sim.response(startRequests.get(id)), id);
      for (ClientResponse r : sim.responses(startRequests.get(id))) {
        assertEquals(
            new ClientResponse.Started(id), r, "every answer to a retried start is the same");
      }
      assertEquals(
          2,
          v.history().stream()
              .filter(h -> h instanceof HistoryEvent.EventRaised r && r.name().equals("child-done"))
              .count(),
          id + " must receive each child's event exactly once");
      assertEachTaskScheduledAndCompletedOnce(id, v.history());
    }
    for (String child : children) {
      InstanceView v = sim.status(child);
      assertNotNull(v, child + " was never created");
      assertEquals(RuntimeStatus.COMPLETED, v.status(), child + ": " + v);
      assertAtMostOnce(sim, child, child + " ended more than once");
      assertEachTaskScheduledAndCompletedOnce(child, v.history());
    }

    // Exactly one execution of every instance in the durable logs: no sub-orchestration was created
    // twice.
    Map<String, Integer> expectedCreations = new TreeMap<>();
    inputs.keySet().forEach(id -> expectedCreations.put(id, 1));
    children.forEach(id -> expectedCreations.put(id, 1));
    assertEquals(expectedCreations, sim.creationsInDurableLogs());
    assertTrue(expectedCreations.keySet().containsAll(sim.endedCount().keySet()));

    // Recovery is replay: each partition rebuilt from its durable log equals the live one.
    for (int p = 0; p < PARTITIONS; p++) {
      // (Ended instances may have left memory: the live side reads them from the store.)
      PartitionState live = sim.state(p);
      PartitionState rebuilt = sim.rebuild(p, sim.durableLog(p));
      assertEquals(live.dedup().positions(), rebuilt.dedup().positions(), "partition " + p);
      for (String id : expectedCreations.keySet()) {
        if (PLACEMENT.partitionOf(id) == p) {
          InstanceView current = sim.status(id);
          assertEquals(rebuilt.instance(id).status(), current.status(), id);
          assertEquals(rebuilt.instance(id).history(), current.history(), id);
        }
      }
    }

    assertTrue(
        sim.crashes() > 0 && sim.dropped() > 0 && sim.duplicated() > 0,
        "the seed caused no faults: " + sim.summary());
    System.out.printf(
        "seed %d: %d orchestrations, %d actions, %d steps, %d loads, %d crashes, %d dropped, %d duplicated,"
            + " %d Upper runs, %d Reverse runs (%d each without crashes), %s%n",
        seed,
        ORCHESTRATIONS,
        sim.actions(),
        sim.stepsRun(),
        sim.loads(),
        sim.crashes(),
        sim.dropped(),
        sim.duplicated(),
        sim.activityRuns("Upper"),
        sim.activityRuns("Reverse"),
        3 * ORCHESTRATIONS,
        sim.storageSummary());
  }

  /**
   * The end of an instance was announced to waiting clients at most once. It can be never: when the
   * write that ended it was stored but its acknowledgement lost in a crash, no notice goes out, and
   * a waiting client learns the end from the status it asks for again.
   */
  static void assertAtMostOnce(SimulatedPartitions sim, String instanceId, String message) {
    assertTrue(sim.endedCount().getOrDefault(instanceId, 0) <= 1, message);
    assertTrue(sim.status(instanceId).status().isTerminal(), instanceId + " has not ended");
  }

  /**
   * Runs pending work in random order, crashing partitions and moving the clock at random, until
   * {@code done}. {@code client} runs before each action, to send client requests.
   */
  static void chaos(SimulatedPartitions sim, Random random, BooleanSupplier done, Runnable client) {
    for (long iteration = 0; !done.getAsBoolean(); iteration++) {
      if (sim.actions() > MAX_ACTIONS || iteration > 10 * MAX_ACTIONS) {
        throw new AssertionError(
            "not every orchestration ended within " + MAX_ACTIONS + " actions: " + sim.summary());
      }
      client.run();
      double fault = random.nextDouble();
      if (fault < CRASH_RATE) {
        sim.crash(random.nextInt(PARTITIONS));
      } else if (fault < CRASH_RATE * 1.5) {
        sim.handOff(random.nextInt(PARTITIONS));
      } else if (fault < CRASH_RATE * 2) {
        sim.failNextWrite(random.nextInt(PARTITIONS));
      } else if (fault < CRASH_RATE * 2.25) {
        sim.failNextCheckpoint(random.nextInt(PARTITIONS));
      }
      if (random.nextDouble() < 0.2) {
        sim.advanceClock(Duration.ofMillis(random.nextInt(20)));
      }
      if (!sim.runOnce()) {
        // Idle: wait for the next timer, resend or retry; with none, the clients may still have
        // requests to send.
        Instant next = sim.nextDeadline();
        sim.advanceClock(
            next != null && next.isAfter(sim.now())
                ? Duration.between(sim.now(), next)
                : Duration.ofMillis(10));
      }
    }
  }

  /** One counter: the events a client raises on it, and its suspend / resume cycles. */
  private static final class CounterClient {
    final String id;
    final String startRequest;
    final List<String> raises = new ArrayList<>();
    String suspendRequest;
    String resumeRequest;
    int cycles;

    CounterClient(String id, String startRequest) {
      this.id = id;
      this.startRequest = startRequest;
    }
  }

  /**
   * Counters that continue as new every {@link #COUNTER_BATCH} events, fed {@link #COUNTER_EVENTS}
   * events each by clients through the lossy network, and suspended and resumed at random;
   * meanwhile a few parents are terminated at random. Every accepted event must be counted once,
   * and every instance must end once.
   */
  private void simulateClients(SimulatedPartitions sim, long seed) {
    Random random = new Random(seed * 31 + 17);
    sim.faults(DROP_RATE, DUPLICATE_RATE).cacheCapacity(6).maxMessagesPerDelivery(3);

    List<CounterClient> counters = new ArrayList<>();
    for (int k = 0; k < COUNTERS; k++) {
      String id = "n" + k + "!" + (k % PARTITIONS);
      counters.add(new CounterClient(id, sim.start(id, "Counter", "")));
    }
    Map<String, String> victims = new TreeMap<>();
    Map<String, String> terminations = new TreeMap<>();
    for (int k = 0; k < VICTIMS; k++) {
      String id = "v" + k + "!" + (k % PARTITIONS);
      victims.put(id, sim.start(id, "Parent", "victim" + k));
    }

    Runnable client =
        () -> {
          if (random.nextDouble() < 0.05) {
            CounterClient c = counters.get(random.nextInt(counters.size()));
            if (sim.response(c.startRequest) != null && c.raises.size() < COUNTER_EVENTS) {
              c.raises.add(sim.raiseEvent(c.id, "inc", "e" + c.raises.size()));
            }
          }
          if (random.nextDouble() < 0.01) {
            CounterClient c = counters.get(random.nextInt(counters.size()));
            if (sim.response(c.startRequest) != null && c.suspendRequest == null && c.cycles < 3) {
              c.suspendRequest = sim.submit(new ClientRequest.Suspend(c.id, "pause"));
            }
          }
          for (CounterClient c : counters) {
            // Resume only once the suspension took effect: requests may overtake each other on the
            // network.
            if (c.suspendRequest != null
                && c.resumeRequest == null
                && sim.response(c.suspendRequest) != null) {
              c.resumeRequest = sim.submit(new ClientRequest.Resume(c.id, "go on"));
            }
            if (c.resumeRequest != null && sim.response(c.resumeRequest) != null) {
              c.suspendRequest = null;
              c.resumeRequest = null;
              c.cycles++;
            }
          }
          if (random.nextDouble() < 0.05) {
            String victim =
                victims.keySet().stream().skip(random.nextInt(VICTIMS)).findFirst().orElseThrow();
            if (sim.response(victims.get(victim)) != null && !terminations.containsKey(victim)) {
              terminations.put(victim, sim.submit(new ClientRequest.Terminate(victim, "chaos")));
            }
          }
        };
    // The clients go on until every suspension they asked for is resumed (or refused): an end seen
    // in a partition's live state may not be durable yet, and a crash can take it back, leaving a
    // counter that the client suspended afterwards to wait for its resume.
    chaos(
        sim,
        random,
        () ->
            counters.stream().allMatch(c -> sim.hasEnded(c.id) && c.suspendRequest == null)
                && victims.keySet().stream().allMatch(id -> sim.hasEnded(id)),
        client);

    sim.faults(0, 0);
    sim.settle(200_000);
    assertTrue(sim.quiescent(), () -> "not quiescent after settling: " + sim.summary());

    Map<String, Integer> creations = sim.creationsInDurableLogs();
    for (CounterClient c : counters) {
      InstanceView v = sim.status(c.id);
      assertEquals(RuntimeStatus.COMPLETED, v.status(), c.id + ": " + v);
      assertAtMostOnce(sim, c.id, c.id + " ended more than once");
      List<String> counted =
          new ArrayList<>(
              List.of(sim.converter().deserialize(v.output(), String.class).split(",")));
      counted.sort(null);
      List<String> expected = new ArrayList<>();
      for (int k = 0; k < COUNTER_EVENTS; k++) {
        expected.add("e" + k);
      }
      expected.sort(null);
      assertEquals(expected, counted, c.id + ": every accepted event is counted exactly once");
      for (String r : c.raises) {
        assertEquals(new ClientResponse.Accepted(), sim.response(r), c.id + " raise " + r);
      }
      assertEquals(
          (COUNTER_EVENTS - 1) / COUNTER_BATCH + 1,
          creations.get(c.id),
          c.id + ": one execution per batch, each created once");
      assertEachTaskScheduledAndCompletedOnce(c.id, v.history());
    }
    for (String id : victims.keySet()) {
      InstanceView v = sim.status(id);
      assertAtMostOnce(sim, id, id + " ended more than once");
      assertEquals(1, creations.get(id), id);
      if (v.status() == RuntimeStatus.TERMINATED) {
        assertTrue(terminations.containsKey(id), id + " terminated without a request");
      } else {
        assertEquals(RuntimeStatus.COMPLETED, v.status(), id + ": " + v);
        assertEquals(
            expectedOutput("victim" + id.substring(1, id.indexOf('!'))),
            sim.converter().deserialize(v.output(), String.class));
      }
      int p = PLACEMENT.partitionOf(id);
      for (String child : List.of(firstChild(id, p), secondChild(id, p))) {
        InstanceView cv = sim.status(child);
        if (cv != null) {
          assertEquals(1, creations.get(child), child + " created more than once");
          assertEquals(RuntimeStatus.COMPLETED, cv.status(), child + ": " + cv);
          assertAtMostOnce(sim, child, child);
        }
      }
    }
    for (Map.Entry<String, String> t : terminations.entrySet()) {
      assertEquals(new ClientResponse.Accepted(), sim.response(t.getValue()), t.getKey());
    }
    System.out.printf(
        "seed %d (clients): %d actions, %d crashes, %d dropped, %d duplicated, %d suspensions, %d terminated of %d%n",
        seed,
        sim.actions(),
        sim.crashes(),
        sim.dropped(),
        sim.duplicated(),
        counters.stream().mapToInt(c -> c.cycles).sum(),
        victims.keySet().stream()
            .filter(id -> sim.status(id).status() == RuntimeStatus.TERMINATED)
            .count(),
        VICTIMS);
  }

  /**
   * Every action of the history has one task id of its own, and at most one completion refers to
   * it.
   */
  private static void assertEachTaskScheduledAndCompletedOnce(
      String id, List<HistoryEvent> history) {
    Map<Integer, Integer> scheduled = new TreeMap<>();
    Map<Integer, Integer> completed = new TreeMap<>();
    for (HistoryEvent e : history) {
      switch (e) {
        case HistoryEvent.TaskScheduled t -> scheduled.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.TimerCreated t -> scheduled.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.SubOrchestrationCreated t -> scheduled.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.EventSent t -> scheduled.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.TaskCompleted t -> completed.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.TaskFailed t -> completed.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.TimerFired t -> completed.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.SubOrchestrationCompleted t ->
            completed.merge(t.taskId(), 1, Integer::sum);
        case HistoryEvent.SubOrchestrationFailed t -> completed.merge(t.taskId(), 1, Integer::sum);
        default -> {}
      }
    }
    scheduled.forEach(
        (task, n) -> assertEquals(1, n, id + ": task " + task + " scheduled " + n + " times"));
    completed.forEach(
        (task, n) -> {
          assertEquals(1, n, id + ": task " + task + " completed " + n + " times");
          assertTrue(
              scheduled.containsKey(task),
              id + ": task " + task + " completed but never scheduled");
        });
    assertInstanceOf(HistoryEvent.ExecutionCompleted.class, history.get(history.size() - 1), id);
  }
}
