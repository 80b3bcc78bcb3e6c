package dev.netherite.persistence.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The serialization contract (docs/STYLE.md, rule 12): the bytes of every registered class's sample
 * must equal the committed fixture {@code src/test/resources/golden/<id>-<SimpleName>.bin}, and the
 * committed fixture must read back as the sample. A change that would make old journals unreadable
 * fails here.
 *
 * <p>To write the fixtures (a new class, or a deliberate change of format before any data exists),
 * run {@code mvn -pl persistence test -Dtest=GoldenFixturesTest -Dgolden.update=true} and commit
 * the files.
 */
class GoldenFixturesTest {
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");
  private static final Path GOLDEN =
      Path.of(
          System.getProperty("basedir", System.getProperty("user.dir")),
          "src",
          "test",
          "resources",
          "golden");
  private static final String HOW_TO_UPDATE =
      "If this is a new class, or the format may change because nothing was ever recorded with it, (re)generate the "
          + "fixtures with: mvn -pl persistence test -Dtest=GoldenFixturesTest -Dgolden.update=true, and commit "
          + "them. Otherwise the change breaks existing journals: keep the old class under its id and register the "
          + "changed one as a new class with a new id.";

  @TestFactory
  Stream<DynamicTest> everySampleMatchesItsFixture() {
    Map<Class<?>, Object> samples = WireSamples.all();
    return samples.entrySet().stream()
        .map(
            e ->
                DynamicTest.dynamicTest(
                    fixtureName(e.getKey()), () -> checkFixture(e.getKey(), e.getValue())));
  }

  private static void checkFixture(Class<?> type, Object sample) throws IOException {
    Path file = GOLDEN.resolve(fixtureName(type));
    byte[] bytes = write(sample);
    if (UPDATE) {
      Files.createDirectories(GOLDEN);
      Files.write(file, bytes);
    }
    if (!Files.exists(file)) {
      fail("Missing golden fixture " + file + " for " + type.getName() + ". " + HOW_TO_UPDATE);
    }
    byte[] golden = Files.readAllBytes(file);
    assertArrayEquals(
        golden,
        bytes,
        () ->
            "The bytes of the sample of "
                + type.getName()
                + " differ from "
                + file
                + ":\n  golden: "
                + HexFormat.of().formatHex(golden)
                + "\n  now:    "
                + HexFormat.of().formatHex(bytes)
                + "\n"
                + HOW_TO_UPDATE);
    assertWireEquals(sample, read(golden), type, golden);
  }

  @Test
  void everyRegisteredClassHasASample() {
    List<String> missing = new ArrayList<>();
    for (Class<?> type : WireRegistry.registeredClasses()) {
      if (!WireSamples.all().containsKey(type)
          && !WireSamples.COVERED_ELSEWHERE.contains(type)
          && !WireSamples.COVERED_BY_PARTITION_STATE.contains(type)) {
        missing.add(type.getName());
      }
    }
    assertTrue(
        missing.isEmpty(),
        () ->
            "Registered classes without a sample in WireSamples (add one, then write its fixture): "
                + missing);
    for (Class<?> type : WireSamples.all().keySet()) {
      assertTrue(
          WireRegistry.registrationId(type) >= 0,
          () -> "A sample of an unregistered class: " + type);
    }
  }

  @Test
  void thePartitionStateSampleHoldsEveryClassItCovers() {
    Set<Class<?>> reachable = WireSamples.reachableClasses(WireSamples.partitionState());
    List<String> absent =
        WireSamples.COVERED_BY_PARTITION_STATE.stream()
            .filter(c -> !reachable.contains(c))
            .map(Class::getName)
            .sorted()
            .toList();
    assertTrue(
        absent.isEmpty(),
        () ->
            "Classes in COVERED_BY_PARTITION_STATE that the PartitionState sample does not hold: "
                + absent);
    for (Class<?> type : WireSamples.COVERED_BY_PARTITION_STATE) {
      assertTrue(
          WireRegistry.registrationId(type) >= 0, () -> "Covered but not registered: " + type);
    }
  }

