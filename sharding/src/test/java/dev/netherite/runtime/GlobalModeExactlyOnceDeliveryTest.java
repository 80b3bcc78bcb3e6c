package dev.netherite.runtime;

import java.util.Map;

/**
 * {@link ExactlyOnceDeliveryTest} in the global persistence mode: speculative messages, and what
 * partitions tell each other of their commit, are lost and duplicated.
 */
class GlobalModeExactlyOnceDeliveryTest extends ExactlyOnceDeliveryTest {
  @Override
  Map<String, Object> settings() {
    return Map.of("netherite.persistence-mode", "global");
  }
}
