package dev.netherite.management;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

import dev.netherite.management.internal.Json;
import dev.netherite.management.internal.ManagementApi;
import dev.netherite.runtime.DurableRuntime;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.management.javadsl.PekkoManagement;
import scala.concurrent.duration.FiniteDuration;

/**
 * The operations server of one node: the HTTP management API ({@code /api}), the dashboard ({@code
 * /}), Prometheus metrics ({@code /metrics}), and Pekko Management's health checks ({@code /ready},
 * {@code /alive}) and cluster endpoints ({@code /cluster/members}), all on one port. The routes are
 * Pekko Management route providers (this module's {@code reference.conf}); this class serves them
 * with Pekko HTTP on {@code netherite.management.hostname}:{@code port}, behind the bearer token
 * when one is configured. See docs/HTTP-API.md.
 *
 * <pre>{@code
 * DurableRuntime runtime = DurableRuntime.start(app, config);
 * Optional<NetheriteManagement> management = NetheriteManagement.startIfEnabled(runtime);
 * }</pre>
 */
public final class NetheriteManagement implements AutoCloseable {
  /** Paths served without a token: the dashboard page (it asks for one), metrics, probes. */
  private static final Set<String> PUBLIC_PATHS = Set.of("/", "/metrics", "/ready", "/alive");

  private static final Duration LONGEST_REQUEST = Duration.ofMinutes(5);

  private final ServerBinding binding;
  private final URI uri;

  private NetheriteManagement(ServerBinding binding, URI uri) {
    this.binding = binding;
    this.uri = uri;
  }

  /**
   * Starts the server when {@code netherite.management.enabled} is on.
   *
   * @return the server, or empty when management is not enabled
   */
  public static Optional<NetheriteManagement> startIfEnabled(DurableRuntime runtime) {
    ManagementSettings settings = ManagementSettings.from(runtime.system().settings().config());
    return settings.enabled() ? Optional.of(start(runtime, settings)) : Optional.empty();
  }

  /** Starts the server with the configured settings, whether or not it is enabled. */
  public static NetheriteManagement start(DurableRuntime runtime) {
    return start(runtime, ManagementSettings.from(runtime.system().settings().config()));
  }

  /**
   * Starts the server.
   *
   * @throws IllegalStateException when the port cannot be bound (the message names it)
   */
  public static NetheriteManagement start(DurableRuntime runtime, ManagementSettings settings) {
    var system = runtime.system();
    Route routes = PekkoManagement.get(system).getRoutes();
    Route served = settings.authRequired() ? bearer(settings.authToken(), routes) : routes;
    // A long poll of /api/instances/{id}/wait must not meet the server's request timeout.
    Duration wait = settings.maxWait().plusSeconds(15);
    long requestMillis = Math.min(wait.toMillis(), LONGEST_REQUEST.toMillis());
    ServerSettings defaults = ServerSettings.create(system.settings().config());
    ServerSettings server =
        defaults.withTimeouts(
            defaults
                .getTimeouts()
                .withRequestTimeout(FiniteDuration.create(requestMillis, TimeUnit.MILLISECONDS))
                .withIdleTimeout(
                    FiniteDuration.create(requestMillis + 15_000, TimeUnit.MILLISECONDS)));
    try {
      ServerBinding binding =
          Http.get(system)
              .newServerAt(settings.hostname(), settings.port())
              .withSettings(server)
              .bind(served)
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      InetSocketAddress address = binding.localAddress();
      URI uri = URI.create("http://" + settings.hostname() + ":" + address.getPort() + "/");
      system.log().info("Netherite management at {} (dashboard, /api, /metrics, /ready)", uri);
      return new NetheriteManagement(binding, uri);
    } catch (Exception e) {
      throw new IllegalStateException(
          "The management server could not listen on "
              + settings.hostname()
              + ":"
              + settings.port()
              + " ("
              + (e.getCause() != null ? e.getCause() : e)
              + "); choose another netherite.management.port, or 0 for a free one.",
          e);
    }
  }

  /** Requests to anything but the public paths must carry {@code Authorization: Bearer TOKEN}. */
  private static Route bearer(String token, Route inner) {
    byte[] expected = token.getBytes(StandardCharsets.UTF_8);
    return extractRequest(
        request -> {
          if (PUBLIC_PATHS.contains(request.getUri().path())) {
            return inner;
          }
          Optional<String> header = request.getHeader("Authorization").map(h -> h.value().strip());
          if (header.isEmpty() || !header.get().regionMatches(true, 0, "Bearer ", 0, 7)) {
            return complete(
                unauthorized(
                    401,
                    "This server requires a bearer token: send the header 'Authorization: Bearer"
                        + " <token>' with the token of netherite.management.auth-token."));
          }
          byte[] given = header.get().substring(7).strip().getBytes(StandardCharsets.UTF_8);
          if (!MessageDigest.isEqual(expected, given)) {
            return complete(
                unauthorized(
                    401,
                    "The bearer token is not the one this server expects"
                        + " (netherite.management.auth-token)."));
          }
          return inner;
        });
  }

  private static HttpResponse unauthorized(int status, String message) {
    return HttpResponse.create()
        .withStatus(status)
        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"netherite\""))
        .withEntity(
            ContentTypes.APPLICATION_JSON, Json.bytes(ManagementApi.error(status, null, message)));
  }

  /** Where the server listens, e.g. {@code http://127.0.0.1:8558/}. */
  public URI uri() {
    return uri;
  }

  /** Stops listening; requests in progress get up to 5 s to finish. */
  @Override
  public void close() {
    binding.terminate(Duration.ofSeconds(5)).toCompletableFuture().join();
  }
}
