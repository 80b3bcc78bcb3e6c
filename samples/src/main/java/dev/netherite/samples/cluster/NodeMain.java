package dev.netherite.samples.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.management.NetheriteManagement;
import dev.netherite.runtime.DurableRuntime;
import dev.netherite.samples.Samples;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Leave;

/**
 * A cluster node running the samples' application, with a console on standard input for operators
 * and the process-per-node tests. Run one per port against one Cassandra:
 *
 * <pre>
 * NodeMain --port 2551 --seed 127.0.0.1:2551 --cassandra 127.0.0.1:9042 [--task-hub NAME] [--partitions P]
 *          [--config FILE]
 * </pre>
 *
 * Configuration, strongest first: {@code -D} system properties, the command line, {@code --config
 * FILE}, the overlay {@code conf/cluster-node.conf}, the defaults. SIGTERM leaves gracefully
 * (partitions are handed over after a final checkpoint); kill -9 is a crash, recovered by the
 * survivors.
 *
 * <p>Console commands, one per line; each answer is one line starting with the command's tag:
 *
 * <ul>
 *   <li>{@code members} → {@code MEMBERS up=N}
 *   <li>{@code partitions} → {@code PARTITIONS p,p,...}: the partitions hosted here now
 *   <li>{@code load WORKLOAD RUN COUNT PER_SECOND} → {@code LOAD STARTED RUN ...}, then {@code LOAD
 *       DONE RUN ...} once every start is durable (or {@code LOAD FAILED RUN ...})
 *   <li>{@code verify WORKLOAD RUN COUNT TIMEOUT_S} → {@code VERIFY OK RUN ...} or {@code VERIFY
 *       FAILED RUN ...}
 *   <li>{@code await-serving p,p,... TIMEOUT_S} → {@code SERVING ALL ms=...} once each partition
 *       answers
 *   <li>{@code leave} → leaves the cluster gracefully and exits
 *   <li>{@code cut HOST:PORT} → {@code CUT HOST:PORT}: drops every message to and from that node at
 *       the transport, and {@code uncut HOST:PORT} → {@code UNCUT HOST:PORT} passes them again
 *       (tests only: needs {@code pekko.remote.artery.advanced.test-mode = on}, see {@code
 *       TransportFaults})
 * </ul>
 */
public final class NodeMain {
  private static final String USAGE =
      "usage: NodeMain --port N [--seed HOST:PORT]... [--cassandra HOST:PORT]... [--task-hub NAME] [--partitions P] [--config FILE]";

  private final DurableRuntime runtime;
  private final DurableClient client;
  private final ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();

  private NodeMain(DurableRuntime runtime) {
    this.runtime = runtime;
    this.client = runtime.client();
  }

