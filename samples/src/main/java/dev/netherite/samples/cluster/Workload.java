package dev.netherite.samples.cluster;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstancePage;
import dev.netherite.dsl.InstanceQuery;
import java.time.Duration;
import java.util.List;

/**
 * A load that a node's console starts and checks ({@code load} and {@code verify} in {@link
 * NodeMain}). A run is {@code count} units named by a run id; every unit's instance ids derive from
 * the run id and the unit's index, so starting a unit twice (a retry) starts nothing new. To add a
 * workload, implement this and list it in {@link #named(String)}.
 */
public interface Workload {

  String name();

  /** Starts unit {@code index} of run {@code runId}; returns once the start is durable. */
  void start(DurableClient client, String runId, int index);

  /**
   * Waits for unit {@code index} to end and checks that it ended right and did everything exactly
   * once; returns what is wrong (empty when right).
   */
  List<String> verify(DurableClient client, String runId, int index, Duration timeout);

  /**
   * Checks of the whole run once every unit verified (totals, no extra instances); returns what is
   * wrong.
   */
  List<String> verifyRun(DurableClient client, String runId, int count);

  /** The workloads a console knows. */
  static Workload named(String name) {
    return switch (name) {
      case "hello5" -> new Hello5Workload();
      case "greetings" -> new GreetingsWorkload();
      case "bank" -> new BankWorkload();
      default ->
          throw new IllegalArgumentException(
              "No workload named '" + name + "'; the workloads are: hello5, greetings, bank.");
    };
  }

  /** How many instances exist whose id starts with {@code prefix}, on all partitions. */
  static int countInstances(DurableClient client, String prefix) {
    int n = 0;
    InstanceQuery query = InstanceQuery.all().withIdPrefix(prefix).withPageSize(1000);
    while (true) {
      InstancePage page = client.list(query);
      n += page.instances().size();
      if (!page.hasMore()) {
        return n;
      }
      query = query.continueAfter(page.continuationToken());
    }
  }
}
