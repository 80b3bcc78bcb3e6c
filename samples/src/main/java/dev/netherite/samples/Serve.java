package dev.netherite.samples;

import dev.netherite.cassandra.EmbeddedCassandra;
import dev.netherite.management.NetheriteManagement;
import dev.netherite.runtime.DurableRuntime;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/serve}: an embedded Cassandra, a one-node runtime with every sample registered, and
 * the management server (dashboard, API, metrics); runs until Ctrl-C, then stops everything.
 *
 * <pre>
 * bin/serve [--port 8558] [--token TOKEN] [--cassandra HOST:PORT] [--cql-port 9042] [--task-hub serve]
 * </pre>
 *
 * <p>With {@code --cassandra} it uses a running Cassandra instead of starting one. The embedded one
 * keeps its data in {@code target/serve-cassandra} between runs, so instances survive a restart.
 */
public final class Serve {
  private Serve() {}

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        System.err.println(
            "usage: bin/serve [--port 8558] [--token TOKEN] [--cassandra HOST:PORT] [--cql-port 9042]"
                + " [--task-hub serve]");
        System.exit(2);
      }
      options.put(args[i].substring(2), args[++i]);
    }
    EmbeddedCassandra cassandra = null;
    String contactPoint = options.get("cassandra");
    if (contactPoint == null) {
      int cqlPort = Integer.parseInt(options.getOrDefault("cql-port", "9042"));
      System.out.println("Starting an embedded Cassandra (data in target/serve-cassandra)...");
      cassandra =
          EmbeddedCassandra.builder()
              .dataDirectory(Path.of("target", "serve-cassandra"))
              .cqlPort(cqlPort)
              .storagePort(cqlPort + 1)
              .build()
              .start();
      contactPoint = cassandra.contactPoint();
    }
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("netherite.management.enabled", "on");
    overrides.put("netherite.management.port", options.getOrDefault("port", "8558"));
    overrides.put("netherite.management.auth-token", options.getOrDefault("token", ""));
    overrides.put("pekko.loglevel", "WARNING");
    DurableRuntime runtime =
        DurableRuntime.start(
            Samples.app(),
            Samples.singleNode(contactPoint, options.getOrDefault("task-hub", "serve"), overrides));
    NetheriteManagement management = NetheriteManagement.start(runtime);
    CountDownLatch stopped = new CountDownLatch(1);
    EmbeddedCassandra started = cassandra;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("Stopping...");
                  management.close();
                  runtime.close();
                  if (started != null) {
                    started.close();
                  }
                  System.out.println("Stopped the management server, the runtime and Cassandra.");
                  stopped.countDown();
                }));
    System.out.println(
        "Netherite is serving: "
            + runtime.settings().partitionCount()
            + " partitions, Cassandra "
            + contactPoint
            + ", samples "
            + String.join(", ", runtime.workflows().orchestrations().keySet()));
    System.out.println("Dashboard:  " + management.uri());
    System.out.println("API:        " + management.uri() + "api/instances   (docs/HTTP-API.md)");
    System.out.println("Metrics:    " + management.uri() + "metrics");
    System.out.println("CLI:        bin/netherite --url " + management.uri() + " start Hello5");
    System.out.println("Press Ctrl-C to stop.");
    stopped.await();
  }
}
