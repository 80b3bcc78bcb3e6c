package dev.netherite.cluster;

import static dev.netherite.cluster.TestCluster.awaitEvenSpread;
import static dev.netherite.cluster.TestCluster.awaitLoadDone;
import static dev.netherite.cluster.TestCluster.awaitMembersUp;
import static dev.netherite.cluster.TestCluster.describe;
import static dev.netherite.cluster.TestCluster.load;
import static dev.netherite.cluster.TestCluster.partitionsOf;
import static dev.netherite.cluster.TestCluster.verify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A network partition between nodes: three nodes, all reaching Cassandra, and one of them cut off
 * from the other two, so two nodes (the majority) and one (the minority) no longer reach each
 * other. With a Hello5 and a Bank load running across it: the majority keeps serving every
 * partition, the minority downs itself and leaves (keep-majority), no partition is written by two
 * hosts (the journal's writers never interleave), and after the cut is healed every instance has
 * completed exactly once and money is conserved.
 *
 * <p>The cut is real where the test can make network namespaces (each node on a test host of its
 * own, {@link TestNetwork}, whose link goes down), and otherwise at the transport (Artery's test
 * mode drops the messages between the two sides); {@link NetworkSplit} chooses and prints which.
 * The second test always cuts at the transport, so that the fallback is tested everywhere.
 */
class NetworkPartitionTest {
  private static final Duration SPREAD = Duration.ofSeconds(60);
  private static final Duration LOAD = Duration.ofSeconds(180);

  @Test
  @Timeout(300)
  void theMajorityKeepsServingAndTheMinorityDownsItself() {
    partitionAndHeal(NetworkSplit.requested());
  }

  @Test
  @Timeout(300)
  void theSameWithTheCutAtTheTransport() {
    partitionAndHeal(NetworkSplit.Mechanism.BLACKHOLE);
  }

  private static void partitionAndHeal(NetworkSplit.Mechanism mechanism) {
    try (NetworkSplit split = NetworkSplit.create(3, mechanism);
        TestCluster cluster = new TestCluster("netsplit-" + split.name(), split.nodeArgs())) {
      String label = "netsplit (" + split.name() + ")";
      List<NodeProcess> nodes = new ArrayList<>();
      nodes.add(split.launch(cluster, 1));
      nodes.get(0).await("NODE UP", Duration.ofSeconds(90));
      for (int i = 2; i <= 3; i++) {
        nodes.add(split.launch(cluster, i));
      }
      for (NodeProcess node : nodes) {
        node.await("NODE UP", Duration.ofSeconds(90));
      }
      awaitMembersUp(nodes.get(0), 3, Duration.ofSeconds(90));
      awaitEvenSpread(nodes, SPREAD);
      NodeProcess driver = nodes.get(0);
      NodeProcess minority = nodes.get(2);
      List<NodeProcess> majority = List.of(nodes.get(0), nodes.get(1));
      Set<Integer> lost = partitionsOf(minority);
      assertFalse(lost.isEmpty());

      load(driver, "hello5", "n", 200, 25);
      load(driver, "bank", "n", 150, 15);
      driver.await("LOAD PROGRESS n workload=hello5 started=60\\b", LOAD);
      long cut = System.nanoTime();
      split.cut(nodes, 3);
      String all =
          IntStream.range(0, TestCluster.PARTITIONS)
              .mapToObj(String::valueOf)
              .collect(Collectors.joining(","));
      driver.ask("await-serving " + all + " 120", "SERVING ALL ms=(\\d+)", Duration.ofSeconds(150));
      System.out.printf(
          "MEASURE %s: every partition (the minority's %s among them) serves on the majority"
              + " %d ms after the cut%n",
          label, lost, (System.nanoTime() - cut) / 1_000_000);
      assertTrue(
          minority.waitForExit(Duration.ofSeconds(60)),
          "the minority node did not down itself and exit within 60 s of the cut");
      assertTrue(
          minority.lines().stream()
              .anyMatch(l -> l.contains("SBR took decision") && l.contains("including myself")),
          "the minority node exited without its split-brain resolver downing it");
      System.out.printf(
          "MEASURE %s: the minority node exited %d ms after the cut%n",
          label, (System.nanoTime() - cut) / 1_000_000);
      Map<NodeProcess, Set<Integer>> placement = awaitEvenSpread(majority, SPREAD);
      placement.values().forEach(p -> assertEquals(6, p.size(), describe(placement)));
      split.heal(nodes, 3);

      awaitLoadDone(driver, "hello5", "n", LOAD);
      awaitLoadDone(driver, "bank", "n", LOAD);
      verify(nodes.get(1), "hello5", "n", 200, LOAD);
      verify(nodes.get(1), "bank", "n", 150, LOAD);
      JournalCheck.assertWritersNeverInterleave(cluster.taskHub(), TestCluster.PARTITIONS);
      cluster.assertNoUnexpectedErrors();
    }
  }
}
