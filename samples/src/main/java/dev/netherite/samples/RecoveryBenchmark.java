package dev.netherite.samples;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.StartOptions;
import dev.netherite.runtime.DurableRuntime;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Measures how long one partition holding many instances takes to recover (checkpoint plus log
 * suffix), as a node that takes over a partition does. Against a running Cassandra:
 *
 * <pre>RecoveryBenchmark --cassandra HOST:PORT [--instances 10000] [--suffix 1000]</pre>
 *
 * <ol>
 *   <li>runs {@code instances} Hello5 instances to completion on partition 0 (ids ending in {@code
 *       !0}), with checkpoints by size turned off;
 *   <li>stops the node gracefully: partition 0 hands over with a final checkpoint holding all of
 *       them;
 *   <li>starts a node again (recovery from the checkpoint alone), runs {@code suffix} more
 *       instances on partition 0, and stops it abruptly (no final checkpoint), leaving a log
 *       suffix;
 *   <li>starts a node again and reports when partition 0 answers: checkpoint plus suffix.
 * </ol>
 *
 * The partition logs its own recovery ("partition 0 recovered in ... ms") as well.
 */
public final class RecoveryBenchmark {
  private RecoveryBenchmark() {}

  public static void main(String[] args) throws Exception {
    String cassandra = null;
    int instances = 10_000;
    int suffix = 1_000;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--cassandra" -> cassandra = args[i + 1];
        case "--instances" -> instances = Integer.parseInt(args[i + 1]);
        case "--suffix" -> suffix = Integer.parseInt(args[i + 1]);
        default ->
            throw new IllegalArgumentException(
                "Unknown option " + args[i] + "; options: --cassandra, --instances, --suffix.");
      }
    }
    if (cassandra == null) {
      throw new IllegalArgumentException(
          "--cassandra HOST:PORT is required (start one with EmbeddedCassandra start).");
    }
    String hub = "recovery-" + System.currentTimeMillis();
    Map<String, Object> noCheckpointBySize =
        Map.of(
            "netherite.checkpoint.after-events",
            100_000_000,
            "netherite.checkpoint.after-idle",
            "1h");

    DurableRuntime first =
        DurableRuntime.start(Samples.app(), Samples.singleNode(cassandra, hub, noCheckpointBySize));
    long t = System.nanoTime();
    run(first.client(), "a", instances);
    System.out.printf(
        "ran %d Hello5 instances on partition 0 in %d ms%n", instances, millisSince(t));
    t = System.nanoTime();
    first.close(); // graceful: hand-over with a final checkpoint
    System.out.printf("graceful stop with the final checkpoint took %d ms%n", millisSince(t));

    Map<String, Object> abrupt =
        Map.of(
            "netherite.checkpoint.after-events", 100_000_000,
            "netherite.checkpoint.after-idle", "1h",
            "pekko.coordinated-shutdown.run-by-actor-system-terminate", "off");
    t = System.nanoTime();
    DurableRuntime second =
        DurableRuntime.start(Samples.app(), Samples.singleNode(cassandra, hub, abrupt));
    long started = System.nanoTime();
    second.client().getStatus(InstanceId.of("probe!0"));
    System.out.printf(
        "RESULT recovery from checkpoint only (%d instances): partition 0 answered %d ms after the node started (node start %d ms)%n",
        instances, millisSince(started), (started - t) / 1_000_000);
    run(second.client(), "b", suffix);
    second.system().terminate(); // abrupt: no final checkpoint, the suffix stays in the log
    second.system().getWhenTerminated().toCompletableFuture().join();
    second.close();

    t = System.nanoTime();
    try (DurableRuntime third =
        DurableRuntime.start(Samples.app(), Samples.singleNode(cassandra, hub, abrupt))) {
      started = System.nanoTime();
      third.client().getStatus(InstanceId.of("probe!0"));
      System.out.printf(
          "RESULT recovery from checkpoint (%d instances) + log suffix (%d instances): partition 0 answered %d ms after the node started (node start %d ms)%n",
          instances, suffix, millisSince(started), (started - t) / 1_000_000);
      third.system().terminate();
      third.system().getWhenTerminated().toCompletableFuture().join();
    }
  }

  /**
   * Starts {@code n} Hello5 instances on partition 0 (at most 200 at once) and waits for all of
   * them.
   */
  private static void run(DurableClient client, String prefix, int n) throws InterruptedException {
    Semaphore inFlight = new Semaphore(200);
    try (ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) {
        inFlight.acquire();
        InstanceId id = InstanceId.of(prefix + "-" + i + "!0");
        workers.submit(
            () -> {
              try {
                client.start(Hello5.HELLO5, null, StartOptions.defaults().instanceId(id));
                client.waitForCompletion(id, Duration.ofMinutes(5));
              } finally {
                inFlight.release();
              }
            });
      }
    }
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
