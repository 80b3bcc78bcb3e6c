package dev.netherite.cluster;

import static dev.netherite.cluster.TestCluster.awaitEvenSpread;
import static dev.netherite.cluster.TestCluster.awaitLoadDone;
import static dev.netherite.cluster.TestCluster.describe;
import static dev.netherite.cluster.TestCluster.load;
import static dev.netherite.cluster.TestCluster.partitionsOf;
import static dev.netherite.cluster.TestCluster.verify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults between nodes beyond a crash of an ordinary node (that one is in {@link
 * ClusterElasticityTest}): process-per-node, against the shared test Cassandra, each test on a task
 * hub of its own, with a Hello5 and a Bank load running across the fault; every instance must
 * complete exactly once and money must be conserved ({@code verify}). Every test fails on an
 * unexpected ERROR in a node's log and kills its nodes on every exit path.
 */
class ClusterFaultsTest {
  private static final Duration SPREAD = Duration.ofSeconds(60);
  private static final Duration LOAD = Duration.ofSeconds(180);
  private static final Duration VERIFY = Duration.ofSeconds(180);

  /**
   * The oldest node hosts the sharding coordinator (a cluster singleton): killing it moves the
   * coordinator as well as the node's partitions, which the survivors must find again.
   */
  @Test
  @Timeout(300)
  void killingTheOldestNodeUnderLoadMovesTheCoordinatorAndLosesNothing() {
    try (TestCluster cluster = new TestCluster("kill-oldest")) {
      List<NodeProcess> nodes = cluster.start(3);
      awaitEvenSpread(nodes, SPREAD);
      NodeProcess oldest = nodes.get(0);
      NodeProcess driver = nodes.get(1);
      Set<Integer> lost = partitionsOf(oldest);
      assertFalse(lost.isEmpty());

      load(driver, "hello5", "o", 200, 25);
      load(driver, "bank", "o", 150, 15);
      driver.await("LOAD PROGRESS o workload=hello5 started=60\\b", LOAD);
      long killed = System.nanoTime();
      oldest.kill();
      Matcher serving =
          driver.ask(
              "await-serving " + join(lost) + " 120",
              "SERVING ALL ms=(\\d+)",
              Duration.ofSeconds(150));
      System.out.printf(
          "MEASURE kill-oldest: partitions %s of the killed oldest node (the coordinator's host) serve"
              + " again on the survivors %d ms after kill -9 (probe answered %d ms after it was"
              + " sent)%n",
          lost, (System.nanoTime() - killed) / 1_000_000, Long.parseLong(serving.group(1)));

      List<NodeProcess> survivors = List.of(nodes.get(1), nodes.get(2));
      Map<NodeProcess, Set<Integer>> placement = awaitEvenSpread(survivors, SPREAD);
      placement.values().forEach(p -> assertEquals(6, p.size(), describe(placement)));

      awaitLoadDone(driver, "hello5", "o", LOAD);
      awaitLoadDone(driver, "bank", "o", LOAD);
      verify(nodes.get(2), "hello5", "o", 200, VERIFY);
      verify(nodes.get(2), "bank", "o", 150, VERIFY);
      cluster.assertNoUnexpectedErrors();
    }
  }

  /**
   * A node stopped (SIGSTOP) past the split-brain resolver's decision is downed, and its partitions
   * recover on the others; resumed (SIGCONT), it must not write a single event for them (their
   * partition leases have lapsed), and it leaves the cluster. The journal shows it: within each
   * partition's log, a writer that was replaced never writes again, and no sequence number is
   * written twice.
   */
  @Test
  @Timeout(300)
  void aPausedNodeWritesNothingForItsMovedPartitionsAndLeaves() {
    try (TestCluster cluster = new TestCluster("zombie")) {
      List<NodeProcess> nodes = cluster.start(3);
      awaitEvenSpread(nodes, SPREAD);
      NodeProcess driver = nodes.get(0);
      NodeProcess zombie = nodes.get(2);
      Set<Integer> moved = partitionsOf(zombie);
      assertFalse(moved.isEmpty());

      load(driver, "hello5", "z", 200, 25);
      load(driver, "bank", "z", 150, 15);
      driver.await("LOAD PROGRESS z workload=hello5 started=60\\b", LOAD);
      List<NodeProcess> others = List.of(nodes.get(0), nodes.get(1));
      Map<NodeProcess, Integer> beforeStop = new HashMap<>();
      others.forEach(n -> beforeStop.put(n, n.mark()));
      long stopped = System.nanoTime();
      zombie.signal("STOP");
      Matcher serving =
          driver.ask(
              "await-serving " + join(moved) + " 120",
              "SERVING ALL ms=(\\d+)",
              Duration.ofSeconds(150));
      System.out.printf(
          "MEASURE zombie: partitions %s of the stopped node serve on the others %d ms after SIGSTOP%n",
          moved, (System.nanoTime() - stopped) / 1_000_000);
      awaitEvenSpread(others, SPREAD);
      int resumedAt = zombie.mark();
      zombie.signal("CONT");
      assertTrue(
          zombie.waitForExit(Duration.ofSeconds(60)), "the resumed node did not leave within 60 s");
      System.out.printf(
          "MEASURE zombie: resumed after %d ms stopped; its log after resuming: %s%n",
          (System.nanoTime() - stopped) / 1_000_000,
          zombie.lines().subList(resumedAt, zombie.lines().size()).stream()
              .filter(l -> l.contains("lease") || l.contains("own") || l.contains("handed over"))
              .limit(8)
              .toList());

      awaitLoadDone(driver, "hello5", "z", LOAD);
      awaitLoadDone(driver, "bank", "z", LOAD);
      verify(nodes.get(1), "hello5", "z", 200, VERIFY);
      verify(nodes.get(1), "bank", "z", 150, VERIFY);
      JournalCheck.assertWritersNeverInterleave(cluster.taskHub(), TestCluster.PARTITIONS);
      JournalCheck.assertNothingOfTheOldWriterAfterTheFence(
          cluster.taskHub(), fencePoints(others, beforeStop, moved));
      cluster.assertNoUnexpectedErrors();
    }
  }

  /**
   * Where each of {@code moved} was fenced by its new host: the sequence number it recovered up to,
   * from the first "fenced its log" line after {@code from}.
   */
  static Map<Integer, Long> fencePoints(
      List<NodeProcess> hosts, Map<NodeProcess, Integer> from, Set<Integer> moved) {
    Pattern fenced = Pattern.compile("partition (\\d+) fenced its log after seqNr (\\d+)");
    Map<Integer, Long> points = new TreeMap<>();
    for (NodeProcess host : hosts) {
      List<String> lines = host.lines();
      for (String line : lines.subList(from.get(host), lines.size())) {
        Matcher m = fenced.matcher(line);
        if (m.find() && moved.contains(Integer.parseInt(m.group(1)))) {
          points.putIfAbsent(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
        }
      }
    }
    assertEquals(moved, points.keySet(), "fence lines of the moved partitions: " + points);
    return points;
  }

  static String join(Set<Integer> partitions) {
    return partitions.stream().map(String::valueOf).collect(Collectors.joining(","));
  }
}
