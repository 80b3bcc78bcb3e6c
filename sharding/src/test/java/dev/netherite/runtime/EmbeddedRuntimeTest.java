package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.Workflows;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.serialization.JSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * The runtime embedded in an application's ActorSystem, beside the application's own typed actor,
 * its own sharded entity type and its own serializer binding (every message serialized, as between
 * nodes), on the same one-node cluster; an activity asks the application's actor. The application's
 * coordinated shutdown then stops the runtime: every partition takes a final checkpoint, and a new
 * system on the same task hub recovers every partition with nothing to replay.
 */
@Timeout(180)
class EmbeddedRuntimeTest {
  private static final int PARTITIONS = 12;

  /** The application's messages, with a serializer of the application's own. */
  sealed interface AppMessage {}

  record Greet(String name, ActorRef<Greeting> replyTo) implements AppMessage {}

  record Greeting(String text) implements AppMessage {}

  record Increment(int by) implements AppMessage {}

  record GetCount(ActorRef<Count> replyTo) implements AppMessage {}

  record Count(int value) implements AppMessage {}

  static final AtomicInteger APP_SERIALIZATIONS = new AtomicInteger();

  /** The application's serializer: text, with actor references through the resolver. */
  public static final class AppSerializer extends JSerializer {
    private final ActorRefResolver resolver;

    public AppSerializer(ExtendedActorSystem system) {
      this.resolver = ActorRefResolver.get(Adapter.toTyped(system));
    }

    @Override
    public int identifier() {
      return 7_770_001;
    }

    @Override
    public boolean includeManifest() {
      return false;
    }

    @Override
    public byte[] toBinary(Object o) {
      APP_SERIALIZATIONS.incrementAndGet();
      String text =
          switch ((AppMessage) o) {
            case Greet g -> "greet|" + g.name() + "|" + resolver.toSerializationFormat(g.replyTo());
            case Greeting g -> "greeting|" + g.text();
            case Increment i -> "increment|" + i.by();
            case GetCount g -> "get|" + resolver.toSerializationFormat(g.replyTo());
            case Count c -> "count|" + c.value();
          };
      return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
      String[] f = new String(bytes, StandardCharsets.UTF_8).split("\\|", -1);
      return switch (f[0]) {
        case "greet" -> new Greet(f[1], resolver.resolveActorRef(f[2]));
        case "greeting" -> new Greeting(f[1]);
        case "increment" -> new Increment(Integer.parseInt(f[1]));
        case "get" -> new GetCount(resolver.resolveActorRef(f[1]));
        case "count" -> new Count(Integer.parseInt(f[1]));
        default -> throw new IllegalArgumentException("unknown application message " + f[0]);
      };
    }
  }

  static Behavior<AppMessage> greeter() {
    return Behaviors.receive(AppMessage.class)
        .onMessage(
            Greet.class,
            g -> {
              g.replyTo().tell(new Greeting("Hello " + g.name() + ", from the application!"));
              return Behaviors.same();
            })
        .build();
  }

  static final EntityTypeKey<AppMessage> COUNTER =
      EntityTypeKey.create(AppMessage.class, "app-counter");

  static Behavior<AppMessage> counter(int value) {
    return Behaviors.receive(AppMessage.class)
        .onMessage(Increment.class, i -> counter(value + i.by()))
        .onMessage(
            GetCount.class,
            g -> {
              g.replyTo().tell(new Count(value));
              return Behaviors.same();
            })
        .build();
  }

  static final ActivityRef<String, String> GREET_VIA_APP =
      ActivityRef.of("GreetViaApp", String.class, String.class);
  static final OrchestrationRef<String, String> WELCOME =
      OrchestrationRef.of("Welcome", String.class, String.class);

  static String welcome(OrchestrationContext ctx, String name) {
    return ctx.call(GREET_VIA_APP, name).await();
  }

  /** Activities reach the application's actor through the system they run in. */
  static volatile ActorSystem<?> appSystem;

