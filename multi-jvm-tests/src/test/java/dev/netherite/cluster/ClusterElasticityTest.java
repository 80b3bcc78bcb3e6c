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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Process-per-node tests: node JVMs ({@code NodeMain}) forked on 127.0.0.1 against the shared test
 * Cassandra, each test on a task hub of its own, with 12 partitions. The load is Hello5 (five
 * activities in sequence), Bank (in the kill test: transfers locking two of 24 accounts, money
 * conserved) and Greetings (three Hello5 sub-orchestrations each, on other partitions); {@code
 * verify} checks from another node than the one that started the load that every instance completed
 * with the right output and that its history shows every activity and sub-orchestration scheduled
 * once and completed once, and that no extra instance exists. Every test fails on an unexpected
 * ERROR in any node's log, and kills its nodes on every exit path.
 *
 * <p>Lines starting with {@code MEASURE} report timings for the record; nothing asserts on them.
 */
class ClusterElasticityTest {
  private static final Duration SPREAD = Duration.ofSeconds(90);
  private static final Duration LOAD = Duration.ofSeconds(240);
  private static final Duration VERIFY = Duration.ofSeconds(240);

  @Test
  @Timeout(420)
  void threeNodesSpreadPartitionsEvenlyAndCompleteHello5() {
    try (TestCluster cluster = new TestCluster("three-nodes")) {
      List<NodeProcess> nodes = cluster.start(3);
      Map<NodeProcess, Set<Integer>> placement = awaitEvenSpread(nodes, SPREAD);
      System.out.println("placement of 3 nodes: " + describe(placement));
      placement.values().forEach(p -> assertEquals(4, p.size(), describe(placement)));

      // Clients on different nodes, each reaching every partition.
      load(nodes.get(0), "hello5", "a", 150, 30);
      load(nodes.get(2), "hello5", "b", 150, 30);
      awaitLoadDone(nodes.get(0), "hello5", "a", LOAD);
      awaitLoadDone(nodes.get(2), "hello5", "b", LOAD);
      verify(nodes.get(1), "hello5", "a", 150, VERIFY);
      verify(nodes.get(0), "hello5", "b", 150, VERIFY);
      cluster.assertNoUnexpectedErrors();
    }
  }

  @Test
  @Timeout(480)
  void aFourthNodeJoinsUnderLoadAndTakesItsShare() {
    try (TestCluster cluster = new TestCluster("join")) {
      List<NodeProcess> nodes = cluster.start(3);
      awaitEvenSpread(nodes, SPREAD);
      NodeProcess driver = nodes.get(0);
      load(driver, "hello5", "j", 300, 25);
      load(driver, "greetings", "j", 50, 4);
      driver.await("LOAD PROGRESS j workload=hello5 started=60\\b", LOAD);

      long launched = System.nanoTime();
      NodeProcess fourth = cluster.launch();
      fourth.await("NODE UP", TestCluster.NODE_START);
      long up = System.nanoTime();
      Set<Integer> share;
      while ((share = partitionsOf(fourth)).size() < TestCluster.PARTITIONS / 4) {
        assertTrue(
            System.nanoTime() - up < SPREAD.toNanos(),
            "the new node took only " + share + " within " + SPREAD);
        TestCluster.sleep(Duration.ofMillis(250));
      }
      long hosting = System.nanoTime();
      Matcher serving =
          fourth.ask(
              "await-serving " + join(share) + " 120",
              "SERVING ALL ms=(\\d+)",
              Duration.ofSeconds(180));
      System.out.printf(
          "MEASURE join: node up %d ms after launch; hosts its share %s %d ms after up; serving it %d ms later%n",
          (up - launched) / 1_000_000,
          share,
          (hosting - up) / 1_000_000,
          Long.parseLong(serving.group(1)));

      List<NodeProcess> four = List.of(nodes.get(0), nodes.get(1), nodes.get(2), fourth);
      Map<NodeProcess, Set<Integer>> placement = awaitEvenSpread(four, SPREAD);
      placement.values().forEach(p -> assertEquals(3, p.size(), describe(placement)));

      awaitLoadDone(driver, "hello5", "j", LOAD);
      awaitLoadDone(driver, "greetings", "j", LOAD);
      verify(fourth, "hello5", "j", 300, VERIFY);
      verify(fourth, "greetings", "j", 50, VERIFY);
      cluster.assertNoUnexpectedErrors();
    }
  }

