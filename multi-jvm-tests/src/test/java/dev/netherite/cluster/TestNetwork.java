package dev.netherite.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test hosts in Linux network namespaces that this class creates (root only), each with two links
 * into bridges it creates: a cluster link (node to node, on 10.213.1.0/24) that {@link #cut} and
 * {@link #heal} take down and up, and a storage link (10.213.2.0/24) to the root namespace, where a
 * relay forwards {@link #cassandraContact()} to the test Cassandra on loopback, so that every host
 * keeps reaching Cassandra while the cluster is split. Only addresses it creates and loopback are
 * used. {@link #close} removes everything it made, also after a failed setup.
 */
final class TestNetwork implements AutoCloseable {
  private static final String CLUSTER_NET = "10.213.1.";
  private static final String STORAGE_NET = "10.213.2.";
  private static final String STORAGE_GATEWAY = STORAGE_NET + "1";

  private final String tag;
  private final int hosts;
  private final List<String> namespaces = new ArrayList<>();
  private final List<String> links = new ArrayList<>();
  private final ServerSocket relay;
  private final String cassandraTarget;

  private TestNetwork(int hosts, String cassandraTarget) {
    this.tag = Long.toString(ProcessHandle.current().pid() % 10000);
    this.hosts = hosts;
    this.cassandraTarget = cassandraTarget;
    try {
      ip("link", "add", bridge("c"), "type", "bridge");
      links.add(bridge("c"));
      ip("link", "add", bridge("s"), "type", "bridge");
      links.add(bridge("s"));
      ip("addr", "add", STORAGE_GATEWAY + "/24", "dev", bridge("s"));
      ip("link", "set", bridge("c"), "up");
      ip("link", "set", bridge("s"), "up");
      for (int i = 1; i <= hosts; i++) {
        String ns = namespace(i);
        ip("netns", "add", ns);
        namespaces.add(ns);
        ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
        attach(i, "c", CLUSTER_NET);
        attach(i, "s", STORAGE_NET);
      }
      relay = new ServerSocket();
      relay.bind(new InetSocketAddress(InetAddress.getByName(STORAGE_GATEWAY), 0));
      Thread.ofVirtual().name("cassandra-relay").start(this::relayConnections);
    } catch (IOException | RuntimeException e) {
      close();
      throw new IllegalStateException("could not set up the test network: " + e.getMessage(), e);
    }
  }

  /**
   * Creates {@code hosts} namespaces, or says why it cannot (not root, no {@code ip}, no namespaces
   * in this kernel or container).
   */
  static TestNetwork create(int hosts, String cassandraTarget) {
    return new TestNetwork(hosts, cassandraTarget);
  }

  /** The command prefix that runs a process on host {@code i} (1-based). */
  List<String> prefix(int i) {
    return List.of("ip", "netns", "exec", namespace(i));
  }

  /** Host {@code i}'s address on the cluster network. */
  String address(int i) {
    return CLUSTER_NET + (10 + i);
  }

  /** Where hosts reach Cassandra (the relay), as {@code host:port}. */
  String cassandraContact() {
    return STORAGE_GATEWAY + ":" + relay.getLocalPort();
  }

  /** Takes host {@code i}'s cluster link down: it reaches no other host, but still Cassandra. */
  void cut(int i) {
    ip("link", "set", veth(i, "c"), "down");
  }

  void heal(int i) {
    ip("link", "set", veth(i, "c"), "up");
  }

  private void attach(int i, String net, String prefix) {
    String outside = veth(i, net);
    String inside = outside + "p";
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    links.add(outside);
    ip("link", "set", inside, "netns", namespace(i));
    ip("link", "set", outside, "master", bridge(net));
    ip("link", "set", outside, "up");
    ip(
        "netns",
        "exec",
        namespace(i),
        "ip",
        "addr",
        "add",
        prefix + (10 + i) + "/24",
        "dev",
        inside);
    ip("netns", "exec", namespace(i), "ip", "link", "set", inside, "up");
  }

  private String namespace(int i) {
    return "nthr" + tag + "h" + i;
  }

  private String bridge(String net) {
    return "nthr" + tag + net;
  }

  private String veth(int i, String net) {
    return "nthr" + tag + net + i; // at most 15 characters with the peer's "p"
  }

  private void relayConnections() {
    String[] target = cassandraTarget.split(":");
    while (!relay.isClosed()) {
      try {
        Socket in = relay.accept();
        Socket out = new Socket(target[0], Integer.parseInt(target[1]));
        Thread.ofVirtual().start(() -> pump(in, out));
        Thread.ofVirtual().start(() -> pump(out, in));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private static void pump(Socket from, Socket to) {
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      in.transferTo(out);
    } catch (IOException ignored) {
      // one side closed
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  /** Removes the namespaces (their veth ends go with them), the links and bridges, the relay. */
  @Override
  public void close() {
    if (relay != null) {
      try {
        relay.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    for (String ns : namespaces) {
      tryIp("netns", "del", ns);
    }
    for (String link : links.reversed()) {
      tryIp("link", "del", link);
    }
  }

  private static void ip(String... args) {
    String failure = run(args);
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
  }

  private static void tryIp(String... args) {
    run(args);
  }

  /** Runs {@code ip args}; null when it succeeded, else what went wrong. */
  private static String run(String... args) {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return String.join(" ", command) + ": timed out";
      }
      return p.exitValue() == 0
          ? null
          : String.join(" ", command) + " exited " + p.exitValue() + ": " + output;
    } catch (IOException e) {
      return String.join(" ", command) + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("interrupted"));
    }
  }
}
