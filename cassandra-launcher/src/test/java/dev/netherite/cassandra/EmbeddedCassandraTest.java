package dev.netherite.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedCassandraTest {

  @TempDir Path temp;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void servesCqlWritesAndReads() {
    // The contact point replaces the configured one (reference.conf names 127.0.0.1:9042);
    // CqlSession.Builder.addContactPoint would add to it instead.
    DriverConfigLoader config =
        DriverConfigLoader.programmaticBuilder()
            .withStringList(
                DefaultDriverOption.CONTACT_POINTS, List.of(TestCassandra.contactPoint()))
            .withString(
                DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER,
                EmbeddedCassandra.LOCAL_DATACENTER)
            // A schema change took more than the default 2 s on a loaded 2-core machine.
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(30))
            .build();
    try (CqlSession session = CqlSession.builder().withConfigLoader(config).build()) {
      String version =
          session.execute("SELECT release_version FROM system.local").one().getString(0);
      assertTrue(version.startsWith("5.0."), "release_version " + version);

      session.execute(
          "CREATE KEYSPACE IF NOT EXISTS embedded_cassandra_test"
              + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      session.execute(
          "CREATE TABLE IF NOT EXISTS embedded_cassandra_test.greetings (id uuid PRIMARY KEY, text text)");
      UUID id = UUID.randomUUID();
      session.execute(
          "INSERT INTO embedded_cassandra_test.greetings (id, text) VALUES (?, ?)",
          id,
          "hello, Cassandra");

      Row row =
          session
              .execute("SELECT text FROM embedded_cassandra_test.greetings WHERE id = ?", id)
              .one();
      assertNotNull(row, "the row just written");
      assertEquals("hello, Cassandra", row.getString("text"));
    }
  }

  @Test
  void aJavaHomeThatIsNotJdk17IsRejectedBeforeAnythingStarts() {
    Path thisJdk = Path.of(System.getProperty("java.home"));
    Path dataDirectory = temp.resolve("never-created");

    IllegalStateException wrongVersion =
        assertThrows(
            IllegalStateException.class,
            () ->
                EmbeddedCassandra.builder()
                    .javaHome(thisJdk)
                    .dataDirectory(dataDirectory)
                    .build()
                    .start());
    assertTrue(
        wrongVersion.getMessage().contains("Cassandra 5.0 needs a JDK 17"),
        wrongVersion.getMessage());
    assertTrue(wrongVersion.getMessage().contains(thisJdk.toString()), wrongVersion.getMessage());
    assertTrue(wrongVersion.getMessage().contains("JAVA_VERSION=\""), wrongVersion.getMessage());

    Path missing = temp.resolve("no-such-jdk");
    IllegalStateException notAJdk =
        assertThrows(
            IllegalStateException.class,
            () ->
                EmbeddedCassandra.builder().javaHome(missing).dataDirectory(dataDirectory).build());
    assertTrue(notAJdk.getMessage().contains("does not exist"), notAJdk.getMessage());

    assertFalse(Files.exists(dataDirectory), "nothing may be written before the JDK is validated");
  }

  @Test
  void aPortInUseIsReportedInsteadOfReused() throws IOException {
    Path dataDirectory = temp.resolve("port-in-use");
    try (ServerSocket occupied = new ServerSocket()) {
      occupied.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      EmbeddedCassandra cassandra =
          EmbeddedCassandra.builder()
              .cqlPort(occupied.getLocalPort())
              .storagePort(freePort())
              .dataDirectory(dataDirectory)
              .build();

      IllegalStateException inUse = assertThrows(IllegalStateException.class, cassandra::start);
      assertTrue(inUse.getMessage().contains("already in use"), inUse.getMessage());
      assertTrue(inUse.getMessage().contains("CQL port"), inUse.getMessage());
      assertFalse(cassandra.isRunning());
      assertFalse(Files.exists(dataDirectory), "nothing may be written when a port is taken");
    }
  }

  @Test
  void withoutAnyJdk17TheErrorSaysWhereItLookedAndWhatToDo() throws IOException {
    Path searchRoot = temp.resolve("jvm");
    fakeJdk(searchRoot.resolve("temurin-25"), "25.0.3");

    IllegalStateException none =
        assertThrows(
            IllegalStateException.class,
            () -> EmbeddedCassandra.resolveJavaHome(null, null, null, List.of(searchRoot)));
    String message = none.getMessage();
    assertTrue(message.contains("Cassandra 5.0 needs a JDK 17"), message);
    assertTrue(message.contains(searchRoot.toString()), message);
    assertTrue(message.contains(EmbeddedCassandra.JAVA_HOME_PROPERTY), message);
    assertTrue(message.contains(EmbeddedCassandra.JAVA_HOME_ENV), message);
  }

  @Test
  void discoversAJdk17AndPrefersAnExplicitSetting() throws IOException {
    Path searchRoot = temp.resolve("jvm");
    fakeJdk(searchRoot.resolve("a-temurin-25"), "25.0.3");
    Path jdk17 = fakeJdk(searchRoot.resolve("b-openjdk-17"), "17.0.15");
    Path otherJdk17 = fakeJdk(temp.resolve("elsewhere-17"), "17");

    assertEquals(
        jdk17.toRealPath(),
        EmbeddedCassandra.resolveJavaHome(null, null, null, List.of(searchRoot)));
    assertEquals(
        otherJdk17.toRealPath(),
        EmbeddedCassandra.resolveJavaHome(null, null, otherJdk17.toString(), List.of(searchRoot)));
    assertEquals(
        otherJdk17.toRealPath(),
        EmbeddedCassandra.resolveJavaHome(
            null, otherJdk17.toString(), "/nowhere", List.of(searchRoot)));
  }

  @Test
  void commitlogSyncModesParseTheirYamlNames() {
    assertEquals(
        EmbeddedCassandra.CommitlogSync.GROUP, EmbeddedCassandra.CommitlogSync.parse("group"));
    assertEquals(
        EmbeddedCassandra.CommitlogSync.BATCH, EmbeddedCassandra.CommitlogSync.parse("BATCH"));
    assertThrows(
        IllegalArgumentException.class, () -> EmbeddedCassandra.CommitlogSync.parse("sometimes"));
  }

  private static Path fakeJdk(Path home, String version) throws IOException {
    Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
    Files.writeString(java, "#!/bin/sh\nexit 1\n");
    assertTrue(java.toFile().setExecutable(true));
    Files.writeString(
        home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
    return home;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    }
  }
}