  @Test
  @Timeout(480)
  void aKilledNodesPartitionsRecoverOnTheSurvivorsAndEveryInstanceCompletesOnce() {
    try (TestCluster cluster = new TestCluster("kill")) {
      List<NodeProcess> nodes = cluster.start(3);
      awaitEvenSpread(nodes, SPREAD);
      NodeProcess driver = nodes.get(0);
      NodeProcess victim = nodes.get(2); // not the oldest node, which hosts the shard coordinator
      Set<Integer> lost = partitionsOf(victim);
      assertFalse(lost.isEmpty());

      load(driver, "hello5", "k", 300, 25);
      load(driver, "greetings", "k", 50, 4);
      load(driver, "bank", "k", 200, 15);
      driver.await("LOAD PROGRESS k workload=hello5 started=90\\b", LOAD);
      List<NodeProcess> survivors = List.of(nodes.get(0), nodes.get(1));
      Map<NodeProcess, Integer> beforeKill = TestCluster.marks(survivors);
      long killed = System.nanoTime();
      victim.kill();
      Matcher serving =
          driver.ask(
              "await-serving " + join(lost) + " 150",
              "SERVING ALL ms=(\\d+)",
              Duration.ofSeconds(200));
      System.out.printf(
          "MEASURE kill: partitions %s of the killed node serve again on the survivors %d ms after kill -9 (probe answered %d ms after it was sent)%n",
          lost, (System.nanoTime() - killed) / 1_000_000, Long.parseLong(serving.group(1)));

      Map<NodeProcess, Set<Integer>> placement = awaitEvenSpread(survivors, SPREAD);
      placement.values().forEach(p -> assertEquals(6, p.size(), describe(placement)));
      // The lost partitions came back with their state, from their checkpoint and log (ended
      // instances are read when needed, so the instances in memory may be none).
      Map<Integer, TestCluster.Recovery> recovered = TestCluster.recoveriesSince(beforeKill);
      for (int p : lost) {
        TestCluster.Recovery r = recovered.get(p);
        assertTrue(
            r != null && (r.checkpointSeqNr() > 0 || r.replayed() > 0),
            "partition " + p + " recovered on a survivor with its state: " + r);
        System.out.printf(
            "MEASURE kill: partition %d recovered on %s in %d ms: %d instances, checkpoint seqNr %d + %d events%n",
            p, r.node().name, r.millis(), r.instances(), r.checkpointSeqNr(), r.replayed());
      }

      awaitLoadDone(driver, "hello5", "k", LOAD);
      awaitLoadDone(driver, "greetings", "k", LOAD);
      awaitLoadDone(driver, "bank", "k", LOAD);
      verify(nodes.get(1), "hello5", "k", 300, VERIFY);
      verify(nodes.get(1), "greetings", "k", 50, VERIFY);
      verify(nodes.get(1), "bank", "k", 200, VERIFY);
      cluster.assertNoUnexpectedErrors();
    }
  }

  @Test
  @Timeout(420)
  void aGracefulLeaveUnderLoadHandsPartitionsOverAndLosesNothing() {
    try (TestCluster cluster = new TestCluster("leave")) {
      List<NodeProcess> nodes = cluster.start(3);
      awaitEvenSpread(nodes, SPREAD);
      NodeProcess driver = nodes.get(0);
      NodeProcess leaving = nodes.get(2);
      Set<Integer> handed = partitionsOf(leaving);

      load(driver, "hello5", "l", 300, 25);
      load(driver, "greetings", "l", 50, 4);
      driver.await("LOAD PROGRESS l workload=hello5 started=90\\b", LOAD);
      List<NodeProcess> remaining = List.of(nodes.get(0), nodes.get(1));
      Map<NodeProcess, Integer> beforeLeave = TestCluster.marks(remaining);
      long asked = System.nanoTime();
      leaving.terminate(); // SIGTERM: coordinated shutdown
      assertTrue(
          leaving.waitForExit(Duration.ofSeconds(90)), "the leaving node did not exit within 90 s");
      System.out.printf(
          "MEASURE leave: the node handed over %s and exited %d ms after SIGTERM%n",
          handed, (System.nanoTime() - asked) / 1_000_000);
      leaving.await("NODE LEAVING", Duration.ZERO);
      Set<Integer> checkpointed =
          leaving.lines().stream()
              .map(l -> Pattern.compile("partition (\\d+) handed over").matcher(l))
              .filter(Matcher::find)
              .map(m -> Integer.parseInt(m.group(1)))
              .collect(Collectors.toCollection(TreeSet::new));
      assertTrue(
          checkpointed.containsAll(handed), "handed over " + checkpointed + ", hosted " + handed);

      Map<NodeProcess, Set<Integer>> placement = awaitEvenSpread(remaining, SPREAD);
      placement.values().forEach(p -> assertEquals(6, p.size(), describe(placement)));
      // Each handed-over partition started on its new node from the final checkpoint, with nothing
      // to replay.
      Map<Integer, TestCluster.Recovery> recovered = TestCluster.recoveriesSince(beforeLeave);
      for (int p : handed) {
        TestCluster.Recovery r = recovered.get(p);
        assertTrue(
            r != null && r.checkpointSeqNr() > 0 && r.replayed() == 0,
            "partition " + p + " recovered from its final checkpoint alone: " + r);
      }

      awaitLoadDone(driver, "hello5", "l", LOAD);
      awaitLoadDone(driver, "greetings", "l", LOAD);
      verify(nodes.get(1), "hello5", "l", 300, VERIFY);
      verify(nodes.get(1), "greetings", "l", 50, VERIFY);
      cluster.assertNoUnexpectedErrors();
    }
  }

  private static String join(Set<Integer> partitions) {
    return partitions.stream().map(String::valueOf).collect(Collectors.joining(","));
  }
}
