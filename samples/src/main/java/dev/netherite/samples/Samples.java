package dev.netherite.samples;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.netherite.dsl.Workflows;
import java.util.List;
import java.util.Map;

/** The application of all samples, and the configuration for running them on one node. */
public final class Samples {
  private Samples() {}

  public static Workflows app() {
    Workflows.Builder builder = Workflows.builder();
    Hello5.register(builder);
    Sequence.register(builder);
    Bank.register(builder);
    WordCount.register(builder);
    CollisionSearch.register(builder);
    Counter.register(builder);
    Greetings.register(builder);
    return builder.build();
  }

  /** One node against the Cassandra at {@code contactPoint}, storing under {@code taskHub}. */
  public static Config singleNode(
      String contactPoint, String taskHub, Map<String, Object> overrides) {
    return ConfigFactory.parseMap(overrides)
        .withFallback(
            ConfigFactory.parseMap(
                Map.of(
                    "netherite.task-hub",
                    taskHub,
                    "datastax-java-driver.basic.contact-points",
                    List.of(contactPoint))))
        .withFallback(ConfigFactory.parseResources("netherite/conf/single-node.conf"));
  }
}
