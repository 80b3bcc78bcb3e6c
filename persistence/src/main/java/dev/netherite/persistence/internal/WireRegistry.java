package dev.netherite.persistence.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.EnumNameSerializer;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import dev.netherite.engine.WireRegistrar;
import dev.netherite.engine.WireRegistrar.IdRange;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.PendingActivity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.WeakHashMap;
import java.util.function.Function;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * INTERNAL API
 *
 * <p>Every class that crosses the wire between nodes or goes to the journal and snapshot store,
 * each with its fixed Kryo registration id. The Kryo serializer writes that id instead of the class
 * name, and registration is required: a class that is not registered cannot be serialized at all.
 *
 * <p>Each module registers its own classes: this class lists the JDK and Pekko types (with their
 * serializers), and every other module names a {@link WireRegistrar} in {@code
 * META-INF/services/dev.netherite.engine.WireRegistrar}, found with {@link ServiceLoader} (the
 * engine's is {@code dev.netherite.engine.partition.EngineWireTypes}, the runtime's {@code
 * dev.netherite.runtime.internal.RuntimeWireTypes}). The registrations are checked when the first
 * Kryo is created: overlapping ranges, an id outside its module's ranges, and an id or class
 * registered twice fail with a message naming both.
 *
 * <p>To add a class, add one line to its module's registrar: {@code wire(<next free id>,
 * MyEvent.class),}. Then add a sample instance to {@code WireSamples} (test) and run the
 * persistence tests once with {@code -Dgolden.update=true} to write its golden fixture, and commit
 * that file.
 */
public final class WireRegistry {
  private WireRegistry() {}

  // ===============================================================================================
  //  REGISTRATION IDS ARE FOREVER.
  //
  //  Every id, here and in every module's registrar, is written into journals, snapshots and
  //  messages in flight between nodes of different versions.
  //  - Never reuse an id, never renumber, never remove a line whose class may still be in a
  //    journal or snapshot.
  //  - A class whose serialized form changes (a record component or field added, removed, renamed
  //    or retyped: Kryo writes them without a schema, record components in the order of their
  //    NAMES) gets a NEW id under a NEW class name; the old class stays, registered under its old
  //    id, so that old data can still be read and converted.
  //  - Enums are written by constant name: adding or reordering constants is safe, renaming or
  //    removing is not.
  //  - The golden fixtures (persistence/src/test/resources/golden) fail when the bytes of a
  //    registered class change.
  //  - Until the first release (1.0) no journal is kept across versions: a change to an existing
  //    class may then regenerate its fixture instead, and its commit says so. (0.1: entities added
  //    fields to the state classes and a message to TimerTable.Timer.)
  //
  //  Ranges, one owner each (checked when the first Kryo is created):
  //    0..8       Kryo's own (int, String, float, boolean, byte, char, short, long, double; boxed
  //               types share them)
  //    9..19      unused, reserved
  //    20..99     JDK and Pekko types (this class)
  //    100..189   engine, with the dsl values it embeds (EngineWireTypes)
  //    190..198   runtime (RuntimeWireTypes): its ids from before modules had ranges
  //    199..399   engine
  //    400..499   runtime
  //    500..      free: a new module declares its own range in its registrar.
  //  Within a range gaps are fine; take the module's next free id.
  // ===============================================================================================
  private static final List<Entry> JDK_AND_PEKKO =
      List.of(
          // ---- 20..29: arrays
          wire(20, byte[].class),
          wire(21, String[].class), // also the format of PendingActivity (300)
          wire(22, int[].class),
          wire(23, long[].class),
          // ---- 30..39: mutable JDK collections (Kryo's CollectionSerializer, MapSerializer,
          // TreeMapSerializer, ...)
          wire(30, ArrayList.class),
          wire(31, LinkedList.class),
          wire(32, ArrayDeque.class),
          wire(33, HashMap.class),
          wire(34, LinkedHashMap.class),
          wire(35, TreeMap.class),
          wire(36, HashSet.class),
          wire(37, LinkedHashSet.class),
          wire(38, TreeSet.class),
          // ---- 40..49: immutable JDK collections; their classes are private to the JDK, named
          // here by an example
          // value. They read back as List.of / Set.of / Map.of (a SubList reads back as a List.of).
          immutableList(40, List.of("a", "b")), // List12
          immutableList(41, List.of("a", "b", "c")), // ListN
          immutableList(42, List.of("a", "b", "c", "d").subList(1, 3)), // SubList
          immutableSet(43, Set.of("a", "b")), // Set12
          immutableSet(44, Set.of("a", "b", "c")), // SetN
          immutableMap(45, Map.of("a", 1)), // Map1
          immutableMap(46, Map.of("a", 1, "b", 2)), // MapN
          // ---- 50..59: values (Kryo's TimeSerializers and UUIDSerializer)
          wire(50, Instant.class),
          wire(51, Duration.class),
          wire(52, UUID.class),
          // ---- 60..69: Pekko actor references, any implementation (see ActorRefSerializers)
          wire(
              60,
              org.apache.pekko.actor.typed.ActorRef.class,
              ActorRefSerializers.TypedActorRefSerializer::new),
          wire(
              61,
              org.apache.pekko.actor.ActorRef.class,
              ActorRefSerializers.ClassicActorRefSerializer::new));

