package dev.netherite.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.netherite.cassandra.TestCassandra;
import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import dev.netherite.management.ManagementTestKit.Api;
import dev.netherite.runtime.DeliveryFaults;
import dev.netherite.runtime.DurableRuntime;
import dev.netherite.runtime.internal.PartitionCommand;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The metrics of the engine's work beyond storage (steps, activities and their queue, checkpoints,
 * resends, dedup drops, recoveries) move for real workloads on the test Cassandra, and /ready
 * answers not ready while a partition of the node has not recovered, then ready.
 */
@Timeout(240)
class OperationsMetricsTest {
  static final ActivityRef<Integer, Integer> NAP =
      ActivityRef.of("Nap", Integer.class, Integer.class);

  /** Runs {@code n} naps of 150 ms at once. */
  static final OrchestrationRef<Integer, Integer> NAPS =
      OrchestrationRef.of("Naps", Integer.class, Integer.class);

  /** Adds 1 to the counter named by its input (on another partition) and reads it back. */
  static final OrchestrationRef<String, Integer> BUMP =
      OrchestrationRef.of("Bump", String.class, Integer.class);

  /** Duplicate every delivery between partitions while set. */
  static volatile boolean duplicateDeliveries;

  /** Drop the next delivery between partitions. */
  static final AtomicBoolean dropNextDelivery = new AtomicBoolean();

  private static DurableRuntime runtime;
  private static NetheriteManagement management;
  private static Api api;

  static Workflows app() {
    return Workflows.builder()
        .activity(ManagementTestKit.SAY_HELLO, (ctx, city) -> "Hello " + city + "!")
        .activity(
            NAP,
            (ctx, millis) -> {
              Thread.sleep(millis);
              return millis;
            })
        .orchestration(
            ManagementTestKit.HELLO5,
            (ctx, input) -> {
              List<String> out = new ArrayList<>();
              for (String city : List.of("Tokyo", "Seattle", "London", "Amsterdam", "Mumbai")) {
                out.add(ctx.call(ManagementTestKit.SAY_HELLO, city).await());
              }
              return out;
            })
        .orchestration(
            NAPS,
            (ctx, n) -> {
              List<Task<Integer>> naps = new ArrayList<>();
              for (int i = 0; i < n; i++) {
                naps.add(ctx.call(NAP, 150));
              }
              Task.allOf(naps).await();
              return n;
            })
        .orchestration(
            BUMP,
            (ctx, key) -> {
              EntityId counter = ManagementTestKit.COUNTER.id(key);
              ctx.callEntity(counter, ManagementTestKit.ADD, 1).await();
              return ctx.callEntity(counter, ManagementTestKit.GET).await();
            })
        .entity(ManagementTestKit.COUNTER)
        .build();
  }

  private static DeliveryFaults faults() {
    return message -> {
      if (!(message instanceof PartitionCommand.Deliver)) {
        return DeliveryFaults.Fate.DELIVER;
      }
      if (dropNextDelivery.getAndSet(false)) {
        return DeliveryFaults.Fate.DROP;
      }
      return duplicateDeliveries ? DeliveryFaults.Fate.DUPLICATE : DeliveryFaults.Fate.DELIVER;
    };
  }

  private static DurableRuntime start(String taskHub, int port) {
    return start(taskHub, port, Map.of());
  }

  private static DurableRuntime start(String taskHub, int port, Map<String, Object> more) {
    Map<String, Object> settings = new java.util.HashMap<>(more);
    settings.put("netherite.management.enabled", "on");
    settings.put("netherite.management.port", port);
    // Small enough that the workloads below take checkpoints.
    settings.put("netherite.checkpoint.after-events", 10);
    // Two slots, so that a fan-out of naps queues.
    settings.put("netherite.activities.max-concurrent", 2);
    settings.put("netherite.delivery.resend-after", "500ms");
    return DurableRuntime.start(
        app(),
        ManagementTestKit.config(taskHub, settings),
        DurableRuntime.Options.defaults().withDeliveryFaults(faults()));
  }

  @BeforeAll
  static void startRuntime() {
    runtime = start("mgmt-ops", 18504);
    management = NetheriteManagement.startIfEnabled(runtime).orElseThrow();
    api = new Api(management.uri(), null);
  }

  @AfterAll
  static void stop() {
    if (management != null) {
      management.close();
    }
    if (runtime != null) {
      runtime.close();
    }
  }

  private static PrometheusText scrape(Api from) {
    return PrometheusText.parse(from.get("/metrics").expect(200).body());
  }

  /** The sum of every sample named {@code name} whose labels include {@code labels}. */
  private static double total(PrometheusText m, String name, Map<String, String> labels) {
    return m.samples.stream()
        .filter(s -> s.name().equals(name))
        .filter(s -> s.labels().entrySet().containsAll(labels.entrySet()))
        .mapToDouble(PrometheusText.Sample::value)
        .sum();
  }

