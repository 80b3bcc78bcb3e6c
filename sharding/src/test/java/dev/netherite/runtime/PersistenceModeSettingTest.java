package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code netherite.persistence-mode} takes local, global and persist-first; {@code
 * netherite.global.max-unconfirmed} a duration above 0; anything else is refused naming the
 * setting.
 */
class PersistenceModeSettingTest {

  private static RuntimeSettings settings(Map<String, Object> overrides) {
    return RuntimeSettings.from(
        ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @Test
  void everyModeIsRead() {
    assertEquals(RuntimeSettings.PersistenceMode.LOCAL, settings(Map.of()).persistenceMode());
    assertEquals(
        RuntimeSettings.PersistenceMode.GLOBAL,
        settings(Map.of("netherite.persistence-mode", "global")).persistenceMode());
    assertEquals(
        RuntimeSettings.PersistenceMode.PERSIST_FIRST,
        settings(Map.of("netherite.persistence-mode", "persist-first")).persistenceMode());
  }

  @Test
  void anUnknownModeIsRefusedWithTheChoices() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> settings(Map.of("netherite.persistence-mode", "speculative")));
    assertTrue(
        e.getMessage().contains("'local', 'global' or 'persist-first'")
            && e.getMessage().contains("netherite.persistence-mode"),
        e.getMessage());
  }

  @Test
  void maxUnconfirmedIsADurationAboveZero() {
    assertEquals(Duration.ofSeconds(10), settings(Map.of()).globalMaxUnconfirmed());
    assertEquals(
        Duration.ofMillis(2500),
        settings(Map.of("netherite.global.max-unconfirmed", "2500ms")).globalMaxUnconfirmed());
    for (String bad : new String[] {"0s", "-1s", "soon"}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> settings(Map.of("netherite.global.max-unconfirmed", bad)),
              bad);
      assertTrue(e.getMessage().contains("netherite.global.max-unconfirmed"), e.getMessage());
    }
  }
}