  private static final String SERVICE_FILE = "META-INF/services/" + WireRegistrar.class.getName();

  /** The owners of the ids that no registrar may take. */
  private static final Source KRYO =
      new Source(
          "kryo", "Kryo's own types and the reserved ids", List.of(new IdRange(0, 19)), List.of());

  private static final Source PERSISTENCE =
      new Source(
          "persistence", WireRegistry.class.getName(), List.of(new IdRange(20, 99)), JDK_AND_PEKKO);

  /** The checked registrations per class loader (the one that finds the modules' registrars). */
  private static final Map<ClassLoader, Table> TABLES = new WeakHashMap<>();

  /**
   * A Kryo configured the way the serializer configures its pooled instances: registration
   * required, no references, actor references mapped onto their interface, every registered class
   * of every module registered.
   *
   * @param systemOrNull the actor system that resolves actor references and whose class loader
   *     finds the registrars, or {@code null} (tests): then this class's loader finds them, and an
   *     actor reference fails to serialize with a clear message
   * @throws IllegalStateException if the registrations are inconsistent (the message names the
   *     modules, ids and classes concerned)
   */
  public static Kryo newKryo(ExtendedActorSystem systemOrNull) {
    Kryo kryo = new Kryo(new ActorRefSerializers.ActorRefClassResolver(), null);
    kryo.setRegistrationRequired(true);
    // No shared or cyclic object graphs cross the wire; references would cost a varint per object.
    kryo.setReferences(false);
    // No-arg constructors when there are any; classes without one are created without running a
    // constructor.
    kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    registerAll(kryo, systemOrNull);
    return kryo;
  }

  /**
   * Registers every class with its fixed id and serializer. Prefer {@link #newKryo}: a Kryo created
   * with {@code new Kryo()} lacks the class resolver that maps actor-reference implementations to
   * their interface.
   *
   * @param systemOrNull the actor system that resolves actor references, or {@code null} when none
   *     are serialized
   */
  public static void registerAll(Kryo kryo, ExtendedActorSystem systemOrNull) {
    for (Entry entry : table(loaderOf(systemOrNull)).byId().values()) {
      Class<?> type = entry.type();
      if (entry.alias() && kryo.getClassResolver().getRegistration(type) != null) {
        continue;
      }
      Serializer<?> serializer =
          entry.serializer() != null ? entry.serializer().apply(systemOrNull) : null;
      if (serializer == null && type == PendingActivity.class) {
        serializer = new PendingActivitySerializer();
      }
      if (serializer == null && type.isEnum()) {
        serializer = enumByName(type);
      }
      if (serializer == null) {
        kryo.register(type, entry.id());
      } else {
        kryo.register(type, serializer, entry.id());
      }
    }
  }

  /**
   * Checks the registrations that the class loader of {@code systemOrNull} finds, as the first Kryo
   * does; the serializer calls it when the actor system creates it.
   *
   * @throws IllegalStateException if they are inconsistent
   */
  public static void check(ExtendedActorSystem systemOrNull) {
    table(loaderOf(systemOrNull));
  }

  /** Every registered class visible to this class's loader, in id order. */
  public static List<Class<?>> registeredClasses() {
    return defaultTable().byId().values().stream().map(Entry::type).distinct().toList();
  }

  /** The registration id of {@code type}, or -1 when it is not registered. */
  public static int registrationId(Class<?> type) {
    return defaultTable().byId().values().stream()
        .filter(e -> e.type() == type)
        .mapToInt(Entry::id)
        .findFirst()
        .orElse(-1);
  }

  /**
   * The module that registers {@code type} (e.g. {@code "engine"}), or null when it is not
   * registered.
   */
  public static String moduleOf(Class<?> type) {
    return defaultTable().byId().values().stream()
        .filter(e -> e.type() == type)
        .map(Entry::module)
        .findFirst()
        .orElse(null);
  }

  /** The modules whose registrations this class's loader finds, each with its id ranges. */
  public static Map<String, List<IdRange>> modules() {
    return defaultTable().ranges();
  }