  private static double total(PrometheusText m, String name) {
    return total(m, name, Map.of());
  }

  private static void assertMoved(PrometheusText before, PrometheusText after, String name) {
    assertMoved(before, after, name, Map.of());
  }

  private static void assertMoved(
      PrometheusText before, PrometheusText after, String name, Map<String, String> labels) {
    double was = total(before, name, labels);
    double is = total(after, name, labels);
    assertTrue(is > was, name + labels + " did not move: " + was + " -> " + is);
  }

  private static void complete(DurableRuntime on, InstanceId id) {
    assertEquals(
        RuntimeStatus.COMPLETED,
        on.client().waitForCompletion(id, Duration.ofSeconds(60)).runtimeStatus());
  }

  @Test
  void stepsActivitiesTheirQueueAndCheckpointsAreMeasured() throws InterruptedException {
    PrometheusText before = scrape(api);
    assertEquals("histogram", before.types.get("netherite_step_latency_seconds"));
    assertEquals("histogram", before.types.get("netherite_activity_latency_seconds"));
    assertEquals("gauge", before.types.get("netherite_activities_queued"));

    complete(runtime, runtime.client().start(ManagementTestKit.HELLO5, null));
    // Eight naps of 150 ms on two slots: six wait while the first run.
    InstanceId naps = runtime.client().start(NAPS, 8);
    double mostQueued = 0;
    double mostRunning = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline
        && runtime.client().getStatus(naps, false).orElseThrow().runtimeStatus()
            != RuntimeStatus.COMPLETED) {
      PrometheusText now = scrape(api);
      mostQueued = Math.max(mostQueued, total(now, "netherite_activities_queued"));
      mostRunning = Math.max(mostRunning, total(now, "netherite_activities_running"));
      Thread.sleep(20);
    }
    complete(runtime, naps);
    assertTrue(mostQueued >= 1, "no activity was ever seen queued: " + mostQueued);
    assertTrue(mostRunning >= 1 && mostRunning <= 2, "activities running: " + mostRunning);

