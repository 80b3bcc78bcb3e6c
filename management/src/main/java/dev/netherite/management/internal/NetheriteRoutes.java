package dev.netherite.management.internal;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;

import dev.netherite.management.ManagementSettings;
import dev.netherite.runtime.DurableRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * INTERNAL API
 *
 * <p>The routes Netherite adds to Pekko Management: the API under {@code /api}, the dashboard at
 * {@code /}, the metrics at {@code /metrics}. Every API request runs on a virtual thread of its
 * own, since the client it calls blocks until the partition answers.
 */
public final class NetheriteRoutes implements ManagementRouteProvider {
  private final ExtendedActorSystem system;
  private final ExecutorService requests =
      Executors.newThreadPerTaskExecutor(
          Thread.ofVirtual().name("netherite-management-", 0).factory());
  private volatile Parts parts;

  private record Parts(ManagementApi api, MetricsExporter metrics) {}

  NetheriteRoutes(ExtendedActorSystem system) {
    this.system = system;
    system.registerOnTermination(
        () -> {
          requests.shutdownNow();
          Parts p = parts;
          if (p != null) {
            p.metrics().close();
          }
        });
  }

  /** Built at the first request: the runtime may be created after Pekko Management loads this. */
  private Parts parts() {
    Parts p = parts;
    if (p == null) {
      synchronized (this) {
        if (parts == null) {
          DurableRuntime runtime = DurableRuntime.get(Adapter.toTyped(system));
          ManagementSettings settings = ManagementSettings.from(system.settings().config());
          PartitionInspector inspector = new PartitionInspector(runtime, settings);
          parts =
              new Parts(
                  new ManagementApi(runtime, settings, inspector), new MetricsExporter(inspector));
        }
        p = parts;
      }
    }
    return p;
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return concat(
        pathPrefix(
            "api",
            () ->
                extractRequest(
                    request ->
                        entity(
                            Unmarshaller.entityToString(),
                            body -> completeWithFuture(api(request, body))))),
        path("metrics", () -> get(() -> completeWithFuture(metrics()))),
        pathSingleSlash(
            () ->
                get(
                    () ->
                        getFromResource(
                            "dev/netherite/management/dashboard/index.html",
                            ContentTypes.TEXT_HTML_UTF8))));
  }

  private CompletionStage<HttpResponse> api(HttpRequest request, String body) {
    List<String> segments = new ArrayList<>();
    request.getUri().pathSegments().forEach(segments::add);
    // The path begins with "api".
    List<String> path = segments.subList(Math.min(1, segments.size()), segments.size());
    Map<String, String> query = new HashMap<>(request.getUri().query().toMap());
    String method = request.method().name();
    return CompletableFuture.supplyAsync(
        () -> {
          ManagementApi.Reply reply;
          try {
            reply = parts().api().handle(method, path, query, body);
          } catch (RuntimeException e) {
            reply = ManagementApi.errorOf(e);
          }
          return json(reply.status(), Json.bytes(reply.body()));
        },
        requests);
  }

  private CompletionStage<HttpResponse> metrics() {
    return CompletableFuture.supplyAsync(
        () ->
            HttpResponse.create()
                .withStatus(StatusCodes.OK)
                .withEntity(
                    ContentTypes.parse(MetricsExporter.CONTENT_TYPE), parts().metrics().scrape()),
        requests);
  }

  static HttpResponse json(int status, byte[] body) {
    ContentType json = ContentTypes.APPLICATION_JSON;
    return HttpResponse.create().withStatus(status).withEntity(json, body);
  }
}
