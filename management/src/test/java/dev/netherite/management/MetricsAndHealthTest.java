package dev.netherite.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.management.ManagementTestKit.Api;
import dev.netherite.management.ManagementTestKit.Reply;
import dev.netherite.runtime.DurableRuntime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The health checks, the cluster endpoints and the Prometheus metrics of the management port. */
@Timeout(180)
class MetricsAndHealthTest {
  private static DurableRuntime runtime;
  private static NetheriteManagement management;
  private static Api api;

  @BeforeAll
  static void start() {
    runtime =
        DurableRuntime.start(
            ManagementTestKit.app(),
            ManagementTestKit.config(
                "mgmt-metrics",
                Map.of("netherite.management.enabled", "on", "netherite.management.port", 18502)));
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

  @Test
  void healthChecksAndClusterMembersFollowPekkoManagement() {
    assertEquals(18502, management.uri().getPort());
    api.get("/alive").expect(200);
    api.get("/ready").expect(200);
    JsonNode members = api.get("/cluster/members").expect(200).json();
    assertEquals(1, members.get("members").size(), members.toString());
    assertEquals("Up", members.get("members").get(0).get("status").asText());
    JsonNode shards = api.get("/cluster/shards/partition").expect(200).json();
    assertTrue(shards.toString().contains("regions"), shards.toString());
  }

  @Test
  void metricsParseAsPrometheusTextAndMoveWhenHello5Runs() throws InterruptedException {
    Reply first = api.get("/metrics").expect(200);
    assertTrue(first.contentType().startsWith("text/plain; version=0.0.4"), first.contentType());
    PrometheusText before = PrometheusText.parse(first.body());
    // Sharding starts the node's partitions shortly after the runtime is up.
    for (int i = 0; i < 300 && before.value("netherite_partitions_hosted") < 4; i++) {
      Thread.sleep(100);
      before = PrometheusText.parse(api.get("/metrics").expect(200).body());
    }
    // The 0.0.4 format declares a counter under its sample name, with the _total suffix.
    assertEquals(
        "counter",
        before.types.getOrDefault(
            "netherite_journal_writes_total", before.types.get("netherite_journal_writes")),
        before.types.toString());
    assertEquals("histogram", before.types.get("netherite_journal_write_latency_seconds"));
    assertEquals(4, before.value("netherite_partitions_hosted"));
    for (int p = 0; p < 4; p++) {
      assertEquals(1, before.value("netherite_partition_up", Map.of("partition", "" + p)));
      assertEquals(0, before.value("netherite_partition_stuck", Map.of("partition", "" + p)));
    }

    for (int i = 0; i < 3; i++) {
      InstanceId id = runtime.client().start(ManagementTestKit.HELLO5, null);
      assertEquals(
          RuntimeStatus.COMPLETED,
          runtime.client().waitForCompletion(id, Duration.ofSeconds(60)).runtimeStatus());
    }

    PrometheusText after = PrometheusText.parse(api.get("/metrics").expect(200).body());
    for (String counter :
        List.of(
            "netherite_journal_writes_total",
            "netherite_journal_events_total",
            "netherite_journal_bytes_total",
            "netherite_journal_write_latency_seconds_count",
            "netherite_journal_write_events_count",
            "netherite_journal_write_bytes_count",
            "netherite_step_latency_seconds_count",
            "netherite_activity_latency_seconds_count")) {
      assertTrue(
          after.value(counter) > before.value(counter),
          counter + " did not move: " + before.value(counter) + " -> " + after.value(counter));
    }
    // Each Hello5 is at least 11 events (start, 5 x scheduled + completed, completion).
    assertTrue(
        after.value("netherite_journal_events_total")
                - before.value("netherite_journal_events_total")
            >= 3 * 7);
    Map<String, String> completed = Map.of("status", "COMPLETED");
    assertTrue(
        after.value("netherite_instances", completed)
            >= before.value("netherite_instances", completed) + 3,
        "instances{status=COMPLETED} did not move");
    double instances = 0;
    for (int p = 0; p < 4; p++) {
      instances += after.value("netherite_partition_instances", Map.of("partition", "" + p));
    }
    assertTrue(instances >= 3, "partition instances: " + instances);
    for (int p = 0; p < 4; p++) {
      assertEquals(
          0, after.value("netherite_partition_entity_backlog", Map.of("partition", "" + p)));
    }
  }

  @Test
  void theStrictReaderRejectsWhatIsNotTheFormat() {
    assertThrows(AssertionError.class, () -> PrometheusText.parse("no_type_declared 1\n"));
    assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE x gauge\nx{a=\"b} 1\n"));
    assertThrows(
        AssertionError.class,
        () ->
            PrometheusText.parse(
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"));
    assertEquals(1, PrometheusText.parse("# TYPE x gauge\nx{a=\"q\\\"\"} 1\n").samples.size());
  }
}