  static volatile ActorRef<AppMessage> appGreeter;

  static Workflows app() {
    return Workflows.builder()
        .activity(
            GREET_VIA_APP,
            (ctx, name) ->
                AskPattern.<AppMessage, Greeting>ask(
                        appGreeter,
                        replyTo -> new Greet(name, replyTo),
                        Duration.ofSeconds(10),
                        appSystem.scheduler())
                    .toCompletableFuture()
                    .join()
                    .text())
        .orchestration(WELCOME, EmbeddedRuntimeTest::welcome)
        .build();
  }

  private static Config appConfig(String hub) {
    return ConfigFactory.parseString(
            """
            pekko.actor.serializers.app = "dev.netherite.runtime.EmbeddedRuntimeTest$AppSerializer"
            pekko.actor.serialization-bindings {
              "dev.netherite.runtime.EmbeddedRuntimeTest$AppMessage" = app
            }
            """)
        .withFallback(
            RuntimeTestKit.config(
                hub, Map.of("pekko.loglevel", "INFO", "netherite.partition-count", PARTITIONS)))
        .withFallback(ConfigFactory.load());
  }

  /** The application's own system: its guardian spawns its greeter. */
  private static ActorSystem<Void> startApplication(String hub) {
    CompletableFuture<ActorRef<AppMessage>> greeter = new CompletableFuture<>();
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.setup(
                ctx -> {
                  greeter.complete(ctx.spawn(greeter(), "greeter"));
                  return Behaviors.empty();
                }),
            "application",
            appConfig(hub));
    appSystem = system;
    appGreeter = greeter.join();
    return system;
  }

  @Test
  void runsBesideTheApplicationsActorsAndStopsWithItsCoordinatedShutdown() throws Exception {
    String hub = RuntimeTestKit.newTaskHub("embedded");
    LogLines log = LogLines.attach();
    try {
      ActorSystem<Void> system = startApplication(hub);
      try {
        IllegalStateException missing =
            assertThrows(IllegalStateException.class, () -> DurableRuntime.get(system));
        assertTrue(
            missing.getMessage().contains("DurableRuntime.create(system, workflows)"),
            missing.getMessage());

        DurableRuntime runtime = DurableRuntime.create(system, app());
        assertSame(runtime, DurableRuntime.get(system));
        assertSame(runtime, system.extension(DurableRuntime.ID));
        IllegalStateException twice =
            assertThrows(IllegalStateException.class, () -> DurableRuntime.create(system, app()));
        assertTrue(twice.getMessage().contains("already running"), twice.getMessage());

        // The application's sharded entity type on the same cluster as the partitions.
        ClusterSharding sharding = ClusterSharding.get(system);
        sharding.init(Entity.of(COUNTER, ctx -> counter(0)));
        EntityRef<AppMessage> counter = sharding.entityRefFor(COUNTER, "c1");
        for (int i = 1; i <= 10; i++) {
          counter.tell(new Increment(i));
        }
        Count count =
            counter.<Count>ask(GetCount::new, Duration.ofSeconds(30)).toCompletableFuture().get();
        assertEquals(55, count.value());

        // One instance on every partition, each calling the application's actor from an activity.
        List<InstanceId> ids = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
          ids.add(
              runtime
                  .client()
                  .start(
                      WELCOME,
                      "guest" + p,
                      StartOptions.defaults().instanceId(InstanceId.of("welcome-" + p + "!" + p))));
        }
        for (int p = 0; p < PARTITIONS; p++) {
          InstanceStatus done =
              runtime.client().waitForCompletion(ids.get(p), Duration.ofSeconds(60));
          assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> "" + done.failure());
          assertEquals("Hello guest" + p + ", from the application!", done.output(String.class));
        }
        assertTrue(APP_SERIALIZATIONS.get() > 0, "the application's serializer was not used");

        // The application's coordinated shutdown stops the runtime: final checkpoints.
        CoordinatedShutdown.get(system)
            .runAll(CoordinatedShutdown.unknownReason())
            .toCompletableFuture()
            .get();
        system.getWhenTerminated().toCompletableFuture().get();
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get();
      }
      assertEquals(
          allPartitions(),
          log.partitions("partition (\\d+) handed over after a final checkpoint"),
          "every partition (each had events) takes a final checkpoint at shutdown");

      // A new application system on the same task hub: every partition starts from its final
      // checkpoint with nothing to replay and nothing active to read, and the instances are there.
      log.clear();
      ActorSystem<Void> again = startApplication(hub);
      try {
        DurableRuntime runtime = DurableRuntime.create(again, app());
        for (int p = 0; p < PARTITIONS; p++) {
          InstanceStatus status =
              runtime.client().getStatus(InstanceId.of("welcome-" + p + "!" + p)).orElseThrow();
          assertEquals(RuntimeStatus.COMPLETED, status.runtimeStatus());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Pattern recovered =
            Pattern.compile(
                "partition (\\d+) recovered in \\d+ ms: (\\d+) instances, .* \\+ (\\d+)");
        while (log.matching(recovered).size() < PARTITIONS && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        List<Matcher> recoveries = log.matching(recovered);
        assertEquals(PARTITIONS, recoveries.size(), "recoveries: " + log.lines());
        for (Matcher m : recoveries) {
          // The completed instance is not read at recovery, only when its status is asked for.
          assertEquals("0", m.group(2), m.group());
          assertEquals(
              "0", m.group(3), "nothing to replay after the final checkpoint: " + m.group());
        }
      } finally {
        again.terminate();
        again.getWhenTerminated().toCompletableFuture().get();
      }
    } finally {
      log.detach();
    }
  }

  @Test
  void getOnASystemWithoutARuntimeSaysHowToCreateOne() throws Exception {
    ActorSystem<Void> plain =
        ActorSystem.create(
            Behaviors.empty(),
            "plain",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    try {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> DurableRuntime.get(plain));
      assertEquals(
          "No DurableRuntime runs on ActorSystem plain; create one with"
              + " DurableRuntime.create(system, workflows) (or start a node of its own with"
              + " DurableRuntime.start(workflows, config)) before looking it up.",
          e.getMessage());
      // Looking it up does not register anything: the system can still get a runtime later.
      assertTrue(!plain.hasExtension(DurableRuntime.ID));
    } finally {
      plain.terminate();
      plain.getWhenTerminated().toCompletableFuture().get();
    }
  }

  private static Set<Integer> allPartitions() {
    Set<Integer> all = new TreeSet<>();
    for (int p = 0; p < PARTITIONS; p++) {
      all.add(p);
    }
    return all;
  }

  /** The engine's log lines, captured while a test runs. */
  private static final class LogLines extends AppenderBase<ILoggingEvent> {
    private final List<String> lines = new ArrayList<>();

    static LogLines attach() {
      LogLines appender = new LogLines();
      appender.setContext((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory());
      appender.start();
      ((Logger) LoggerFactory.getLogger("dev.netherite")).addAppender(appender);
      return appender;
    }

    void detach() {
      ((Logger) LoggerFactory.getLogger("dev.netherite")).detachAppender(this);
      stop();
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
      lines.add(event.getFormattedMessage());
    }

    synchronized List<String> lines() {
      return List.copyOf(lines);
    }

    synchronized void clear() {
      lines.clear();
    }

    List<Matcher> matching(Pattern pattern) {
      List<Matcher> found = new ArrayList<>();
      for (String line : lines()) {
        Matcher m = pattern.matcher(line);
        if (m.find()) {
          found.add(m);
        }
      }
      return found;
    }

    Set<Integer> partitions(String regex) {
      Set<Integer> found = new TreeSet<>();
      matching(Pattern.compile(regex)).forEach(m -> found.add(Integer.parseInt(m.group(1))));
      return found;
    }
  }
}
