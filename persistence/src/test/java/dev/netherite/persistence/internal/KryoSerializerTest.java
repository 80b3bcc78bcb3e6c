package dev.netherite.persistence.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.InstanceId;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.PartitionState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kryo serializer inside a real actor system: bindings from reference.conf, actor references,
 * the pool.
 */
class KryoSerializerTest {
  /**
   * A message with typed actor references in a field and inside a collection. Test-only, so not
   * WireSerializable.
   */
  public record Ping(String text, ActorRef<String> replyTo, List<ActorRef<?>> others) {}

  /** A message with a classic actor reference. */
  public record ClassicPing(org.apache.pekko.actor.ActorRef ref, InstanceId instance) {}

  public record NotRegistered(String value) {}

  /**
   * The production serializer plus the test messages above, under its own identifier: WireRegistry
   * stays the list of production classes only.
   */
  public static final class TestTypesKryoSerializer extends KryoSerializer {
    public TestTypesKryoSerializer(ExtendedActorSystem system) {
      super(
          system,
          kryo -> {
            kryo.register(Ping.class, 9000);
            kryo.register(ClassicPing.class, 9001);
          });
    }

    @Override
    public int identifier() {
      return 7499;
    }
  }

  private static ActorSystem<Void> system;
  private static Serialization serialization;
  private static ActorRef<String> probe;
  private static final CompletableFuture<String> received = new CompletableFuture<>();

  @BeforeAll
  static void start() {
    Config config =
        ConfigFactory.parseString(
                """
                pekko.actor.serializers.netherite-kryo-test = "%s"
                pekko.actor.serialization-bindings {
                  "%s" = netherite-kryo-test
                  "%s" = netherite-kryo-test
                }
                """
                    .formatted(
                        TestTypesKryoSerializer.class.getName(),
                        Ping.class.getName(),
                        ClassicPing.class.getName()))
            .withFallback(ConfigFactory.load());
    system = ActorSystem.create(Behaviors.empty(), "KryoSerializerTest", config);
    serialization = SerializationExtension.get(Adapter.toClassic(system));
    probe =
        system.systemActorOf(
            Behaviors.<String>receiveMessage(
                message -> {
                  received.complete(message);
                  return Behaviors.same();
                }),
            "probe",
            Props.empty());
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void wireSerializableIsBoundToKryoWithoutManifest() throws Exception {
    Serializer serializer = serialization.serializerFor(WireSerializable.class);
    assertInstanceOf(KryoSerializer.class, serializer);
    assertEquals(KryoSerializer.IDENTIFIER, serializer.identifier());
    assertFalse(serializer.includeManifest());
  }

  @Test
  void checkpointsAreDeflatedAndOlderPlainOnesStillRead() throws Exception {
    PartitionState state = WireSamples.partitionState();
    Serializer serializer = serialization.findSerializerFor(state);
    assertInstanceOf(DeflatingKryoSerializer.class, serializer);
    byte[] deflated = serializer.toBinary(state);
    byte[] plain = serialization.serializerFor(WireSerializable.class).toBinary(state);
    assertTrue(
        deflated.length < plain.length,
        deflated.length + " deflated vs " + plain.length + " plain bytes");

    var back =
        (PartitionState)
            serialization.deserialize(deflated, DeflatingKryoSerializer.IDENTIFIER, "").get();
    var older =
        (PartitionState) serialization.deserialize(plain, KryoSerializer.IDENTIFIER, "").get();
    for (var s : List.of(back, older)) {
      assertEquals(state.instanceCount(), s.instanceCount());
      assertEquals(
          state.instance(WireSamples.ORDER).status(), s.instance(WireSamples.ORDER).status());
      assertEquals(state.outbox().lastSeq(5), s.outbox().lastSeq(5));
      assertEquals(state.entityCount(), s.entityCount());
    }
    IllegalArgumentException cut =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                DeflatingKryoSerializer.inflate(
                    java.util.Arrays.copyOf(deflated, deflated.length / 2)));
    assertTrue(cut.getMessage().contains("cut off"), cut.getMessage());
  }

  @Test
  void typedActorRefsRoundTripAndStillDeliver() throws Exception {
    Ping ping = new Ping("hello", probe, List.of(probe, system));
    assertInstanceOf(TestTypesKryoSerializer.class, serialization.findSerializerFor(ping));

    byte[] bytes = serialization.serialize(ping).get();
    Object back = serialization.deserialize(bytes, 7499, "").get();

    assertEquals(ping, back);
    ((Ping) back).replyTo().tell("pong");
    assertEquals("pong", received.get(10, TimeUnit.SECONDS));
  }

  @Test
  void classicActorRefsRoundTrip() throws Exception {
    ClassicPing ping = new ClassicPing(Adapter.toClassic(probe), InstanceId.of("i-1"));
    byte[] bytes = serialization.serialize(ping).get();
    assertEquals(ping, serialization.deserialize(bytes, 7499, "").get());
  }

  @Test
  void theProductionSerializerCarriesActorRefsInsideCollections() throws Exception {
    Serializer serializer = serialization.serializerFor(WireSerializable.class);
    HashMap<String, Object> map =
        new HashMap<>(Map.of("ref", probe, "refs", List.of(probe, probe)));
    byte[] bytes = serializer.toBinary(map);
    assertEquals(map, serialization.deserialize(bytes, KryoSerializer.IDENTIFIER, "").get());
  }

  @Test
  void anUnregisteredClassFailsWithItsNameAndTheFix() throws Exception {
    Serializer serializer = serialization.serializerFor(WireSerializable.class);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> serializer.toBinary(new NotRegistered("x")));
    assertTrue(e.getMessage().contains(NotRegistered.class.getName()), e.getMessage());
    assertTrue(e.getMessage().contains("WireRegistry"), e.getMessage());
  }

  @Test
  void withoutAnActorSystemAnActorRefFailsClearly() {
    Kryo kryo = WireRegistry.newKryo(null);
    RuntimeException e =
        assertThrows(
            RuntimeException.class,
            () -> kryo.writeClassAndObject(new Output(64, -1), List.of(probe)));
    String messages = e + " " + e.getCause();
    assertTrue(messages.contains("without one"), messages);
  }

  @Test
  void thePoolServesConcurrentCallers() throws Exception {
    Serializer serializer = serialization.serializerFor(WireSerializable.class);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 500; i++) {
                    List<Object> value =
                        List.of(
                            probe,
                            FailureDetails.of("E", "t" + thread + "-" + i),
                            "x".repeat(i * 20));
                    byte[] bytes = serializer.toBinary(value);
                    assertEquals(
                        value,
                        serialization.deserialize(bytes, KryoSerializer.IDENTIFIER, "").get());
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
