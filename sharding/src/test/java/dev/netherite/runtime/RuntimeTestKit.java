package dev.netherite.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.netherite.cassandra.TestCassandra;
import dev.netherite.dsl.Workflows;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Starts runtimes against the shared test Cassandra, each test on a task hub of its own. */
final class RuntimeTestKit {
  private static final AtomicInteger HUBS = new AtomicInteger();

  private RuntimeTestKit() {}

  static String newTaskHub(String name) {
    return name + "-" + ProcessHandle.current().pid() + "-" + HUBS.incrementAndGet();
  }

  static Config config(String taskHub, Map<String, Object> overrides) {
    return ConfigFactory.parseMap(overrides)
        .withFallback(
            ConfigFactory.parseMap(
                Map.of(
                    "netherite.task-hub", taskHub,
                    "datastax-java-driver.basic.contact-points",
                        List.of(TestCassandra.contactPoint()),
                    // Every message must survive serialization, as it would between nodes.
                    "pekko.actor.serialize-messages", "on",
                    // An abrupt stop: terminate() runs no coordinated shutdown, so no graceful
                    // hand-over.
                    "pekko.coordinated-shutdown.run-by-actor-system-terminate", "off",
                    "pekko.loglevel", "WARNING")))
        .withFallback(ConfigFactory.parseResources("netherite/conf/single-node.conf"));
  }

  static DurableRuntime start(Workflows app, String taskHub) {
    return DurableRuntime.start(app, config(taskHub, Map.of()));
  }

  static DurableRuntime start(
      Workflows app,
      String taskHub,
      Map<String, Object> overrides,
      DurableRuntime.Options options) {
    return DurableRuntime.start(app, config(taskHub, overrides), options);
  }

  /** Stops the ActorSystem without any graceful phase: no hand-over, no final checkpoint. */
  static void crash(DurableRuntime runtime) {
    runtime.system().terminate();
    runtime.system().getWhenTerminated().toCompletableFuture().join();
  }
}
