package dev.netherite.runtime;

import java.util.Map;

/**
 * {@link CrashRecoveryTest} in the global persistence mode: the abrupt stop also takes the
 * speculative work that other partitions consumed before it was durable.
 */
class GlobalModeCrashRecoveryTest extends CrashRecoveryTest {
  @Override
  Map<String, Object> settings() {
    return Map.of("netherite.persistence-mode", "global");
  }
}
