package dev.netherite.cluster;

import static dev.netherite.cluster.TestCluster.awaitEvenSpread;
import static dev.netherite.cluster.TestCluster.awaitLoadDone;
import static dev.netherite.cluster.TestCluster.load;
import static dev.netherite.cluster.TestCluster.verify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Nodes talking TLS to each other (Artery {@code tls-tcp}, mutual authentication) with a key store
 * the test generates with the JDK's keytool: the cluster forms, spreads its partitions and runs a
 * load whose messages cross between nodes, and a TLS client holding the key completes a TLS 1.3
 * handshake with a node's port.
 */
class ClusterSecurityTest {

  @Test
  @Timeout(240)
  void nodesFormAClusterAndServeOverTls() throws Exception {
    Path dir = Files.createTempDirectory("netherite-tls");
    Path keyStore = dir.resolve("node.p12");
    String password = "test-" + ProcessHandle.current().pid();
    keytool(
        "-genkeypair",
        "-alias",
        "node",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-dname",
        "CN=127.0.0.1",
        "-ext",
        "SAN=ip:127.0.0.1",
        "-storetype",
        "PKCS12",
        "-keystore",
        keyStore.toString(),
        "-storepass",
        password,
        "-keypass",
        password);
    Path config = dir.resolve("tls.conf");
    Files.writeString(
        config,
        """
        pekko.remote.artery {
          transport = tls-tcp
          ssl.config-ssl-engine {
            key-store = "%1$s"
            trust-store = "%1$s"
            key-store-password = "%2$s"
            key-password = "%2$s"
            trust-store-password = "%2$s"
            protocol = "TLSv1.3"
            enabled-algorithms = ["TLS_AES_128_GCM_SHA256"]
            require-mutual-authentication = on
          }
        }
        """
            .formatted(keyStore.toString().replace("\\", "/"), password));

    try (TestCluster cluster = new TestCluster("tls", List.of("--config", config.toString()))) {
      List<NodeProcess> nodes = cluster.start(2);
      awaitEvenSpread(nodes, Duration.ofSeconds(60))
          .values()
          .forEach(p -> assertEquals(TestCluster.PARTITIONS / 2, p.size()));
      load(nodes.get(0), "greetings", "t", 20, 10);
      awaitLoadDone(nodes.get(0), "greetings", "t", Duration.ofSeconds(120));
      verify(nodes.get(1), "greetings", "t", 20, Duration.ofSeconds(120));
      cluster.assertNoUnexpectedErrors();
      // The nodes' port speaks TLS 1.3 and accepts a peer holding the cluster's key (after the
      // error check: the node may log the probe's connection, which carries no Artery stream).
      assertEquals("TLSv1.3", tlsHandshake(keyStore, password, nodes.get(0).port));
    } finally {
      Files.deleteIfExists(keyStore);
      Files.deleteIfExists(config);
      Files.deleteIfExists(dir);
    }
  }

  private static String tlsHandshake(Path keyStore, String password, int port) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(keyStore)) {
      store.load(in, password.toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, password.toCharArray());
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.startHandshake();
      return socket.getSession().getProtocol();
    }
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor() == 0, "keytool failed: " + out);
  }
}
