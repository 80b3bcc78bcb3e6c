package dev.netherite.samples.cluster;

import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import scala.concurrent.Await;
import scala.concurrent.duration.Duration;

/**
 * A network cut at the transport, for the process-per-node tests where a real one (network
 * namespaces) cannot be made: Artery's test mode drops every message between this node and another,
 * in both directions, as Pekko's own multi-node tests do. It needs {@code
 * pekko.remote.artery.advanced.test-mode = on}, which only the tests set; without it Artery would
 * accept the command and drop nothing, so it is refused.
 */
final class TransportFaults {
  private static final String TEST_MODE = "pekko.remote.artery.advanced.test-mode";

  private TransportFaults() {}

  /** Drops ({@code cut}) or passes again every message to and from the node at {@code hostPort}. */
  @SuppressWarnings("deprecation") // Artery takes the classic transport's throttle commands
  static void set(ActorSystem system, String hostPort, boolean cut) {
    if (!system.settings().config().getBoolean(TEST_MODE)) {
      throw new IllegalStateException(
          "a cut at the transport needs "
              + TEST_MODE
              + " = on (e.g. in a --config file); it is a test setting, off by default.");
    }
    int colon = hostPort.lastIndexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException(
          "the node to cut from is HOST:PORT, e.g. 127.0.0.1:2552; it is '" + hostPort + "'.");
    }
    Address other =
        new Address(
            "pekko",
            system.name(),
            hostPort.substring(0, colon),
            Integer.parseInt(hostPort.substring(colon + 1)));
    Object command =
        new ThrottlerTransportAdapter.SetThrottle(
            other,
            ThrottlerTransportAdapter.bothDirection(),
            cut
                ? ThrottlerTransportAdapter.blackholeThrottleMode()
                : ThrottlerTransportAdapter.unthrottledThrottleMode());
    try {
      Await.result(
          ((RARP) RARP.get(system)).provider().transport().managementCommand(command),
          Duration.create(10, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while setting the cut to " + hostPort, e);
    } catch (Exception e) {
      throw new IllegalStateException("the transport refused the cut to " + hostPort + ": " + e, e);
    }
  }
}
