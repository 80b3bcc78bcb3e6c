package dev.netherite.management.internal;

import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.ExtensionId;
import org.apache.pekko.actor.ExtensionIdProvider;

/**
 * INTERNAL API
 *
 * <p>Registers {@link NetheriteRoutes} with Pekko Management ({@code
 * pekko.management.http.routes.netherite} in reference.conf). Pekko Management loads a route
 * provider as a Scala object: it reads the static field {@code MODULE$}, hence its name.
 */
public final class NetheriteRouteProvider extends AbstractExtensionId<NetheriteRoutes>
    implements ExtensionIdProvider {
  public static final NetheriteRouteProvider MODULE$ = new NetheriteRouteProvider();

  private NetheriteRouteProvider() {}

  @Override
  public NetheriteRoutes createExtension(ExtendedActorSystem system) {
    return new NetheriteRoutes(system);
  }

  @Override
  public ExtensionId<NetheriteRoutes> lookup() {
    return MODULE$;
  }
}