  /**
   * Every id on this classpath (Kryo's, persistence's and the engine's registrations) still names
   * the class it named when {@code golden/ids.txt} was written: ids may be added, never changed or
   * removed. The runtime's ids are pinned by its own test in {@code sharding/}.
   */
  @Test
  void everyRecordedIdStillNamesItsClass() throws IOException {
    Path file = GOLDEN.resolve("ids.txt");
    Map<Integer, String> now = new TreeMap<>();
    for (Class<?> type : WireRegistry.registeredClasses()) {
      now.put(WireRegistry.registrationId(type), type.getName());
    }
    if (UPDATE) {
      StringBuilder text =
          new StringBuilder("# id class: the registrations of kryo, persistence and engine\n");
      now.forEach((id, name) -> text.append(id).append(' ').append(name).append('\n'));
      Files.writeString(file, text);
    }
    List<String> changed = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split(" ");
      int id = Integer.parseInt(parts[0]);
      if (!parts[1].equals(now.get(id))) {
        changed.add(id + " was " + parts[1] + ", is now " + now.get(id));
      }
    }
    assertTrue(
        changed.isEmpty(),
        () ->
            "Registration ids changed or removed (ids are forever: restore them, and give a new"
                + " class a new id): "
                + changed);
  }

  /**
   * The registrations come from the registrars on the classpath: here persistence's own and the
   * engine's (found by ServiceLoader), each class under its module.
   */
  @Test
  void theEngineRegistersItsOwnClasses() {
    assertEquals(Set.of("kryo", "persistence", "engine"), WireRegistry.modules().keySet());
    assertEquals("engine", WireRegistry.moduleOf(dev.netherite.engine.partition.EventBatch.class));
    assertEquals("engine", WireRegistry.moduleOf(dev.netherite.dsl.InstanceId.class));
    assertEquals("persistence", WireRegistry.moduleOf(java.util.ArrayList.class));
    Kryo kryo = WireRegistry.newKryo(null);
    assertEquals(
        WireRegistry.registeredClasses().size(),
        WireRegistry.registeredClasses().stream()
            .filter(c -> kryo.getRegistration(c) != null)
            .count());
  }

  @Test
  void everyConcreteWireSerializableClassIsRegistered() {
    ClassLoader loader = getClass().getClassLoader();
    // The scan must see the engine's classes and this module's, or it proves nothing.
    List<String> scanned = WireRegistry.classNamesUnder(loader, "dev/netherite");
    assertTrue(
        scanned.contains("dev.netherite.engine.WireSerializable"),
        "the engine's classes were not scanned");
    assertTrue(
        scanned.contains(WireRegistry.class.getName()), "the persistence classes were not scanned");

    List<String> unregistered =
        WireRegistry.concreteWireClasses(loader).stream()
            .filter(c -> WireRegistry.registrationId(c) < 0)
            .map(Class::getName)
            .toList();
    assertTrue(
        unregistered.isEmpty(),
        () ->
            "WireSerializable classes missing from WireRegistry (add each with a new id): "
                + unregistered);
  }

  @Test
  void registrationIdsAreTheOnesOnTheWire() {
    Kryo kryo = WireRegistry.newKryo(null);
    for (Class<?> type : WireRegistry.registeredClasses()) {
      assertEquals(
          WireRegistry.registrationId(type), kryo.getRegistration(type).getId(), type.getName());
    }
  }

  static String fixtureName(Class<?> type) {
    return WireRegistry.registrationId(type)
        + "-"
        + type.getSimpleName().replace("[]", "Array")
        + ".bin";
  }

  private static byte[] write(Object value) {
    Output output = new Output(256, -1);
    WireRegistry.newKryo(null).writeClassAndObject(output, value);
    return output.toBytes();
  }

  private static Object read(byte[] bytes) {
    return WireRegistry.newKryo(null).readClassAndObject(new Input(bytes));
  }

  /**
   * Equality as the engine relies on it: arrays by content, collections without equals (ArrayDeque)
   * by elements. A class that does not override {@code equals} (the mutable checkpoint classes:
   * PartitionState and what it holds) is compared by serializing the value read back again and
   * comparing those bytes with the golden bytes: the read lost nothing that the format carries.
   */
  static void assertWireEquals(Object expected, Object actual, Class<?> type, byte[] golden) {
    boolean jdkImmutable = type.getName().startsWith("java.util.ImmutableCollections$");
    if (!jdkImmutable) {
      // A JDK immutable collection may come back as another of its private classes (SubList as
      // List.of).
      assertEquals(expected.getClass(), Objects.requireNonNull(actual).getClass());
    }
    if (expected.getClass().isArray()) {
      assertTrue(
          Objects.deepEquals(expected, actual), () -> type.getName() + " read back differently");
    } else if (expected instanceof java.util.ArrayDeque<?> deque) {
      assertEquals(List.copyOf(deque), List.copyOf((Collection<?>) actual));
    } else if (!overridesEquals(expected.getClass())) {
      byte[] again = write(actual);
      assertArrayEquals(
          golden,
          again,
          () ->
              type.getName()
                  + " has no equals; serialized again after reading, it gives other bytes than the golden fixture:"
                  + "\n  golden: "
                  + HexFormat.of().formatHex(golden)
                  + "\n  again:  "
                  + HexFormat.of().formatHex(again));
    } else {
      assertEquals(expected, actual);
    }
  }

  private static boolean overridesEquals(Class<?> type) {
    try {
      return type.getMethod("equals", Object.class).getDeclaringClass() != Object.class;
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
  }
}
