package dev.netherite.runtime;

import java.util.Map;

/**
 * {@link EntitiesTest} in the global persistence mode: entity operations, lock grants and their
 * answers cross partitions speculatively.
 */
class GlobalModeEntitiesTest extends EntitiesTest {
  @Override
  Map<String, Object> settings() {
    return Map.of("netherite.persistence-mode", "global");
  }
}
