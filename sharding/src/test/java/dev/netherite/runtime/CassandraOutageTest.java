package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import com.typesafe.config.ConfigFactory;
import dev.netherite.cassandra.EmbeddedCassandra;
import dev.netherite.dsl.CriticalSection;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.StoreUnavailableException;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cassandra killed (kill -9) under Hello5 and Bank load and started again on the same data, with
 * the shipped durability ({@code commitlog_sync: batch}), while the engine keeps running: nothing
 * that was acknowledged is lost, money is conserved, clients fail fast with a {@link
 * StoreUnavailableException} meanwhile, the outage is logged once (one WARN, one INFO when it
 * ends), and every partition serves again soon after Cassandra accepts requests (MEASURE lines; the
 * assertion is only a loose bound that the breaker and back-off defaults of before, 45-64 s, fail).
 * Uses a Cassandra of its own, on free ports.
 */
@Timeout(240)
class CassandraOutageTest {
  static final int PARTITIONS = 4;
  static final int ACCOUNTS = 8;

  static final EntityOp<Integer, Void> ADD = EntityOp.of("add", Integer.class, Void.class);
  static final EntityOp<Void, Integer> GET = EntityOp.of("get", Void.class, Integer.class);
  static final EntityType<Integer> ACCOUNT =
      EntityType.define("Account", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, amount) -> {
                ctx.setState(ctx.state() + amount);
                return null;
              })
          .operation(GET, (ctx, none) -> ctx.state());

  /** "from to amount": moves the amount between two accounts in a critical section. */
  static final OrchestrationRef<String, Boolean> TRANSFER =
      OrchestrationRef.of("Transfer", String.class, Boolean.class);

  static Boolean transfer(dev.netherite.dsl.OrchestrationContext ctx, String t) {
    String[] parts = t.split(" ");
    EntityId from = ACCOUNT.id(parts[0]);
    EntityId to = ACCOUNT.id(parts[1]);
    int amount = Integer.parseInt(parts[2]);
    try (CriticalSection section = ctx.lockEntities(from, to)) {
      Task.allOf(ctx.callEntity(from, ADD, -amount), ctx.callEntity(to, ADD, amount)).await();
      return true;
    }
  }

  @Test
  void theEngineServesAgainSoonAfterCassandraIsBackAndLosesNothingAcknowledged() throws Exception {
    int[] ports = freePorts();
    Path data = Path.of("target", "outage-cassandra-" + ports[0]);
    EmbeddedCassandra cassandra =
        EmbeddedCassandra.builder()
            .cqlPort(ports[0])
            .storagePort(ports[1])
            .dataDirectory(data)
            .clean(true) // once, at the first start; the restart keeps the data
            .build();
    assertEquals(EmbeddedCassandra.CommitlogSync.BATCH, cassandra.commitlogSync(), "shipped");
    Workflows app =
        TestWorkflows.register(Workflows.builder())
            .entity(ACCOUNT)
            .orchestration(TRANSFER, CassandraOutageTest::transfer)
            .build();
    AtomicBoolean running = new AtomicBoolean(true);
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    Set<String> acknowledgedTransfers = ConcurrentHashMap.newKeySet();
    AtomicInteger storeUnavailable = new AtomicInteger();
    AtomicInteger otherFailures = new AtomicInteger();
    AtomicLong lastAckNanos = new AtomicLong();
    List<Thread> clients = new ArrayList<>();
    try (LogCapture log = new LogCapture(Level.INFO)) {
      cassandra.start();
      try (DurableRuntime runtime =
          DurableRuntime.start(
              app,
              ConfigFactory.parseMap(
                      Map.of(
                          "netherite.task-hub", RuntimeTestKit.newTaskHub("outage"),
                          "netherite.partition-count", PARTITIONS,
                          "netherite.client.attempt-timeout", "1500ms",
                          "netherite.client.request-timeout", "10s",
                          "datastax-java-driver.basic.contact-points",
                              List.of(cassandra.contactPoint()),
                          "pekko.actor.serialize-messages", "on",
                          "pekko.loglevel", "WARNING"))
                  .withFallback(ConfigFactory.parseResources("netherite/conf/single-node.conf")))) {
        DurableClient client = runtime.client();
        AtomicInteger next = new AtomicInteger();
        for (int c = 0; c < 4; c++) {
          boolean bank = c == 3;
          clients.add(
              Thread.ofVirtual()
                  .start(
                      () -> {
                        while (running.get()) {
                          int n = next.incrementAndGet();
                          String id = (bank ? "t-" : "h-") + n;
                          try {
                            if (bank) {
                              int a = n % ACCOUNTS;
                              client.start(
                                  TRANSFER,
                                  "a" + a + " a" + ((a + 1) % ACCOUNTS) + " " + (1 + n % 5),
                                  StartOptions.withInstanceId(id));
                              acknowledgedTransfers.add(id);
                            } else {
                              client.start(
                                  TestWorkflows.HELLO5, null, StartOptions.withInstanceId(id));
                              acknowledged.add(id);
                            }
                            lastAckNanos.set(System.nanoTime());
                          } catch (StoreUnavailableException e) {
                            storeUnavailable.incrementAndGet();
                            sleep(50);
                          } catch (RuntimeException e) {
                            otherFailures.incrementAndGet(); // e.g. a timeout at the kill
                            sleep(50);
                          }
                        }
                      }));
        }
        sleep(6000);
        int before = acknowledged.size() + acknowledgedTransfers.size();
        long killNanos = System.nanoTime();
        ProcessHandle.of(cassandra.pid()).orElseThrow().destroyForcibly();
        ProcessHandle.of(cassandra.pid()).orElseThrow().onExit().join();
        sleep(3000);
        cassandra.start(); // same data directory; returns once CQL accepts sessions
        long backNanos = System.nanoTime();
        // The first start acknowledged after Cassandra's return, then one on every partition.
        while (lastAckNanos.get() < backNanos) {
          assertTrue(System.nanoTime() - backNanos < 60_000_000_000L, "no ack in 60 s");
          sleep(10);
        }
        long firstAckMs = (lastAckNanos.get() - backNanos) / 1_000_000;
        for (int p = 0; p < PARTITIONS; p++) {
          InstanceId probe = null;
          while (probe == null) {
            try {
              probe =
                  client.start(
                      TestWorkflows.HELLO5, null, StartOptions.withInstanceId("probe!" + p));
            } catch (RuntimeException e) {
              sleep(20);
            }
          }
        }
        long allMs = (System.nanoTime() - backNanos) / 1_000_000;
        System.out.printf(
            "MEASURE cassandra-outage commitlog_sync=batch killed_after_acks=%d outage_ms=%d"
                + " first_ack_after_return_ms=%d all_partitions_after_return_ms=%d"
                + " store_unavailable_errors=%d other_failures=%d%n",
            before,
            (backNanos - killNanos) / 1_000_000,
            firstAckMs,
            allMs,
            storeUnavailable.get(),
            otherFailures.get());
        sleep(2000); // load after the return
        running.set(false);
        for (Thread t : clients) {
          t.join();
        }

        for (String id : acknowledged) {
          InstanceStatus s = client.waitForCompletion(InstanceId.of(id), Duration.ofSeconds(30));
          assertEquals(RuntimeStatus.COMPLETED, s.runtimeStatus(), id);
          assertEquals(TestWorkflows.HELLO5_OUTPUT, s.output(List.class), id);
        }
        for (String id : acknowledgedTransfers) {
          InstanceStatus s = client.waitForCompletion(InstanceId.of(id), Duration.ofSeconds(30));
          assertEquals(RuntimeStatus.COMPLETED, s.runtimeStatus(), id);
        }
        int total = 0;
        for (int a = 0; a < ACCOUNTS; a++) {
          Integer balance = client.readEntity(ACCOUNT, "a" + a).state();
          total += balance == null ? 0 : balance;
        }
        assertEquals(0, total, "money is conserved");
        assertTrue(storeUnavailable.get() > 0, "clients were told the store was unavailable");
        assertTrue(allMs < 20_000, "every partition serves within 20 s: " + allMs + " ms");
        assertEquals(
            1,
            log.containing("The store (Cassandra) is unavailable since").size(),
            "one WARN per outage: " + log.containing("unavailable"));
        assertEquals(1, log.containing("The store (Cassandra) is available again").size());
        assertEquals(List.of(), log.containing("Last known sequence number"));
        assertEquals(
            List.of(), log.containing("stopped; starting it again"), "no restart WARN per retry");
      }
    } finally {
      running.set(false);
      cassandra.stop();
      deleteQuietly(data);
    }
  }

  private static int[] freePorts() throws IOException {
    try (ServerSocket a = new ServerSocket(0);
        ServerSocket b = new ServerSocket(0)) {
      return new int[] {a.getLocalPort(), b.getLocalPort()};
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      System.err.println("cannot delete " + dir + ": " + e);
    }
  }
}
