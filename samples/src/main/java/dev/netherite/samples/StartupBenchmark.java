package dev.netherite.samples;

import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.StartOptions;
import dev.netherite.runtime.DurableRuntime;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Measures a single node's start: from the start of its JVM to its first acknowledged client start
 * (a Hello5 instance), against a running Cassandra, on a task hub of its own (first start, so the
 * task hub's metadata is written too) or on an existing one ({@code --task-hub}):
 *
 * <pre>StartupBenchmark --cassandra HOST:PORT [--task-hub NAME]</pre>
 *
 * Prints one line, {@code MEASURE startup: ...}, with the time to {@code main}, to the runtime
 * started, and to the first start acknowledged, each counted from the JVM's start as the operating
 * system records it.
 */
public final class StartupBenchmark {
  private StartupBenchmark() {}

  public static void main(String[] args) {
    Instant main = Instant.now();
    String cassandra = null;
    String hub = "startup-" + System.currentTimeMillis();
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--cassandra" -> cassandra = args[i + 1];
        case "--task-hub" -> hub = args[i + 1];
        default ->
            throw new IllegalArgumentException(
                "Unknown option " + args[i] + "; options: --cassandra, --task-hub.");
      }
    }
    if (cassandra == null) {
      throw new IllegalArgumentException(
          "--cassandra HOST:PORT is required (start one with EmbeddedCassandra start).");
    }
    Instant jvm = ProcessHandle.current().info().startInstant().orElse(main);
    try (DurableRuntime runtime =
        DurableRuntime.start(Samples.app(), Samples.singleNode(cassandra, hub, Map.of()))) {
      Instant up = Instant.now();
      runtime
          .client()
          .start(Hello5.HELLO5, null, StartOptions.defaults().instanceId(InstanceId.of("first")));
      Instant acknowledged = Instant.now();
      System.out.printf(
          "MEASURE startup: main %d ms, runtime started %d ms, first start acknowledged %d ms after"
              + " the JVM started (task hub %s)%n",
          Duration.between(jvm, main).toMillis(),
          Duration.between(jvm, up).toMillis(),
          Duration.between(jvm, acknowledged).toMillis(),
          hub);
    }
  }
}
