package dev.netherite.samples;

import dev.netherite.cassandra.EmbeddedCassandra;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.persistence.StorageMetrics;
import dev.netherite.runtime.DurableRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * README command one: launches an embedded Cassandra, starts a single-node runtime on it, runs
 * Hello5 a few times, prints each output and latency, and stops everything.
 */
public final class Hello5Main {
  private Hello5Main() {}

  public static void main(String[] args) {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    System.out.println("Starting an embedded Cassandra (data in target/embedded-cassandra)...");
    try (EmbeddedCassandra cassandra =
            EmbeddedCassandra.builder()
                .dataDirectory(Path.of("target", "embedded-cassandra"))
                .clean(true)
                .build()
                .start();
        DurableRuntime runtime =
            DurableRuntime.start(
                Samples.app(),
                Samples.singleNode(cassandra.contactPoint(), "hello5-sample", Map.of()))) {
      System.out.println(
          "Runtime up: "
              + runtime.settings().partitionCount()
              + " partitions, persistence mode "
              + runtime.settings().persistenceMode()
              + ", Cassandra "
              + cassandra.contactPoint()
              + " (commitlog_sync "
              + cassandra.commitlogSync().yamlName()
              + ")");
      DurableClient client = runtime.client();
      boolean allRight = true;
      for (int i = 1; i <= runs; i++) {
        StorageMetrics.Snapshot before = StorageMetrics.global().snapshot();
        long start = System.nanoTime();
        InstanceId id = client.start(Hello5.HELLO5, null);
        InstanceStatus done = client.waitForCompletion(id, Duration.ofSeconds(60));
        double millis = (System.nanoTime() - start) / 1e6;
        StorageMetrics.Snapshot used = StorageMetrics.global().snapshot().minus(before);
        List<?> output = done.output(List.class);
        boolean right = Hello5.EXPECTED.equals(output);
        allRight &= right;
        System.out.printf(
            "run %d: %s %s in %.1f ms (%d journal writes, %d events)%s%n",
            i,
            done.runtimeStatus(),
            output,
            millis,
            used.journalWrites(),
            used.eventsWritten(),
            right ? "" : "  WRONG OUTPUT");
      }
      System.out.println(allRight ? "Hello5: every output right." : "Hello5: WRONG OUTPUT");
      if (!allRight) {
        System.exit(1);
      }
    }
    System.out.println("Stopped the runtime and Cassandra.");
  }
}
