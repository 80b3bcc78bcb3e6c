package dev.netherite.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.netherite.cassandra.TestCassandra;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;

/**
 * How a test cuts the network between its node JVMs, by one of two mechanisms: {@link
 * Mechanism#NAMESPACES}, a real cut (each node on a test host of its own in a network namespace,
 * {@link TestNetwork}, whose link is taken down), or, where namespaces cannot be made (not root, no
 * {@code ip}, a container that forbids them), {@link Mechanism#BLACKHOLE}: the nodes on loopback
 * with Artery's test mode on, each side of the cut told on its console to drop every message to and
 * from the other side ({@code cut HOST:PORT}, NodeMain). System property {@value #PROPERTY}
 * chooses: {@code auto} (the default: namespaces if they can be made, else the blackhole), {@code
 * namespaces} (fails where they cannot be made) or {@code blackhole}.
 */
abstract sealed class NetworkSplit implements AutoCloseable {
  static final String PROPERTY = "netherite.test.network-partition";

  enum Mechanism {
    NAMESPACES,
    BLACKHOLE
  }

  /** The mechanism the system property asks for, {@code null} for {@code auto}. */
  static Mechanism requested() {
    String value = System.getProperty(PROPERTY, "auto").strip().toLowerCase(Locale.ROOT);
    return switch (value) {
      case "auto", "" -> null;
      case "namespaces" -> Mechanism.NAMESPACES;
      case "blackhole" -> Mechanism.BLACKHOLE;
      default ->
          throw new IllegalArgumentException(
              "-D"
                  + PROPERTY
                  + "="
                  + value
                  + " is not a mechanism: use auto (namespaces where they can be made, else the"
                  + " blackhole), namespaces or blackhole.");
    };
  }

  /**
   * A split for {@code hosts} hosts by {@code mechanism}, or ({@code null}) by namespaces where
   * they can be made and else by the blackhole; prints which, and why.
   */
  static NetworkSplit create(int hosts, Mechanism mechanism) {
    if (mechanism == Mechanism.BLACKHOLE) {
      return announce(new Blackhole(), "requested");
    }
    try {
      return announce(
          new Namespaces(TestNetwork.create(hosts, TestCassandra.contactPoint())),
          mechanism == null ? "namespaces could be made" : "requested");
    } catch (IllegalStateException e) {
      if (mechanism == Mechanism.NAMESPACES) {
        throw new AssertionError(
            "-D"
                + PROPERTY
                + "=namespaces, but network namespaces cannot be made here (they need root, the ip"
                + " command and a kernel that allows them): "
                + e.getMessage(),
            e);
      }
      return announce(new Blackhole(), "namespaces cannot be made here: " + e.getMessage());
    }
  }

  private static NetworkSplit announce(NetworkSplit split, String why) {
    System.out.printf("NETSPLIT mechanism=%s (%s; %s)%n", split.name(), split.describe(), why);
    return split;
  }

  abstract Mechanism mechanism();

  /** The mechanism's name in lower case, as the system property spells it. */
  String name() {
    return mechanism().name().toLowerCase(Locale.ROOT);
  }

  abstract String describe();

  /** What every node's command line needs for this mechanism. */
  abstract List<String> nodeArgs();

  /** Forks the node of host {@code host} (1-based) in {@code cluster}. */
  abstract NodeProcess launch(TestCluster cluster, int host);

  /** Cuts host {@code host} (1-based; {@code nodes.get(host - 1)}) off from every other host. */
  abstract void cut(List<NodeProcess> nodes, int host);

  /** Undoes {@link #cut}. */
  abstract void heal(List<NodeProcess> nodes, int host);

  @Override
  public abstract void close();

  /** A real cut: the host's cluster link goes down; its storage link to Cassandra stays up. */
  static final class Namespaces extends NetworkSplit {
    private final TestNetwork network;

    Namespaces(TestNetwork network) {
      this.network = network;
    }

    @Override
    Mechanism mechanism() {
      return Mechanism.NAMESPACES;
    }

    @Override
    String describe() {
      return "each node in a network namespace of its own, its cluster link taken down";
    }

    @Override
    List<String> nodeArgs() {
      return List.of();
    }

    @Override
    NodeProcess launch(TestCluster cluster, int host) {
      return cluster.launch(
          network.prefix(host), network.address(host), network.cassandraContact());
    }

    @Override
    void cut(List<NodeProcess> nodes, int host) {
      network.cut(host);
    }

    @Override
    void heal(List<NodeProcess> nodes, int host) {
      network.heal(host);
    }

    @Override
    public void close() {
      network.close();
    }
  }

  /**
   * A cut at the transport: every node on 127.0.0.1 with Artery's test mode on (a config file of
   * this test's; the shipped configuration keeps it off), and on both sides of the cut each node
   * drops every message to and from the nodes on the other side.
   */
  static final class Blackhole extends NetworkSplit {
    private final Path config;

    Blackhole() {
      try {
        config = Files.createTempFile("netherite-blackhole", ".conf");
        Files.writeString(config, "pekko.remote.artery.advanced.test-mode = on\n");
      } catch (IOException e) {
        throw new UncheckedIOException("could not write the blackhole's node config", e);
      }
    }

    @Override
    Mechanism mechanism() {
      return Mechanism.BLACKHOLE;
    }

    @Override
    String describe() {
      return "every node on loopback with Artery's test mode, both sides of the cut dropping each"
          + " other's messages";
    }

    @Override
    List<String> nodeArgs() {
      return List.of("--config", config.toString());
    }

    @Override
    NodeProcess launch(TestCluster cluster, int host) {
      return cluster.launch();
    }

    @Override
    void cut(List<NodeProcess> nodes, int host) {
      setCut(nodes, host, "cut");
    }

    @Override
    void heal(List<NodeProcess> nodes, int host) {
      setCut(nodes, host, "uncut");
    }

    private static void setCut(List<NodeProcess> nodes, int host, String command) {
      NodeProcess cutOff = nodes.get(host - 1);
      for (NodeProcess other : nodes) {
        if (other == cutOff) {
          continue;
        }
        tell(cutOff, command, other);
        tell(other, command, cutOff);
      }
    }

    /** Tells {@code node} to cut (or uncut) {@code from}; nothing to do when it has exited. */
    private static void tell(NodeProcess node, String command, NodeProcess from) {
      if (!node.isAlive()) {
        return;
      }
      String target = "127.0.0.1:" + from.port;
      Matcher answer =
          node.ask(
              command + " " + target,
              "^(" + command.toUpperCase(Locale.ROOT) + " |COMMAND FAILED )" + ".*",
              Duration.ofSeconds(30));
      assertEquals(
          command.toUpperCase(Locale.ROOT) + " " + target, answer.group(), node.name + " refused");
    }

    @Override
    public void close() {
      try {
        Files.deleteIfExists(config);
      } catch (IOException ignored) {
        // a temporary file
      }
    }
  }
}
