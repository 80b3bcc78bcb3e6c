package dev.netherite.persistence.internal;

import static dev.netherite.engine.WireRegistrar.range;
import static dev.netherite.engine.WireRegistrar.wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.engine.WireRegistrar;
import dev.netherite.engine.partition.EngineWireTypes;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checks of the modules' registrations: every inconsistency fails with a message that names the
 * modules, the ids and the classes, before anything is written.
 */
class WireRegistryChecksTest {
  record First() {}

  record Second() {}

  private record Fake(String module, List<IdRange> ids, List<Registration> registrations)
      implements WireRegistrar {}

  private static String failure(WireRegistrar... registrars) {
    return assertThrows(
            IllegalStateException.class, () -> WireRegistry.validate(List.of(registrars)))
        .getMessage();
  }

  @Test
  void aModuleWithItsOwnRangeIsAccepted() {
    WireRegistry.Table table =
        WireRegistry.validate(
            List.of(
                new EngineWireTypes(),
                new Fake("extra", List.of(range(500, 509)), List.of(wire(500, First.class)))));
    assertEquals(First.class, table.byId().get(500).type());
    assertEquals("extra", table.byId().get(500).module());
    assertEquals(List.of(range(500, 509)), table.ranges().get("extra"));
  }

  @Test
  void overlappingRangesFail() {
    String message =
        failure(
            new EngineWireTypes(),
            new Fake("extra", List.of(range(380, 420)), List.of(wire(400, First.class))));
    assertTrue(message.contains("overlap"), message);
    assertTrue(message.contains("'engine'") && message.contains("199..399"), message);
    assertTrue(message.contains("'extra'") && message.contains("380..420"), message);
  }

  @Test
  void aRangeOverTheReservedOrJdkIdsFails() {
    String message =
        failure(
            new EngineWireTypes(),
            new Fake("extra", List.of(range(50, 60)), List.of(wire(55, First.class))));
    assertTrue(message.contains("'persistence'") && message.contains("20..99"), message);
  }

  @Test
  void anIdOutsideItsModulesRangesFails() {
    String message =
        failure(
            new EngineWireTypes(),
            new Fake("extra", List.of(range(500, 509)), List.of(wire(510, First.class))));
    assertTrue(message.contains("510"), message);
    assertTrue(message.contains(First.class.getName()), message);
    assertTrue(message.contains("[500..509]") && message.contains("'extra'"), message);
  }

  @Test
  void anIdTwiceInAModuleFails() {
    String message =
        failure(
            new EngineWireTypes(),
            new Fake(
                "extra",
                List.of(range(500, 509)),
                List.of(wire(501, First.class), wire(501, Second.class))));
    assertTrue(message.contains("501") && message.contains("twice"), message);
    assertTrue(
        message.contains(First.class.getName()) && message.contains(Second.class.getName()),
        message);
  }

  @Test
  void aClassTwiceFails() {
    String message =
        failure(
            new EngineWireTypes(),
            new Fake(
                "extra",
                List.of(range(500, 509)),
                List.of(wire(500, dev.netherite.engine.partition.EventBatch.class))));
    assertTrue(message.contains("EventBatch") && message.contains("registered twice"), message);
    assertTrue(message.contains("150") && message.contains("500"), message);
  }

  @Test
  void withoutTheEnginesRegistrarTheStartFails() {
    String message =
        failure(new Fake("extra", List.of(range(500, 509)), List.of(wire(500, First.class))));
    assertTrue(message.contains("No wire registrar of the engine"), message);
    assertTrue(message.contains("META-INF/services/dev.netherite.engine.WireRegistrar"), message);
  }
}
