package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code netherite.memory.records}: a share of the heap, a size, or off; anything else refused. */
class RecordBudgetSettingTest {
  private static final long HEAP = 1L << 30;

  private static long budget(Object value) {
    Config c = ConfigFactory.parseMap(Map.of("memory.records", value));
    return RuntimeSettings.recordBudget(c, "memory.records", HEAP);
  }

  @Test
  void aShareOfTheHeapASizeOrOff() {
    assertEquals(HEAP / 4, budget("25%"));
    assertEquals(0, budget("0%"));
    assertEquals(256L << 20, budget("256MiB"));
    assertEquals(0, budget("0"));
    assertEquals(Long.MAX_VALUE, budget("off"));
    assertEquals(Long.MAX_VALUE, budget("OFF"));
  }

  @Test
  void otherValuesAreRefusedNamingTheSettingAndWhatToGive() {
    for (String bad : new String[] {"150%", "abc%", "lots", "-5MiB"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> budget(bad), bad);
      assertTrue(
          e.getMessage().startsWith("netherite.memory.records = \"" + bad + "\""), e.getMessage());
      assertTrue(e.getMessage().contains("256MiB"), e.getMessage());
    }
  }

  @Test
  void theDefaultIsAQuarterOfTheHeap() {
    Config reference = ConfigFactory.defaultReference().getConfig("netherite");
    assertEquals("25%", reference.getString("memory.records"));
  }
}
