package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.netherite.cassandra.EmbeddedCassandra;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node logs in to a Cassandra that runs with {@code PasswordAuthenticator} with the credentials
 * of {@code netherite.cassandra.username} and {@code password}; wrong or missing ones fail the
 * start at once with a message that names those settings. Runs a Cassandra of its own, since the
 * shared test server accepts anyone.
 */
@Timeout(180)
class CassandraAuthenticationTest {
  private static final String USER = "netherite_app";
  private static final String PASSWORD = "s3cret-for-the-test";
  private static EmbeddedCassandra cassandra;

  @BeforeAll
  static void startCassandraWithPasswords() throws IOException {
    // The refused logins provoked below: the journal and snapshot store log them when their reads
    // fail.
    ErrorLogGuard.expect("refused the login of user '" + USER + "'");
    ErrorLogGuard.expect("requires a login, but no credentials are configured");
    int[] ports = freePorts();
    cassandra =
        EmbeddedCassandra.builder()
            .cqlPort(ports[0])
            .storagePort(ports[1])
            .dataDirectory(Path.of("target", "auth-cassandra-" + ports[0]))
            .heap("512m")
            .clean(true)
            .passwordAuthentication(true)
            .build()
            .start();
    try (CqlSession admin =
        CqlSession.builder()
            .addContactPoint(new InetSocketAddress("127.0.0.1", ports[0]))
            .withLocalDatacenter(EmbeddedCassandra.LOCAL_DATACENTER)
            .withAuthCredentials(
                EmbeddedCassandra.DEFAULT_SUPERUSER, EmbeddedCassandra.DEFAULT_SUPERUSER)
            .build()) {
      admin.execute(
          "CREATE ROLE IF NOT EXISTS "
              + USER
              + " WITH PASSWORD = '"
              + PASSWORD
              + "' AND LOGIN = true AND SUPERUSER = true");
      // As in production, the keyspaces exist before the first node starts.
      for (String keyspace : List.of("netherite", "netherite_snapshot")) {
        admin.execute(
            "CREATE KEYSPACE IF NOT EXISTS "
                + keyspace
                + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      }
    }
  }

  @AfterAll
  static void stopCassandra() {
    if (cassandra != null) {
      cassandra.close();
    }
  }

  @Test
  void aNodeWithTheRightCredentialsRunsHello5() {
    try (DurableRuntime runtime = start(Map.of("username", USER, "password", PASSWORD))) {
      InstanceId id = runtime.client().start(HELLO5, null);
      InstanceStatus done = runtime.client().waitForCompletion(id, Duration.ofSeconds(60));
      assertEquals(
          RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> "failure: " + done.failure());
      assertEquals(HELLO5_OUTPUT, done.output(List.class));
    }
  }

  @Test
  void aWrongPasswordFailsTheStartNamingTheSettings() {
    long started = System.nanoTime();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> start(Map.of("username", USER, "password", "not-the-password")).close());
    assertTrue(e.getMessage().contains("refused the login of user '" + USER + "'"), e.getMessage());
    assertTrue(e.getMessage().contains("netherite.cassandra.password"), e.getMessage());
    assertTrue(e.getMessage().contains("NETHERITE_CASSANDRA_PASSWORD"), e.getMessage());
    // At once, not after the startup timeout's retries.
    assertTrue(
        System.nanoTime() - started < Duration.ofSeconds(30).toNanos(),
        "took " + (System.nanoTime() - started) / 1_000_000 + " ms");
  }

  @Test
  void missingCredentialsFailTheStartSayingWhatToSet() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> start(Map.of()).close());
    assertTrue(
        e.getMessage().contains("requires a login, but no credentials are configured"),
        e.getMessage());
    assertTrue(e.getMessage().contains("netherite.cassandra.username"), e.getMessage());
  }

  @Test
  void aPasswordWithoutAUsernameIsRefusedBeforeConnecting() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> start(Map.of("password", PASSWORD)).close());
    assertTrue(e.getMessage().contains("netherite.cassandra.username is empty"), e.getMessage());
  }

  private static DurableRuntime start(Map<String, String> credentials) {
    Config config =
        ConfigFactory.parseMap(
                Map.of(
                    "netherite.task-hub",
                    RuntimeTestKit.newTaskHub("auth"),
                    "datastax-java-driver.basic.contact-points",
                    List.of(cassandra.contactPoint()),
                    "netherite.startup-timeout",
                    "60s",
                    "pekko.loglevel",
                    "WARNING"))
            .withFallback(
                ConfigFactory.parseMap(
                    Map.of(
                        "netherite.cassandra.username", credentials.getOrDefault("username", ""),
                        "netherite.cassandra.password", credentials.getOrDefault("password", ""))))
            .withFallback(ConfigFactory.parseResources("netherite/conf/single-node.conf"));
    return DurableRuntime.start(TestWorkflows.app(), config);
  }

  private static int[] freePorts() throws IOException {
    try (ServerSocket a = new ServerSocket(0);
        ServerSocket b = new ServerSocket(0)) {
      return new int[] {a.getLocalPort(), b.getLocalPort()};
    }
  }
}
