package dev.netherite.samples.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import java.util.List;
import org.junit.jupiter.api.Test;

/** NodeMain's command line: what it sets, and the messages for mistakes. */
class NodeMainConfigTest {

  @Test
  void theCommandLineSetsPortSeedsCassandraTaskHubAndPartitions() {
    Config c =
        NodeMain.config(
            new String[] {
              "--port", "2552", "--seed", "127.0.0.1:2551", "--seed", "10.0.0.5:2551",
              "--cassandra", "10.0.0.9:9042", "--task-hub", "orders", "--partitions", "24"
            });
    assertEquals(2552, c.getInt("pekko.remote.artery.canonical.port"));
    assertEquals(
        List.of("pekko://netherite@127.0.0.1:2551", "pekko://netherite@10.0.0.5:2551"),
        c.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(
        List.of("10.0.0.9:9042"), c.getStringList("datastax-java-driver.basic.contact-points"));
    assertEquals("orders", c.getString("netherite.task-hub"));
    assertEquals(24, c.getInt("netherite.partition-count"));
    // From the cluster-node overlay:
    assertEquals("cluster", c.getString("pekko.actor.provider"));
    assertEquals(
        "keep-majority", c.getString("pekko.cluster.split-brain-resolver.active-strategy"));
  }

  @Test
  void mistakesAreNamed() {
    assertEquals("Unknown option --prot.", message("--prot", "2552"));
    assertEquals(
        "--port must be a port between 1 and 65535; it is 70000.", message("--port", "70000"));
    assertEquals(
        "--seed takes HOST:PORT, e.g. 127.0.0.1:2551; it is '2551'.", message("--seed", "2551"));
    assertEquals(
        "--partitions must be a number; it is 'twelve'.", message("--partitions", "twelve"));
    assertEquals("--port needs a value.", message("--port"));
    assertEquals("--config /no/such.conf: no such file.", message("--config", "/no/such.conf"));
  }

  private static String message(String... args) {
    return assertThrows(IllegalArgumentException.class, () -> NodeMain.config(args)).getMessage();
  }
}