    PrometheusText after = scrape(api);
    assertEquals(0, total(after, "netherite_activities_queued"));
    assertEquals(0, total(after, "netherite_activities_running"));
    // Hello5 takes 6 steps, Naps 2 or more; 5 + 8 activities.
    assertTrue(
        total(after, "netherite_step_latency_seconds_count")
                - total(before, "netherite_step_latency_seconds_count")
            >= 8,
        "steps counted: " + total(after, "netherite_step_latency_seconds_count"));
    assertTrue(
        total(after, "netherite_activity_latency_seconds_count")
                - total(before, "netherite_activity_latency_seconds_count")
            >= 13);
    assertMoved(before, after, "netherite_step_latency_seconds_sum");
    // A queued nap waits for a slot: 150 ms at least, so the sum grows by well over 8 x 150 ms.
    assertTrue(
        total(after, "netherite_activity_latency_seconds_sum")
                - total(before, "netherite_activity_latency_seconds_sum")
            >= 8 * 0.15);
    // Checkpoints are taken every 10 events (and when idle): the work above took several. A
    // checkpoint is stored after the write that made it due, and is measured when it is stored,
    // which may come after the instance's completion is answered.
    long stored = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < stored
        && total(after, "netherite_checkpoint_duration_seconds_count")
            <= total(before, "netherite_checkpoint_duration_seconds_count")) {
      Thread.sleep(50);
      after = scrape(api);
    }
    assertMoved(before, after, "netherite_checkpoint_duration_seconds_count");
    assertMoved(before, after, "netherite_checkpoint_duration_seconds_sum");
    assertMoved(before, after, "netherite_checkpoints_total");
  }

  @Test
  void resendsAndDedupDropsAreCountedPerPartition() {
    PrometheusText before = scrape(api);
    // The orchestration runs on partition 0 and calls an entity on partition 1.
    duplicateDeliveries = true;
    try {
      InstanceId id =
          runtime
              .client()
              .start(BUMP, "d!1", StartOptions.defaults().instanceId(InstanceId.of("bump-d!0")));
      complete(runtime, id);
    } finally {
      duplicateDeliveries = false;
    }
    PrometheusText duplicated = scrape(api);
    // Partition 1 got each operation twice, partition 0 each response twice.
    assertMoved(
        before,
        duplicated,
        "netherite_dedup_dropped_messages_total",
        Map.of("partition", "1", "reason", "duplicate"));
    assertMoved(
        before,
        duplicated,
        "netherite_dedup_dropped_messages_total",
        Map.of("partition", "0", "reason", "duplicate"));

    dropNextDelivery.set(true);
    InstanceId id =
        runtime
            .client()
            .start(BUMP, "r!1", StartOptions.defaults().instanceId(InstanceId.of("bump-r!0")));
    complete(runtime, id);
    assertFalse(dropNextDelivery.get(), "no delivery was dropped");
    PrometheusText resent = scrape(api);
    // The dropped call to partition 1 was sent again by partition 0 after resend-after.
    assertMoved(duplicated, resent, "netherite_resent_messages_total", Map.of("partition", "0"));
  }

  @Test
  void readyWaitsForEveryPartitionToRecoverAndRecoveriesAreCounted() throws Exception {
    String taskHub = "mgmt-ready";
    DurableRuntime first = start(taskHub, 18505);
    String fullHub = first.settings().taskHub();
    String keyspace =
        first
            .system()
            .settings()
            .config()
            .getString("pekko.persistence.cassandra.journal.keyspace");
    NetheriteManagement firstManagement = NetheriteManagement.startIfEnabled(first).orElseThrow();
    Api firstApi = new Api(firstManagement.uri(), null);
    PrometheusText before;
    try {
      awaitStatus(firstApi, "/ready", 200);
      complete(first, first.client().start(ManagementTestKit.HELLO5, null));
      before = scrape(firstApi);
    } finally {
      firstManagement.close();
      first.close();
    }

    // Another holder has the lease of partition 2 for 25 s: this node's partition 2 waits until it
    // lapses before it recovers.
    String[] hostPort = TestCassandra.contactPoint().split(":");
    try (CqlSession cql =
        CqlSession.builder()
            .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
            .withLocalDatacenter("datacenter1")
            .build()) {
      cql.execute(
          "INSERT INTO "
              + keyspace
              + ".partition_leases (task_hub, partition, owner) VALUES ('"
              + fullHub
              + "', 2, 'a-node-that-is-gone/test') USING TTL 25");
    }

    // A client gives up on an unavailable partition after 2 s (30 s by default).
    DurableRuntime second =
        start(
            taskHub,
            18506,
            Map.of(
                "netherite.client.attempt-timeout",
                "1s",
                "netherite.client.request-timeout",
                "2s"));
    NetheriteManagement secondManagement = NetheriteManagement.startIfEnabled(second).orElseThrow();
    Api secondApi = new Api(secondManagement.uri(), null);
    try {
      // Right after the start, Cluster Sharding may not have placed the partitions yet (a node that
      // hosts none is ready once Up): wait until partition 2 is placed here, still waiting.
      JsonNode partition2 = null;
      long placed = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < placed) {
        JsonNode partitions = secondApi.get("/api/partitions").expect(200).json();
        partition2 = partitions.get("partitions").get(2);
        if (partitions.get("self").asText().equals(partition2.get("node").asText())) {
          break;
        }
        Thread.sleep(100);
      }
      assertEquals("unavailable", partition2.get("state").asText(), partition2.toString());
      ManagementTestKit.Reply notReady = secondApi.get("/ready");
      // Pekko Management answers a failed readiness check with 500 "Not Healthy".
      assertEquals(500, notReady.status(), notReady.body());
      secondApi.get("/alive").expect(200);
      // A request for an instance of that partition is answered 503, with the reason.
      ManagementTestKit.Reply unavailable = secondApi.get("/api/instances/probe!2");
      assertTrue(
          unavailable.error(503).contains("The partition is unavailable"), unavailable.body());

      awaitStatus(secondApi, "/ready", 200);
      PrometheusText after = scrape(secondApi);
      assertEquals("summary", after.types.get("netherite_recovery_duration_seconds"));
      // Each of the four partitions recovered once more, partition 2 after waiting for its lease.
      for (int p = 0; p < 4; p++) {
        Map<String, String> partition = Map.of("partition", "" + p);
        assertTrue(
            total(after, "netherite_recovery_duration_seconds_count", partition)
                >= total(before, "netherite_recovery_duration_seconds_count", partition) + 1,
            "recoveries of partition " + p);
      }
      double waited =
          total(after, "netherite_recovery_duration_seconds_sum", Map.of("partition", "2"))
              - total(before, "netherite_recovery_duration_seconds_sum", Map.of("partition", "2"));
      assertTrue(waited >= 3, "partition 2 recovered in " + waited + " s, behind a 25 s lease");
      assertEquals(
          1, total(after, "netherite_partition_up", Map.of("partition", "2")), "partition 2 is up");
    } finally {
      secondManagement.close();
      second.close();
    }
  }

  private static void awaitStatus(Api on, String path, int status) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    ManagementTestKit.Reply last = on.get(path);
    while (last.status() != status && System.nanoTime() < deadline) {
      Thread.sleep(200);
      last = on.get(path);
    }
    assertEquals(status, last.status(), path + ": " + last.body());
  }
}
