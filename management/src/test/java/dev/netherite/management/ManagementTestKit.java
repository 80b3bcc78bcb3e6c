package dev.netherite.management;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.netherite.cassandra.TestCassandra;
import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Workflows;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A runtime with test workflows on the shared test Cassandra, and an HTTP client for its API. */
final class ManagementTestKit {
  static final ActivityRef<String, String> SAY_HELLO =
      ActivityRef.of("SayHello", String.class, String.class);
  static final OrchestrationRef<Void, List> HELLO5 =
      OrchestrationRef.of("Hello5", Void.class, List.class);
  static final OrchestrationRef<String, String> WAITER =
      OrchestrationRef.of("Waiter", String.class, String.class);
  static final OrchestrationRef<Integer, Integer> SQUARE =
      OrchestrationRef.of("Square", Integer.class, Integer.class);
  static final EntityOp<Integer, Void> ADD = EntityOp.of("add", Integer.class, Void.class);
  static final EntityOp<Void, Integer> GET = EntityOp.of("get", Void.class, Integer.class);
  static final EntityType<Integer> COUNTER =
      EntityType.define("Counter", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, amount) -> {
                ctx.setState(ctx.state() + amount);
                return null;
              })
          .operation(GET, (ctx, none) -> ctx.state());

  static final List<String> HELLO5_OUTPUT =
      List.of(
          "Hello Tokyo!", "Hello Seattle!", "Hello London!", "Hello Amsterdam!", "Hello Mumbai!");

  static final ObjectMapper JSON = new ObjectMapper();

  private ManagementTestKit() {}

  static Workflows app() {
    return Workflows.builder()
        .activity(SAY_HELLO, (ctx, city) -> "Hello " + city + "!")
        .orchestration(
            HELLO5,
            (ctx, input) -> {
              List<String> out = new ArrayList<>();
              for (String city : List.of("Tokyo", "Seattle", "London", "Amsterdam", "Mumbai")) {
                out.add(ctx.call(SAY_HELLO, city).await());
              }
              return out;
            })
        .orchestration(
            WAITER,
            (ctx, input) -> {
              ctx.setCustomStatus("waiting for Approval");
              return input + ":" + ctx.waitForEvent("Approval", String.class).await();
            })
        .orchestration(SQUARE, (ctx, n) -> n * n)
        .entity(COUNTER)
        .build();
  }

  static Config config(String taskHub, Map<String, Object> overrides) {
    return ConfigFactory.parseMap(overrides)
        .withFallback(
            ConfigFactory.parseMap(
                Map.of(
                    "netherite.task-hub",
                    taskHub + "-" + ProcessHandle.current().pid(),
                    "netherite.partition-count",
                    4,
                    "datastax-java-driver.basic.contact-points",
                    List.of(TestCassandra.contactPoint()),
                    "pekko.actor.serialize-messages",
                    "on",
                    "pekko.coordinated-shutdown.run-by-actor-system-terminate",
                    "off",
                    "pekko.loglevel",
                    "WARNING")))
        .withFallback(ConfigFactory.parseResources("netherite/conf/single-node.conf"));
  }

  /** An HTTP client of one management server. */
  static final class Api {
    private final HttpClient http =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    private final String token;

    Api(URI base, String token) {
      this.base = base;
      this.token = token;
    }

    Reply get(String path) {
      return send("GET", path, null, token);
    }

    Reply post(String path, String body) {
      return send("POST", path, body, token);
    }

    Reply delete(String path) {
      return send("DELETE", path, null, token);
    }

    Reply send(String method, String path, String body, String bearer) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(base.resolve(path))
              .timeout(Duration.ofSeconds(90))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body));
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      if (bearer != null) {
        b.header("Authorization", "Bearer " + bearer);
      }
      try {
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(
            r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(""));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  record Reply(int status, String body, String contentType) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }

    Reply expect(int expected) {
      assertEquals(expected, status, () -> "status of a reply with body " + body);
      return this;
    }

    /** The error message of a JSON error reply with this status. */
    String error(int expected) {
      expect(expected);
      assertEquals(expected, json().get("status").asInt(), body);
      return json().get("message").asText();
    }
  }
}
