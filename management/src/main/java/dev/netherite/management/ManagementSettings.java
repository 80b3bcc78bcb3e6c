package dev.netherite.management;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The management server's settings, from {@code netherite.management} (defaults and comments in
 * this module's {@code reference.conf}).
 *
 * @param enabled whether {@link NetheriteManagement#startIfEnabled} starts the server
 * @param hostname the interface to bind to
 * @param port the port, or 0 for a free one
 * @param authToken the bearer token requests must carry, or empty for none
 * @param stuckAfter how long a partition with pending work may make no progress before it is
 *     reported stuck
 * @param partitionTimeout how long to wait for a partition's report
 * @param maxWait the longest long poll of an instance's completion
 */
public record ManagementSettings(
    boolean enabled,
    String hostname,
    int port,
    String authToken,
    Duration stuckAfter,
    Duration partitionTimeout,
    Duration maxWait) {

  public ManagementSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          "netherite.management.port is " + port + "; it must be between 0 and 65535.");
    }
    if (hostname == null || hostname.isBlank()) {
      throw new IllegalArgumentException(
          "netherite.management.hostname is empty; use an address such as 127.0.0.1 or 0.0.0.0.");
    }
    authToken = authToken == null ? "" : authToken.strip();
  }

  public static ManagementSettings from(Config config) {
    Config c = config.getConfig("netherite.management");
    return new ManagementSettings(
        c.getBoolean("enabled"),
        c.getString("hostname"),
        c.getInt("port"),
        c.getString("auth-token"),
        c.getDuration("stuck-after"),
        c.getDuration("partition-timeout"),
        c.getDuration("max-wait"));
  }

  public boolean authRequired() {
    return !authToken.isEmpty();
  }
}
