package dev.netherite.cassandra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * The Cassandra that the test suites of every module share: one server per test run, not one per
 * test class.
 *
 * <p>{@link #contactPoint()} returns, in this order:
 *
 * <ol>
 *   <li>the system property {@value #CONTACT_POINT_PROPERTY} when it is set and not empty, e.g.
 *       {@code 127.0.0.1:9042}: a server that a script started once for the whole build (see {@link
 *       EmbeddedCassandra#main(String[])}). The parent POM passes it to every test JVM ({@code mvn
 *       test -Dnetherite.test.cassandra=127.0.0.1:9042});
 *   <li>otherwise, a server this JVM starts on first use: an {@link EmbeddedCassandra} on free CQL
 *       and storage ports, with an empty data directory {@code target/test-cassandra-<cqlPort>} and
 *       the default settings (periodic commit log sync, 768 MB heap). It costs about 10 seconds and
 *       0.7 GB of memory, and runs until the JVM exits; its data is then deleted, and only {@code
 *       cassandra.log} remains.
 * </ol>
 *
 * <p>Tests must therefore not assume an empty server: each test creates its own keyspace (or tables
 * with unique names). Give the contact point to the driver as {@code
 * datastax-java-driver.basic.contact-points = [<contactPoint>]}, replacing the configured one, not
 * through {@code CqlSession.Builder.addContactPoint}, which adds to it.
 */
public final class TestCassandra {

  /** The system property that names an already running Cassandra, as {@code host:port}. */
  public static final String CONTACT_POINT_PROPERTY = "netherite.test.cassandra";

  private static EmbeddedCassandra started;
  private static RuntimeException startFailure;

  private TestCassandra() {}

  /**
   * The contact point of the shared test Cassandra, as {@code host:port}; starts the server on the
   * first call when {@value #CONTACT_POINT_PROPERTY} is not set.
   *
   * @throws IllegalStateException if the server cannot be started (the message says why, e.g. that
   *     no JDK 17 was found, or ends with the server's last log lines)
   */
  public static synchronized String contactPoint() {
    String external = System.getProperty(CONTACT_POINT_PROPERTY);
    if (external != null && !external.isBlank()) {
      return external.strip();
    }
    if (startFailure != null) {
      // Every test class would otherwise wait for the same failing start again.
      throw new IllegalStateException(
          "The test Cassandra failed to start earlier in this JVM: " + startFailure.getMessage(),
          startFailure);
    }
    if (started == null) {
      try {
        started = startEmbedded();
      } catch (RuntimeException e) {
        startFailure = e;
        throw e;
      }
    }
    return started.contactPoint();
  }

  private static EmbeddedCassandra startEmbedded() {
    int[] ports = freePorts(2);
    EmbeddedCassandra cassandra =
        EmbeddedCassandra.builder()
            .cqlPort(ports[0])
            .storagePort(ports[1])
            .dataDirectory(Path.of("target", "test-cassandra-" + ports[0]))
            // Tests crash the engine, never this server (those that crash Cassandra start their
            // own), so the cheapest sync is enough here.
            .commitlogSync(EmbeddedCassandra.CommitlogSync.PERIODIC)
            .clean(true)
            .build();
    // Registered before start() so that the data is deleted even if this JVM exits during the
    // start. It runs
    // beside EmbeddedCassandra's own hook; stop() waits for the server either way.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  cassandra.stop();
                  deleteStorage(cassandra);
                },
                "test-cassandra-cleanup"));
    return cassandra.start();
  }

  // Every run uses a new directory (the port is part of its name), so the data would pile up in
  // target/; the
  // log is kept for a failed test's post-mortem.
  private static void deleteStorage(EmbeddedCassandra cassandra) {
    try {
      cassandra.deleteStorage();
    } catch (RuntimeException e) {
      System.err.println(
          "TestCassandra: cannot delete the data in " + cassandra.dataDirectory() + ": " + e);
    }
  }

  // Bound together, so that the two ports differ; another process may still take one before
  // Cassandra binds it,
  // and start() then fails with a clear "already in use".
  private static int[] freePorts(int count) {
    ServerSocket[] sockets = new ServerSocket[count];
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        sockets[i] = new ServerSocket();
        sockets[i].bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        ports[i] = sockets[i].getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot find free ports on 127.0.0.1", e);
    } finally {
      for (ServerSocket socket : sockets) {
        if (socket != null) {
          try {
            socket.close();
          } catch (IOException ignored) {
            // Closing a socket that was only bound cannot lose anything.
          }
        }
      }
    }
  }
}