  public static void main(String[] args) throws IOException {
    Config config;
    try {
      config = config(args);
    } catch (IllegalArgumentException | ConfigException e) {
      System.err.println("NodeMain: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    DurableRuntime runtime;
    try {
      runtime = DurableRuntime.start(Samples.app(), config);
    } catch (RuntimeException e) {
      System.err.println("NodeMain: the node did not start: " + e.getMessage());
      System.exit(1);
      return;
    }
    try {
      NetheriteManagement.startIfEnabled(runtime).ifPresent(m -> say("MANAGEMENT UP " + m.uri()));
    } catch (RuntimeException e) {
      System.err.println("NodeMain: " + e.getMessage());
      System.exit(1);
      return;
    }
    NodeMain node = new NodeMain(runtime);
    node.announceShutdown();
    say(
        "NODE UP address="
            + Cluster.get(runtime.system()).selfMember().address()
            + " task-hub="
            + runtime.settings().taskHub()
            + " partitions="
            + runtime.settings().partitionCount());
    node.console();
  }

  /**
   * The node's configuration from the command line over the cluster-node overlay; see the class
   * comment.
   */
  static Config config(String[] args) {
    Map<String, Object> flags = new HashMap<>();
    List<String> seeds = new ArrayList<>();
    List<String> cassandra = new ArrayList<>();
    Config file = ConfigFactory.empty();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value.");
      }
      String value = args[++i];
      switch (flag) {
        case "--port" -> flags.put("pekko.remote.artery.canonical.port", port(flag, value));
        case "--seed" -> seeds.add(hostPort(flag, value));
        case "--cassandra" -> cassandra.add(hostPort(flag, value));
        case "--task-hub" -> flags.put("netherite.task-hub", value);
        case "--partitions" -> flags.put("netherite.partition-count", integer(flag, value));
        case "--config" -> {
          File f = new File(value);
          if (!f.isFile()) {
            throw new IllegalArgumentException("--config " + value + ": no such file.");
          }
          file = ConfigFactory.parseFile(f);
        }
        default -> throw new IllegalArgumentException("Unknown option " + flag + ".");
      }
    }
    Config base =
        file.withFallback(
            ConfigFactory.parseResources(
                "netherite/conf/cluster-node.conf",
                ConfigParseOptions.defaults().setAllowMissing(false)));
    String systemName =
        ConfigFactory.systemProperties()
            .withFallback(flagsConfig(flags))
            .withFallback(base)
            .withFallback(ConfigFactory.load())
            .getString("netherite.actor-system-name");
    if (!seeds.isEmpty()) {
      flags.put(
          "pekko.cluster.seed-nodes",
          seeds.stream().map(s -> "pekko://" + systemName + "@" + s).toList());
    }
    if (!cassandra.isEmpty()) {
      flags.put("datastax-java-driver.basic.contact-points", cassandra);
    }
    return ConfigFactory.systemProperties().withFallback(flagsConfig(flags)).withFallback(base);
  }

  private static Config flagsConfig(Map<String, Object> flags) {
    return ConfigFactory.parseMap(flags);
  }