  /**
   * Every concrete class under the {@code dev.netherite} packages visible to {@code loader}
   * (directories and jars) that implements {@link WireSerializable}: what a test compares with
   * {@link #registeredClasses()}.
   */
  public static List<Class<?>> concreteWireClasses(ClassLoader loader) {
    List<Class<?>> found = new ArrayList<>();
    for (String name : classNamesUnder(loader, "dev/netherite")) {
      Class<?> type;
      try {
        type = Class.forName(name, false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        continue;
      }
      boolean enumConstantBody = type.getSuperclass() != null && type.getSuperclass().isEnum();
      if (WireSerializable.class.isAssignableFrom(type)
          && !type.isInterface()
          && !Modifier.isAbstract(type.getModifiers())
          && !enumConstantBody) {
        found.add(type);
      }
    }
    return found;
  }

  /**
   * The binary names of the classes under {@code packagePath} (e.g. {@code dev/netherite}) in every
   * root.
   */
  static List<String> classNamesUnder(ClassLoader loader, String packagePath) {
    Set<String> names = new TreeSet<>();
    try {
      Enumeration<URL> roots = loader.getResources(packagePath);
      while (roots.hasMoreElements()) {
        URL url = roots.nextElement();
        if ("file".equals(url.getProtocol())) {
          Path packageDir = Path.of(url.toURI());
          Path root = packageDir;
          for (int i = 0; i < packagePath.split("/").length; i++) {
            root = root.getParent();
          }
          Path base = root;
          try (Stream<Path> files = Files.walk(packageDir)) {
            files
                .map(base::relativize)
                .map(p -> p.toString().replace(java.io.File.separatorChar, '/'))
                .forEach(p -> addClassName(names, p));
          }
        } else if ("jar".equals(url.getProtocol())) {
          JarURLConnection connection = (JarURLConnection) url.openConnection();
          connection.setUseCaches(false);
          try (JarFile jar = connection.getJarFile()) {
            for (JarEntry entry : Collections.list(jar.entries())) {
              if (entry.getName().startsWith(packagePath + "/")) {
                addClassName(names, entry.getName());
              }
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    return List.copyOf(names);
  }

  private static void addClassName(Set<String> names, String path) {
    if (path.endsWith(".class")
        && !path.endsWith("module-info.class")
        && !path.endsWith("package-info.class")) {
      names.add(path.substring(0, path.length() - ".class".length()).replace('/', '.'));
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Serializer<?> enumByName(Class<?> type) {
    return new EnumNameSerializer((Class<? extends Enum>) type);
  }

  private static ClassLoader loaderOf(ExtendedActorSystem systemOrNull) {
    return systemOrNull != null
        ? systemOrNull.dynamicAccess().classLoader()
        : WireRegistry.class.getClassLoader();
  }

  private static Table defaultTable() {
    return table(WireRegistry.class.getClassLoader());
  }

  private static Table table(ClassLoader loader) {
    synchronized (TABLES) {
      Table table = TABLES.get(loader);
      if (table == null) {
        table = validate(registrars(loader));
        TABLES.put(loader, table);
      }
      return table;
    }
  }

  private static List<WireRegistrar> registrars(ClassLoader loader) {
    List<WireRegistrar> found = new ArrayList<>();
    try {
      ServiceLoader.load(WireRegistrar.class, loader).forEach(found::add);
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException(
          "Cannot load the wire registrars listed in "
              + SERVICE_FILE
              + ": "
              + e.getMessage()
              + ". Each line must name a public class with a public no-argument constructor"
              + " that implements "
              + WireRegistrar.class.getName()
              + ".",
          e);
    }
    return found;
  }

  /**
   * Checks the registrations of {@code registrars} together with this class's own; visible for the
   * tests of the checks.
   */
  static Table validate(List<WireRegistrar> registrars) {
    List<Source> sources = new ArrayList<>();
    sources.add(KRYO);
    sources.add(PERSISTENCE);
    for (WireRegistrar registrar : registrars) {
      sources.add(Source.of(registrar));
    }
    if (sources.stream().noneMatch(s -> s.module().equals("engine"))) {
      throw new IllegalStateException(
          "No wire registrar of the engine was found (found: "
              + sources.stream().map(Source::module).toList()
              + "). Its jar lists "
              + dev.netherite.engine.partition.EngineWireTypes.class.getName()
              + " in "
              + SERVICE_FILE
              + "; a merged or shaded jar must keep that file with the lines of every module.");
    }
    for (int i = 0; i < sources.size(); i++) {
      for (int j = i + 1; j < sources.size(); j++) {
        checkDisjoint(sources.get(i), sources.get(j));
      }
    }
    Map<Integer, Entry> byId = new TreeMap<>();
    Map<Class<?>, Entry> byClass = new HashMap<>();
    Map<String, List<IdRange>> ranges = new LinkedHashMap<>();
    for (Source source : sources) {
      ranges.put(source.module(), source.ranges());
      for (Entry entry : source.entries()) {
        if (source.ranges().stream().noneMatch(r -> r.contains(entry.id()))) {
          throw new IllegalStateException(
              "Wire registration id "
                  + entry.id()
                  + " of "
                  + entry.type().getName()
                  + " lies outside the id ranges "
                  + source.ranges()
                  + " of module '"
                  + source.module()
                  + "' ("
                  + source.origin()
                  + "): give it a free id inside them, or give the module another range that"
                  + " no other module uses.");
        }
        Entry previous = byId.putIfAbsent(entry.id(), entry);
        if (previous != null) {
          throw new IllegalStateException(
              "Wire registration id "
                  + entry.id()
                  + " is used twice in module '"
                  + source.module()
                  + "' ("
                  + source.origin()
                  + "), by "
                  + previous.type().getName()
                  + " and by "
                  + entry.type().getName()
                  + ". Keep the id that is already written for its class, and give the other"
                  + " class the module's next free id.");
        }
        Entry sameClass = byClass.putIfAbsent(entry.type(), entry);
        if (sameClass != null && !entry.alias()) {
          throw new IllegalStateException(
              "Class "
                  + entry.type().getName()
                  + " is registered twice, as "
                  + sameClass.id()
                  + " (module '"
                  + sameClass.module()
                  + "') and as "
                  + entry.id()
                  + " (module '"
                  + entry.module()
                  + "'): a class has one id, registered by the module that defines it.");
        }
      }
    }
    return new Table(Collections.unmodifiableMap(byId), Collections.unmodifiableMap(ranges));
  }

  private static void checkDisjoint(Source a, Source b) {
    for (IdRange ra : a.ranges()) {
      for (IdRange rb : b.ranges()) {
        if (ra.overlaps(rb)) {
          throw new IllegalStateException(
              "The wire id ranges of two modules overlap: '"
                  + a.module()
                  + "' ("
                  + a.origin()
                  + ") owns "
                  + ra
                  + " and '"
                  + b.module()
                  + "' ("
                  + b.origin()
                  + ") owns "
                  + rb
                  + ". Each module needs ids of its own: move the range of the newer registrar"
                  + " (ids already written keep their values; the ranges in use are listed in "
                  + WireRegistry.class.getName()
                  + ").");
        }
      }
    }
  }

  private static Entry wire(int id, Class<?> type) {
    return new Entry(id, type, null, false);
  }

  private static Entry wire(
      int id, Class<?> type, Function<ExtendedActorSystem, Serializer<?>> serializer) {
    return new Entry(id, type, serializer, false);
  }

  private static Entry immutableList(int id, List<?> example) {
    return jdkImmutable(id, example, s -> new JdkImmutableCollectionSerializers.ListSerializer());
  }

  private static Entry immutableSet(int id, Set<?> example) {
    return jdkImmutable(id, example, s -> new JdkImmutableCollectionSerializers.SetSerializer());
  }

  private static Entry immutableMap(int id, Map<?, ?> example) {
    return jdkImmutable(id, example, s -> new JdkImmutableCollectionSerializers.MapSerializer());
  }

  /**
   * A JDK-private class named by an example value. Should a future JDK give two examples the same
   * class, the later entry is skipped (an alias) rather than overwriting the first id.
   */
  private static Entry jdkImmutable(
      int id, Object example, Function<ExtendedActorSystem, Serializer<?>> serializer) {
    return new Entry(id, example.getClass(), serializer, true);
  }

  /** The checked registrations of every module, and the modules' ranges. */
  record Table(Map<Integer, Entry> byId, Map<String, List<IdRange>> ranges) {}

  /** One module's registrations. */
  private record Source(String module, String origin, List<IdRange> ranges, List<Entry> entries) {
    static Source of(WireRegistrar registrar) {
      String origin = registrar.getClass().getName();
      String module = Objects.requireNonNull(registrar.module(), () -> origin + ".module()");
      List<Entry> entries =
          registrar.registrations().stream()
              .map(r -> new Entry(r.id(), r.type(), null, false))
              .toList();
      return new Source(module, origin, List.copyOf(registrar.ids()), entries);
    }

    Source {
      entries = entries.stream().map(e -> e.in(module)).toList();
    }
  }

  /**
   * One registration.
   *
   * @param serializer null for Kryo's default serializer of the class (for records: Kryo's
   *     RecordSerializer; enums are written by name)
   * @param alias whether the entry is skipped when its class is already registered by an earlier
   *     entry
   * @param module the module that registers it, for messages
   */
  record Entry(
      int id,
      Class<?> type,
      Function<ExtendedActorSystem, Serializer<?>> serializer,
      boolean alias,
      String module) {
    Entry(
        int id,
        Class<?> type,
        Function<ExtendedActorSystem, Serializer<?>> serializer,
        boolean alias) {
      this(id, type, serializer, alias, null);
    }

    Entry in(String owner) {
      return new Entry(id, type, serializer, alias, owner);
    }
  }
}
