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

import dev.netherite.cassandra.TestCassandra;
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
 * A network partition between nodes: three nodes, each on a test host of its own (a network
 * namespace, {@link TestNetwork}), all reaching Cassandra; the link of one is cut, so two nodes
 * (the majority) and one (the minority) no longer reach each other. With a Hello5 and a Bank load
 * running across it: the majority keeps serving every partition, the minority downs itself and
 * leaves (keep-majority), no partition is written by two hosts (the journal's writers never
 * interleave), and after the link is healed every instance has completed exactly once and money is
 * conserved.
 */
class NetworkPartitionTest {
  private static final Duration SPREAD = Duration.ofSeconds(60);
  private static final Duration LOAD = Duration.ofSeconds(180);

  @Test
  @Timeout(300)
  void theMajorityKeepsServingAndTheMinorityDownsItself() {
    try (TestNetwork network = createNetwork();
        TestCluster cluster = new TestCluster("netsplit")) {
      List<NodeProcess> nodes = new ArrayList<>();
      nodes.add(cluster.launch(network.prefix(1), network.address(1), network.cassandraContact()));
      nodes.get(0).await("NODE UP", Duration.ofSeconds(90));
      for (int i = 2; i <= 3; i++) {
        nodes.add(
            cluster.launch(network.prefix(i), network.address(i), network.cassandraContact()));
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
      network.cut(3);
      String all =
          IntStream.range(0, TestCluster.PARTITIONS)
              .mapToObj(String::valueOf)
              .collect(Collectors.joining(","));
      driver.ask("await-serving " + all + " 120", "SERVING ALL ms=(\\d+)", Duration.ofSeconds(150));
      System.out.printf(
          "MEASURE netsplit: every partition (the minority's %s among them) serves on the majority"
              + " %d ms after the cut%n",
          lost, (System.nanoTime() - cut) / 1_000_000);
      assertTrue(
          minority.waitForExit(Duration.ofSeconds(60)),
          "the minority node did not down itself and exit within 60 s of the cut");
      assertTrue(
          minority.lines().stream()
              .anyMatch(l -> l.contains("SBR took decision") && l.contains("including myself")),
          "the minority node exited without its split-brain resolver downing it");
      System.out.printf(
          "MEASURE netsplit: the minority node exited %d ms after the cut%n",
          (System.nanoTime() - cut) / 1_000_000);
      Map<NodeProcess, Set<Integer>> placement = awaitEvenSpread(majority, SPREAD);
      placement.values().forEach(p -> assertEquals(6, p.size(), describe(placement)));
      network.heal(3);

      awaitLoadDone(driver, "hello5", "n", LOAD);
      awaitLoadDone(driver, "bank", "n", LOAD);
      verify(nodes.get(1), "hello5", "n", 200, LOAD);
      verify(nodes.get(1), "bank", "n", 150, LOAD);
      JournalCheck.assertWritersNeverInterleave(cluster.taskHub(), TestCluster.PARTITIONS);
      cluster.assertNoUnexpectedErrors();
    }
  }

  private static TestNetwork createNetwork() {
    try {
      return TestNetwork.create(3, TestCassandra.contactPoint());
    } catch (IllegalStateException e) {
      throw new AssertionError(
          "This test needs network namespaces (root, the ip command, a kernel that allows them),"
              + " and a transport-level fallback is not built: "
              + e.getMessage(),
          e);
    }
  }
}
