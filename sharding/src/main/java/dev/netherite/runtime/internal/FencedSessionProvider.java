package dev.netherite.runtime.internal;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.auth.AuthenticationException;
import com.typesafe.config.Config;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.CqlSessionProvider;
import org.apache.pekko.stream.connectors.cassandra.DriverConfigLoaderFromConfig;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * INTERNAL API
 *
 * <p>The session provider of {@code pekko.persistence.cassandra} (reference.conf): the session the
 * plugin's default provider builds from {@code datastax-java-driver} (contact points, TLS, the
 * driver's own auth provider), with the credentials of {@code netherite.cassandra.username} and
 * {@code password} when set, wrapped in a {@link FencedSession}. A refused login fails the session
 * with a {@link CassandraLoginRefused} that names the settings.
 */
public final class FencedSessionProvider implements CqlSessionProvider {
  private final ActorSystem system;
  private final Config config;

  public FencedSessionProvider(ActorSystem system, Config config) {
    this.system = system;
    this.config = config;
  }

  @Override
  public Future<CqlSession> connect(ExecutionContext ec) {
    WriteFence fence = WriteFence.ID.get(system);
    Config driverConfig = CqlSessionProvider.driverConfig(system, config);
    Credentials credentials = Credentials.from(system.settings().config());
    // The driver's reconnect-on-init retries a refused login as quietly as an unreachable node, for
    // ever: this provider retries itself, and gives up at once on a refused login.
    String retryKey = "advanced.reconnect-on-init";
    boolean retry = driverConfig.hasPath(retryKey) && driverConfig.getBoolean(retryKey);
    Config once =
        driverConfig.withValue(retryKey, com.typesafe.config.ConfigValueFactory.fromAnyRef(false));
    CompletableFuture<CqlSession> session = new CompletableFuture<>();
    attempt(once, credentials, retry, session);
    return FutureConverters.asScala(session.thenApply(s -> new FencedSession(s, fence)));
  }

  private void attempt(
      Config driverConfig,
      Credentials credentials,
      boolean retry,
      CompletableFuture<CqlSession> session) {
    CqlSessionBuilder builder =
        CqlSession.builder()
            .withConfigLoader(DriverConfigLoaderFromConfig.fromConfig(driverConfig));
    if (credentials != null) {
      builder.withAuthCredentials(credentials.username(), credentials.password());
    }
    builder
        .buildAsync()
        .whenComplete(
            (s, error) -> {
              if (error == null) {
                session.complete(s);
                return;
              }
              java.util.Optional<Throwable> refused =
                  loginRefused(error, credentials, driverConfig);
              refused.ifPresent(r -> LoginState.ID.get(system).refused = (CassandraLoginRefused) r);
              if (refused.isPresent() || !retry || system.whenTerminated().isCompleted()) {
                session.completeExceptionally(refused.orElse(error));
                return;
              }
              CompletableFuture.delayedExecutor(RETRY_MILLIS, TimeUnit.MILLISECONDS)
                  .execute(() -> attempt(driverConfig, credentials, true, session));
            });
  }

  private static final long RETRY_MILLIS = 1000;

  /** {@code netherite.cassandra.username} and {@code password}; null when no username is set. */
  record Credentials(String username, String password) {
    static Credentials from(Config config) {
      Config c = config.getConfig("netherite.cassandra");
      String username = c.getString("username");
      String password = c.getString("password");
      if (username.isEmpty()) {
        if (!password.isEmpty()) {
          throw new IllegalArgumentException(
              "netherite.cassandra.password is set but netherite.cassandra.username is empty; set"
                  + " both (or NETHERITE_CASSANDRA_USERNAME and NETHERITE_CASSANDRA_PASSWORD).");
        }
        return null;
      }
      if (password.isEmpty()) {
        throw new IllegalArgumentException(
            "netherite.cassandra.username is '"
                + username
                + "' but netherite.cassandra.password is empty; set the password too (or"
                + " NETHERITE_CASSANDRA_PASSWORD).");
      }
      return new Credentials(username, password);
    }
  }

  private static java.util.Optional<Throwable> loginRefused(
      Throwable error, Credentials credentials, Config driverConfig) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      List<Throwable> candidates =
          t instanceof AllNodesFailedException all
              ? all.getAllErrors().values().stream().flatMap(List::stream).toList()
              : List.of(t);
      for (Throwable c : candidates) {
        if (c instanceof AuthenticationException auth) {
          String where =
              driverConfig.hasPath("basic.contact-points")
                  ? String.valueOf(driverConfig.getStringList("basic.contact-points"))
                  : "the configured contact points";
          String message =
              credentials == null
                  ? "Cassandra at "
                      + where
                      + " requires a login, but no credentials are configured: set"
                      + " netherite.cassandra.username and netherite.cassandra.password (or the"
                      + " environment variables NETHERITE_CASSANDRA_USERNAME and"
                      + " NETHERITE_CASSANDRA_PASSWORD). ("
                      + auth.getMessage()
                      + ")"
                  : "Cassandra at "
                      + where
                      + " refused the login of user '"
                      + credentials.username()
                      + "': check netherite.cassandra.username and netherite.cassandra.password"
                      + " (or NETHERITE_CASSANDRA_USERNAME and NETHERITE_CASSANDRA_PASSWORD). ("
                      + auth.getMessage()
                      + ")";
          return java.util.Optional.of(new CassandraLoginRefused(message, auth));
        }
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * The node's last refused login, for the start to fail with at once (the journal's and snapshot
   * store's own errors say only that they could not connect).
   */
  static final class LoginState implements org.apache.pekko.actor.Extension {
    static final Id ID = new Id();

    volatile CassandraLoginRefused refused;

    static final class Id extends org.apache.pekko.actor.AbstractExtensionId<LoginState> {
      @Override
      public LoginState createExtension(org.apache.pekko.actor.ExtendedActorSystem system) {
        return new LoginState();
      }
    }
  }

  /** Cassandra refused the node's login (or asked for one that is not configured). */
  static final class CassandraLoginRefused extends IllegalStateException {
    CassandraLoginRefused(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
