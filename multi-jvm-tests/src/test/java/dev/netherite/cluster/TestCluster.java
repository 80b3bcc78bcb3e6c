package dev.netherite.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.netherite.cassandra.TestCassandra;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Node JVMs forked for one test, on 127.0.0.1 against the shared test Cassandra, all on a task hub
 * of the test's own. {@link #close()} kills every node still running, and a JVM shutdown hook does
 * too if the test JVM is stopped (e.g. by Surefire's timeout) before that.
 */
final class TestCluster implements AutoCloseable {
  static final int PARTITIONS = 12;
  static final Duration NODE_START = Duration.ofSeconds(120);

  /** Every node any test started and did not yet destroy. */
  private static final Set<NodeProcess> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> LIVE.forEach(NodeProcess::destroy), "kill-test-nodes"));
  }

  /** Lines that are not an error although a node logs them at ERROR level; none so far. */
  private static final List<Pattern> EXPECTED_ERRORS = List.of();

  private final String taskHub;
  private final List<String> nodeArgs;
  private final String cassandra;
  private final Path logDir;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private int seedPort;
  private String seedHost;

  TestCluster(String testName) {
    this(testName, List.of());
  }

  /** With {@code nodeArgs} added to every node's command line (e.g. {@code --config FILE}). */
  TestCluster(String testName, List<String> nodeArgs) {
    this.nodeArgs = List.copyOf(nodeArgs);
    this.taskHub =
        testName + "-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis() % 100_000;
    this.cassandra = TestCassandra.contactPoint();
    this.logDir =
        Path.of(System.getProperty("netherite.node.log-dir", "target/node-logs"), taskHub);
  }

  Path logDir() {
    return logDir;
  }

  String taskHub() {
    return taskHub;
  }

  /** Forks a node; the first one is the seed node. Does not wait for it to be up. */
  NodeProcess launch() {
    return launch(List.of(), "127.0.0.1", cassandra);
  }

  /**
   * Forks a node with {@code prefix} before its java command (e.g. {@code ip netns exec NS}),
   * listening on {@code host}, reaching Cassandra at {@code cassandraContact}; the first one is the
   * seed node.
   */
  NodeProcess launch(List<String> prefix, String host, String cassandraContact) {
    int port = freePort();
    if (nodes.isEmpty()) {
      seedPort = port;
      seedHost = host;
    }
    String name = "node" + (nodes.size() + 1);
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dpekko.remote.artery.canonical.hostname=" + host);
    command.addAll(
        Arrays.asList(System.getProperty("netherite.node.jvm-flags", "").trim().split("\\s+")));
    command.addAll(
        List.of(
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            // Requests to a partition of a crashed node wait for its recovery elsewhere (tens of
            // seconds).
            "-Dnetherite.client.request-timeout=180s",
            "-cp",
            nodeClasspath(),
            "dev.netherite.samples.cluster.NodeMain",
            "--port",
            Integer.toString(port),
            "--seed",
            seedHost + ":" + seedPort,
            "--cassandra",
            cassandraContact,
            "--task-hub",
            taskHub,
            "--partitions",
            Integer.toString(PARTITIONS)));
    command.addAll(nodeArgs);
    try {
      NodeProcess node = new NodeProcess(name, port, command, logDir.resolve(name + ".log"));
      LIVE.add(node);
      nodes.add(node);
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException("could not fork " + name, e);
    }
  }

  /**
   * Starts {@code n} nodes (the seed first, the others together) and waits until all are up in one
   * cluster.
   */
  List<NodeProcess> start(int n) {
    NodeProcess seed = launch();
    seed.await("NODE UP", NODE_START);
    List<NodeProcess> started = new ArrayList<>(List.of(seed));
    for (int i = 1; i < n; i++) {
      started.add(launch());
    }
    for (NodeProcess node : started) {
      node.await("NODE UP", NODE_START);
    }
    awaitMembersUp(seed, n, NODE_START);
    return started;
  }

  /** Waits until {@code node} sees {@code n} members up. */
  static void awaitMembersUp(NodeProcess node, int n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int up;
    while ((up =
            Integer.parseInt(
                node.ask("members", "^MEMBERS up=(\\d+)", Duration.ofSeconds(30)).group(1)))
        != n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            node.name + " sees " + up + " members up, expected " + n + " within " + timeout);
      }
      sleep(Duration.ofMillis(500));
    }
  }

  private static String nodeClasspath() {
    String file = System.getProperty("netherite.node.classpath-file");
    if (file == null || file.isBlank()) {
      throw new IllegalStateException(
          "netherite.node.classpath-file is not set: run these tests with Maven (the module's POM writes the node classpath).");
    }
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the node classpath " + file, e);
    }
  }

  /**
   * The node JVMs' Artery ports come from a range of their own (25500-25599, {@code
   * netherite.node.port-range}), so that nodes of concurrent test runs on one machine do not meet.
   */
  private static final int[] PORT_RANGE =
      Arrays.stream(System.getProperty("netherite.node.port-range", "25500-25599").split("-"))
          .mapToInt(Integer::parseInt)
          .toArray();

  private static int nextPort = PORT_RANGE[0];

  private static synchronized int freePort() {
    for (int tried = 0; tried <= PORT_RANGE[1] - PORT_RANGE[0]; tried++) {
      int port = nextPort;
      nextPort = port >= PORT_RANGE[1] ? PORT_RANGE[0] : port + 1;
      try (ServerSocket socket = new ServerSocket(port)) {
        return port;
      } catch (IOException busy) {
        // taken (a node of another run, or one of ours still closing): try the next
      }
    }
    throw new IllegalStateException(
        "No free port in " + PORT_RANGE[0] + "-" + PORT_RANGE[1] + " for a node JVM.");
  }

  /** The partitions each node hosts now. */
  static Map<NodeProcess, Set<Integer>> placement(List<NodeProcess> nodes) {
    Map<NodeProcess, Set<Integer>> placement = new LinkedHashMap<>();
    for (NodeProcess node : nodes) {
      placement.put(node, partitionsOf(node));
    }
    return placement;
  }

  static Set<Integer> partitionsOf(NodeProcess node) {
    Matcher m = node.ask("partitions", "^PARTITIONS ?(.*)$", Duration.ofSeconds(30));
    Set<Integer> partitions = new TreeSet<>();
    for (String p : m.group(1).split(",")) {
      if (!p.isBlank()) {
        partitions.add(Integer.parseInt(p.strip()));
      }
    }
    return partitions;
  }

  /**
   * Waits until the nodes host every partition exactly once between them, with counts that differ
   * by at most one; returns that placement.
   */
  static Map<NodeProcess, Set<Integer>> awaitEvenSpread(List<NodeProcess> nodes, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<NodeProcess, Set<Integer>> placement;
    while (true) {
      placement = placement(nodes);
      if (isEvenSpread(placement)) {
        return placement;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "partitions not evenly spread within " + timeout + ": " + describe(placement));
      }
      sleep(Duration.ofSeconds(1));
    }
  }

  static boolean isEvenSpread(Map<NodeProcess, Set<Integer>> placement) {
    Set<Integer> all = new TreeSet<>();
    int total = 0;
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (Set<Integer> partitions : placement.values()) {
      all.addAll(partitions);
      total += partitions.size();
      min = Math.min(min, partitions.size());
      max = Math.max(max, partitions.size());
    }
    return all.size() == PARTITIONS && total == PARTITIONS && max - min <= 1;
  }

  static String describe(Map<NodeProcess, Set<Integer>> placement) {
    StringBuilder s = new StringBuilder();
    placement.forEach(
        (node, partitions) -> s.append(node.name).append('=').append(partitions).append(' '));
    return s.toString().strip();
  }

  /**
   * Starts a load on {@code node}: {@code count} units of {@code workload} at {@code perSecond}.
   */
  static void load(NodeProcess node, String workload, String run, int count, double perSecond) {
    node.ask(
        "load " + workload + " " + run + " " + count + " " + perSecond,
        "LOAD STARTED " + Pattern.quote(run) + " workload=" + workload,
        Duration.ofSeconds(30));
  }

  /** Waits until every start of the load is durable; fails if any start failed. */
  static void awaitLoadDone(NodeProcess node, String workload, String run, Duration timeout) {
    Matcher m =
        node.await(
            "LOAD (DONE|FAILED) " + Pattern.quote(run) + " workload=" + workload + ".*", timeout);
    assertEquals("DONE", m.group(1), m.group());
  }

  /** Verifies a run from {@code node} (any node: the client reaches every partition). */
  static void verify(NodeProcess node, String workload, String run, int count, Duration timeout) {
    int from = node.mark();
    node.send("verify " + workload + " " + run + " " + count + " " + timeout.toSeconds());
    Matcher m =
        node.await(
            from,
            "VERIFY (OK|FAILED) " + Pattern.quote(run) + " workload=" + workload + ".*",
            timeout.plusSeconds(60));
    if (!m.group(1).equals("OK")) {
      List<String> problems =
          node.lines().stream()
              .skip(from)
              .filter(l -> l.startsWith("VERIFY PROBLEM " + run))
              .toList();
      throw new AssertionError(m.group() + "\n" + String.join("\n", problems));
    }
  }

  /**
   * A partition's recovery as it logs it: {@code partition P recovered in T ms: I instances,
   * checkpoint at seqNr S + E events replayed}.
   */
  record Recovery(
      NodeProcess node,
      int partition,
      long millis,
      int instances,
      long checkpointSeqNr,
      long replayed) {}

  private static final Pattern RECOVERED =
      Pattern.compile(
          "partition (\\d+) recovered in (\\d+) ms: (\\d+) instances, checkpoint at seqNr (\\d+) \\+ (\\d+) events replayed");

  /**
   * The first recovery of each partition logged by {@code nodes} after their marks ({@link
   * NodeProcess#mark()}).
   */
  static Map<Integer, Recovery> recoveriesSince(Map<NodeProcess, Integer> marks) {
    Map<Integer, Recovery> first = new TreeMap<>();
    marks.forEach(
        (node, mark) -> {
          for (String line : node.lines().subList(mark, node.lines().size())) {
            Matcher m = RECOVERED.matcher(line);
            if (m.find()) {
              Recovery r =
                  new Recovery(
                      node,
                      Integer.parseInt(m.group(1)),
                      Long.parseLong(m.group(2)),
                      Integer.parseInt(m.group(3)),
                      Long.parseLong(m.group(4)),
                      Long.parseLong(m.group(5)));
              first.putIfAbsent(r.partition(), r);
            }
          }
        });
    return first;
  }

  static Map<NodeProcess, Integer> marks(List<NodeProcess> nodes) {
    Map<NodeProcess, Integer> marks = new LinkedHashMap<>();
    nodes.forEach(n -> marks.put(n, n.mark()));
    return marks;
  }

  /** Fails if any node logged an ERROR (or a console command failed) that is not expected. */
  void assertNoUnexpectedErrors() {
    List<String> errors = new ArrayList<>();
    for (NodeProcess node : nodes) {
      for (String line : node.lines()) {
        boolean error =
            line.contains(" ERROR ")
                || line.startsWith("COMMAND FAILED")
                || line.startsWith("Exception in thread");
        if (error && EXPECTED_ERRORS.stream().noneMatch(p -> p.matcher(line).find())) {
          errors.add(node.name + ": " + line);
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new AssertionError(
          "unexpected errors in the nodes' logs (" + logDir + "):\n" + String.join("\n", errors));
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted");
    }
  }

  @Override
  public void close() {
    for (NodeProcess node : nodes) {
      node.destroy();
      LIVE.remove(node);
    }
  }
}
