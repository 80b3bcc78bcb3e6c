package dev.netherite.runtime.internal;

import static dev.netherite.engine.WireRegistrar.range;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.netherite.persistence.internal.WireRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.junit.jupiter.api.Test;

/**
 * The runtime registers its own wire classes (through ServiceLoader, not by name in persistence),
 * under the ids they have always had.
 */
class RuntimeWireTypesTest {

  @Test
  void theRuntimesIdsAreTheOnesAlreadyWritten() {
    Map<Integer, Class<?>> pinned = new LinkedHashMap<>();
    pinned.put(190, PartitionCommand.ClientCommand.class);
    pinned.put(191, PartitionCommand.QueryCommand.class);
    pinned.put(192, PartitionCommand.AwaitCompletion.class);
    pinned.put(193, PartitionCommand.Deliver.class);
    pinned.put(194, PartitionCommand.Ack.class);
    pinned.put(195, PartitionCommand.Wake.class);
    pinned.put(196, PartitionCommand.RestartLog.class);
    pinned.put(197, TaskHubRecord.PartitionCountRecorded.class);
    pinned.put(198, TaskHubRecord.Check.class);
    Kryo kryo = WireRegistry.newKryo(null);
    pinned.forEach(
        (id, type) -> {
          assertEquals(id, WireRegistry.registrationId(type), type.getName());
          assertEquals("runtime", WireRegistry.moduleOf(type), type.getName());
          assertEquals(id, kryo.getRegistration(type).getId(), type.getName());
        });
    assertEquals(List.of(range(190, 198), range(400, 499)), WireRegistry.modules().get("runtime"));
  }

  @Test
  void everyWireClassOfTheRuntimeIsRegistered() {
    List<String> unregistered =
        WireRegistry.concreteWireClasses(getClass().getClassLoader()).stream()
            .filter(c -> c.getName().startsWith("dev.netherite.runtime."))
            .filter(c -> !NoSerializationVerificationNeeded.class.isAssignableFrom(c))
            .filter(c -> WireRegistry.registrationId(c) < 0)
            .map(Class::getName)
            .toList();
    assertTrue(
        unregistered.isEmpty(),
        () -> "Runtime wire classes missing from RuntimeWireTypes: " + unregistered);
  }

  @Test
  void aCommandReadsBackAsWritten() {
    Kryo kryo = WireRegistry.newKryo(null);
    Output output = new Output(64, -1);
    kryo.writeClassAndObject(output, new PartitionCommand.Ack(3, 42));
    Object read = WireRegistry.newKryo(null).readClassAndObject(new Input(output.toBytes()));
    assertEquals(new PartitionCommand.Ack(3, 42), read);
  }
}