  private static int integer(String flag, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a number; it is '" + value + "'.");
    }
  }

  private static int port(String flag, String value) {
    int port = integer(flag, value);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          flag + " must be a port between 1 and 65535; it is " + port + ".");
    }
    return port;
  }

  private static String hostPort(String flag, String value) {
    int colon = value.lastIndexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException(
          flag + " takes HOST:PORT, e.g. 127.0.0.1:2551; it is '" + value + "'.");
    }
    port(flag, value.substring(colon + 1));
    return value;
  }

  private void announceShutdown() {
    CoordinatedShutdown.get(runtime.system())
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "netherite-node-announce",
            () -> {
              say("NODE LEAVING (handing over its partitions)");
              return CompletableFuture.completedFuture(Done.getInstance());
            });
    runtime.system().getWhenTerminated().thenRun(() -> say("NODE STOPPED"));
  }

  // ---------------------------------------------------------------- console

  private void console() throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] words = line.trim().split("\\s+");
      if (words[0].isEmpty()) {
        continue;
      }
      try {
        command(words);
      } catch (RuntimeException e) {
        say("COMMAND FAILED " + line + ": " + e);
      }
    }
    // End of input (e.g. started in the background): keep serving until stopped.
  }

  private void command(String[] w) {
    switch (w[0]) {
      case "members" -> {
        long up =
            StreamSupport.stream(
                    Cluster.get(runtime.system()).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up())
                .count();
        say("MEMBERS up=" + up);
      }
      case "partitions" -> {
        Set<Integer> mine =
            runtime.localPartitions(Duration.ofSeconds(5)).toCompletableFuture().join();
        say("PARTITIONS " + String.join(",", mine.stream().map(String::valueOf).toList()));
      }
      case "load" -> {
        Workload workload = Workload.named(w[1]);
        String run = w[2];
        int count = Integer.parseInt(w[3]);
        double perSecond = Double.parseDouble(w[4]);
        work.submit(() -> load(workload, run, count, perSecond));
      }
      case "verify" -> {
        Workload workload = Workload.named(w[1]);
        String run = w[2];
        int count = Integer.parseInt(w[3]);
        Duration timeout = Duration.ofSeconds(Long.parseLong(w[4]));
        work.submit(() -> verify(workload, run, count, timeout));
      }
      case "await-serving" -> {
        List<Integer> partitions =
            w[1].equals("-")
                ? List.of()
                : Arrays.stream(w[1].split(",")).map(Integer::valueOf).toList();
        Duration timeout = Duration.ofSeconds(Long.parseLong(w[2]));
        work.submit(() -> awaitServing(partitions, timeout));
      }
      case "leave" -> {
        Cluster cluster = Cluster.get(runtime.system());
        cluster.manager().tell(Leave.create(cluster.selfMember().address()));
        say("LEAVE requested");
      }
      case "cut", "uncut" -> {
        TransportFaults.set(runtime.system().classicSystem(), w[1], w[0].equals("cut"));
        say(w[0].toUpperCase(Locale.ROOT) + " " + w[1]);
      }
      default ->
          say(
              "COMMAND FAILED unknown command "
                  + w[0]
                  + " (members, partitions, load, verify, await-serving, leave, cut, uncut)");
    }
  }

  /** Starts {@code count} units at about {@code perSecond}, at most 64 starts in flight. */
  private void load(Workload workload, String run, int count, double perSecond) {
    long begin = System.nanoTime();
    Semaphore inFlight = new Semaphore(64);
    AtomicInteger done = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    say("LOAD STARTED " + run + " workload=" + workload.name() + " count=" + count);
    try (ExecutorService starters = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < count; i++) {
        long due = begin + (long) (i * 1e9 / perSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        inFlight.acquire();
        int index = i;
        starters.submit(
            () -> {
              try {
                workload.start(client, run, index);
                int n = done.incrementAndGet();
                if (n % Math.max(1, count / 10) == 0) {
                  say("LOAD PROGRESS " + run + " workload=" + workload.name() + " started=" + n);
                }
              } catch (RuntimeException e) {
                failures.add(index + ": " + e);
              } finally {
                inFlight.release();
              }
            });
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failures.add("interrupted");
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
    if (failures.isEmpty()) {
      say(
          "LOAD DONE "
              + run
              + " workload="
              + workload.name()
              + " started="
              + done.get()
              + " ms="
              + ms);
    } else {
      say(
          "LOAD FAILED "
              + run
              + " workload="
              + workload.name()
              + " failures="
              + failures.size()
              + " first: "
              + failures.peek());
    }
  }

  /** Verifies every unit (32 at a time) and then the run as a whole. */
  private void verify(Workload workload, String run, int count, Duration timeout) {
    long begin = System.nanoTime();
    Semaphore inFlight = new Semaphore(32);
    ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    try (ExecutorService checkers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < count; i++) {
        inFlight.acquire();
        int index = i;
        checkers.submit(
            () -> {
              try {
                problems.addAll(workload.verify(client, run, index, timeout));
              } catch (RuntimeException e) {
                problems.add("unit " + index + ": " + e);
              } finally {
                inFlight.release();
              }
            });
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      problems.add("interrupted");
    }
    if (problems.isEmpty()) {
      problems.addAll(workload.verifyRun(client, run, count));
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
    if (problems.isEmpty()) {
      say("VERIFY OK " + run + " workload=" + workload.name() + " count=" + count + " ms=" + ms);
    } else {
      problems.stream().limit(20).forEach(p -> say("VERIFY PROBLEM " + run + " " + p));
      say("VERIFY FAILED " + run + " workload=" + workload.name() + " problems=" + problems.size());
    }
  }

  /**
   * Asks each partition for an instance that does not exist, in parallel, and reports when each
   * answered: the time until a partition lost with a crashed node serves again on a survivor. The
   * client retries unanswered requests every {@code netherite.client.attempt-timeout}, which bounds
   * the resolution.
   */
  private void awaitServing(List<Integer> partitions, Duration timeout) {
    long begin = System.nanoTime();
    List<CompletableFuture<Void>> probes = new ArrayList<>();
    for (int p : partitions) {
      probes.add(
          CompletableFuture.runAsync(
              () -> {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (true) {
                  try {
                    client.getStatus(InstanceId.of("serving-probe!" + p));
                    say(
                        "SERVING p="
                            + p
                            + " ms="
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
                    return;
                  } catch (RuntimeException e) {
                    if (System.nanoTime() > deadline) {
                      say("SERVING FAILED p=" + p + ": " + e);
                      return;
                    }
                  }
                }
              },
              work));
    }
    CompletableFuture.allOf(probes.toArray(CompletableFuture[]::new)).join();
    say("SERVING ALL ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
