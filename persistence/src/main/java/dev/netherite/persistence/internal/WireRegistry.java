package dev.netherite.persistence.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.EnumNameSerializer;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.RetryPolicy;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.DedupVector;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.EntityRecord;
import dev.netherite.engine.partition.EntityView;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.InstanceState;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.LockOwner;
import dev.netherite.engine.partition.Outbox;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.RequestLog;
import dev.netherite.engine.partition.StepResult;
import dev.netherite.engine.partition.TimerTable;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * INTERNAL API
 *
 * <p>THE list of every class that crosses the wire between nodes or goes to the journal and
 * snapshot store, each with its fixed Kryo registration id. The Kryo serializer writes that id
 * instead of the class name, and registration is required: a class that is not listed here cannot
 * be serialized at all.
 *
 * <p>To add a class, add one line to {@link #ENTRIES}: {@code wire(<next free id>,
 * MyEvent.class),}. Then add a sample instance to {@code WireSamples} (test) and run the
 * persistence tests once with {@code -Dgolden.update=true} to write its golden fixture, and commit
 * that file.
 */
public final class WireRegistry {
  private WireRegistry() {}

  // =================================================================================================================
  //  REGISTRATION IDS ARE FOREVER.
  //
  //  Every id below is written into journals, snapshots and messages in flight between nodes of
  // different versions.
  //  - Never reuse an id, never renumber, never remove a line whose class may still be in a journal
  // or snapshot.
  //  - A class whose serialized form changes (a record component or field added, removed, renamed
  // or retyped: Kryo
  //    writes them without a schema, record components in the order of their NAMES) gets a NEW id
  // under a NEW class
  //    name; the old class stays, registered under its old id, so that old data can still be read
  // and converted.
  //  - Enums are written by constant name: adding or reordering constants is safe, renaming or
  // removing is not.
  //  - The golden fixtures (persistence/src/test/resources/golden) fail when the bytes of a
  // registered class change.
  //  - Until the first release (1.0) no journal is kept across versions: a change to an existing
  // class may then
  //    regenerate its fixture instead, and its commit says so. (0.1: entities added fields to the
  // state classes
  //    and a message to TimerTable.Timer.)
  //
  //  Ranges:
  //    0..8      Kryo's own (int, String, float, boolean, byte, char, short, long, double; boxed
  // types share them)
  //    9..19     unused, reserved
  //    20..99    JDK and Pekko types
  //    100..     Netherite classes (dsl, engine, persistence, sharding); gaps are fine, take max +
  // 1.
  // =================================================================================================================
  private static final List<Entry> ENTRIES =
      List.of(
          // ---- 20..29: arrays
          wire(20, byte[].class),
          wire(21, String[].class),
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
              ActorRefSerializers.ClassicActorRefSerializer::new),
          // ---- 100..: Netherite classes. dsl values embedded in engine events:
          wire(100, InstanceId.class),
          wire(101, FailureDetails.class),
          wire(102, RetryPolicy.class),
          wire(103, RuntimeStatus.class),
          // ---- engine (dev.netherite.engine.WireSerializable implementors)
          wire(104, PartitionMessage.ExecutionRequested.class),
          wire(105, PartitionMessage.SubOrchestrationEnded.class),
          wire(106, PartitionMessage.EventDelivered.class),
          // ---- dsl history events (embedded in engine events and state)
          wire(110, HistoryEvent.ExecutionStarted.class),
          wire(111, HistoryEvent.OrchestratorStarted.class),
          wire(112, HistoryEvent.TaskScheduled.class),
          wire(113, HistoryEvent.TaskCompleted.class),
          wire(114, HistoryEvent.TaskFailed.class),
          wire(115, HistoryEvent.TimerCreated.class),
          wire(116, HistoryEvent.TimerFired.class),
          wire(117, HistoryEvent.SubOrchestrationCreated.class),
          wire(118, HistoryEvent.SubOrchestrationCompleted.class),
          wire(119, HistoryEvent.SubOrchestrationFailed.class),
          wire(120, HistoryEvent.EventRaised.class),
          wire(121, HistoryEvent.EventSent.class),
          wire(122, HistoryEvent.ExecutionCompleted.class),
          wire(123, HistoryEvent.ContinuedAsNew.class),
          wire(124, HistoryEvent.ExecutionTerminated.class),
          wire(125, HistoryEvent.ExecutionSuspended.class),
          wire(126, HistoryEvent.ExecutionResumed.class),
          // ---- engine: client requests, queries, responses
          wire(130, ClientRequest.StartOrchestration.class),
          wire(131, ClientRequest.RaiseEvent.class),
          wire(132, ClientRequest.Terminate.class),
          wire(133, ClientRequest.Suspend.class),
          wire(134, ClientRequest.Resume.class),
          wire(135, ClientRequest.Purge.class),
          wire(136, ClientQuery.GetStatus.class),
          wire(137, ClientQuery.ListInstances.class),
          wire(138, ClientResponse.Started.class),
          wire(139, ClientResponse.Accepted.class),
          wire(140, ClientResponse.Purged.class),
          wire(141, ClientResponse.Rejected.class),
          wire(142, ClientResponse.Reason.class),
          wire(143, ClientResponse.Status.class),
          wire(144, ClientResponse.InstanceList.class),
          wire(145, InstanceView.class),
          // ---- engine: the commit log
          wire(150, EventBatch.class),
          wire(151, PartitionEvent.ClientRequestReceived.class),
          wire(152, PartitionEvent.MessagesReceived.class),
          wire(153, PartitionEvent.DeliveryAcknowledged.class),
          wire(154, PartitionEvent.StepCompleted.class),
          wire(155, PartitionEvent.ActivityCompleted.class),
          wire(156, PartitionEvent.TimersFired.class),
          wire(157, StepResult.class),
          wire(158, StepResult.Completed.class),
          wire(159, StepResult.Failed.class),
          wire(160, StepResult.ContinuedAsNew.class),
          // ---- engine: the checkpoint (PartitionState and what it holds)
          wire(170, PartitionState.class),
          wire(171, InstanceState.class),
          wire(172, Outbox.class),
          wire(173, "dev.netherite.engine.partition.Outbox$Channel"),
          wire(174, Outbox.Entry.class),
          wire(175, DedupVector.class),
          wire(176, TimerTable.class),
          wire(177, TimerTable.Timer.class),
          wire(178, RequestLog.class),
          // ---- sharding (named: sharding depends on persistence)
          wire(190, "dev.netherite.runtime.internal.PartitionCommand$ClientCommand"),
          wire(191, "dev.netherite.runtime.internal.PartitionCommand$QueryCommand"),
          wire(192, "dev.netherite.runtime.internal.PartitionCommand$AwaitCompletion"),
          wire(193, "dev.netherite.runtime.internal.PartitionCommand$Deliver"),
          wire(194, "dev.netherite.runtime.internal.PartitionCommand$Ack"),
          wire(195, "dev.netherite.runtime.internal.PartitionCommand$Wake"),
          wire(196, "dev.netherite.runtime.internal.PartitionCommand$RestartLog"),
          wire(197, "dev.netherite.runtime.internal.TaskHubRecord$PartitionCountRecorded"),
          wire(198, "dev.netherite.runtime.internal.TaskHubRecord$Check"),
          // ---- entities: history events, messages, state, log events, client requests
          wire(199, HistoryEvent.EntityCalled.class),
          wire(200, HistoryEvent.EntitySignaled.class),
          wire(201, HistoryEvent.EntityLockRequested.class),
          wire(202, HistoryEvent.EntityUnlockSent.class),
          wire(203, HistoryEvent.EntityCallCompleted.class),
          wire(204, HistoryEvent.EntityCallFailed.class),
          wire(205, HistoryEvent.EntityLocksGranted.class),
          wire(206, PartitionMessage.EntityOperationRequested.class),
          wire(207, PartitionMessage.LockRequested.class),
          wire(208, PartitionMessage.LockReleased.class),
          wire(209, PartitionMessage.EntityResponded.class),
          wire(210, PartitionMessage.LocksGranted.class),
          wire(211, LockOwner.class),
          wire(212, EntityBatchResult.class),
          wire(213, EntityBatchResult.Outcome.class),
          wire(214, EntityView.class),
          wire(215, PartitionEvent.EntityBatchCompleted.class),
          wire(216, PartitionEvent.EntityBatchLimitSet.class),
          wire(217, ClientRequest.SignalEntity.class),
          wire(218, ClientQuery.ReadEntity.class),
          wire(219, ClientResponse.EntityStatus.class),
          wire(220, EntityRecord.class),
          // ---- operations (management API): a partition's report to operators
          wire(260, "dev.netherite.runtime.internal.PartitionCommand$Inspect"),
          wire(261, "dev.netherite.runtime.internal.PartitionReport")
          // ---- next free id: 221 (260, 261 taken)
          // ---- sharding: its classes cannot be named by class literal here (sharding depends on
          // persistence);
          //      list them by name instead: wire(<id>,
          // "dev.netherite.sharding.internal.Partition$Deliver"),
          );

  private static final Map<Integer, Entry> BY_ID = validate(ENTRIES);

  /**
   * A Kryo configured the way the serializer configures its pooled instances: registration
   * required, no references, actor references mapped onto their interface, every class of {@link
   * #ENTRIES} registered.
   *
   * @param systemOrNull the actor system that resolves actor references, or {@code null} (tests):
   *     then an actor reference fails to serialize with a clear message
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
   * Registers every class of the list with its fixed id and serializer. Prefer {@link #newKryo}: a
   * Kryo created with {@code new Kryo()} lacks the class resolver that maps actor-reference
   * implementations to their interface.
   *
   * @param systemOrNull the actor system that resolves actor references, or {@code null} when none
   *     are serialized
   */
  public static void registerAll(Kryo kryo, ExtendedActorSystem systemOrNull) {
    for (Entry entry : ENTRIES) {
      Class<?> type = entry.type();
      if (type == null
          || (entry.alias() && kryo.getClassResolver().getRegistration(type) != null)) {
        continue;
      }
      Serializer<?> serializer =
          entry.serializer() != null ? entry.serializer().apply(systemOrNull) : null;
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

  /** Every registered class that is present on the classpath, in id order. */
  public static List<Class<?>> registeredClasses() {
    return BY_ID.values().stream().map(Entry::type).filter(t -> t != null).distinct().toList();
  }

  /** The registration id of {@code type}, or -1 when it is not registered. */
  public static int registrationId(Class<?> type) {
    return BY_ID.values().stream()
        .filter(e -> e.type() == type)
        .mapToInt(Entry::id)
        .findFirst()
        .orElse(-1);
  }

  /**
   * Names listed by name whose class is not on the classpath (expected for sharding classes in a
   * module below it).
   */
  public static List<String> unresolvedClassNames() {
    return ENTRIES.stream().filter(e -> e.type() == null).map(Entry::className).toList();
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

  private static Map<Integer, Entry> validate(List<Entry> entries) {
    Map<Integer, Entry> byId = new TreeMap<>();
    Map<Class<?>, Entry> byClass = new HashMap<>();
    for (Entry entry : entries) {
      Entry previous = byId.putIfAbsent(entry.id(), entry);
      if (previous != null) {
        throw new IllegalStateException(
            "duplicate registration id="
                + entry.id()
                + " classes="
                + previous.className()
                + ","
                + entry.className());
      }
      boolean netherite = entry.className().startsWith("dev.netherite.");
      if (entry.id() < 20 || (netherite != entry.id() >= 100)) {
        throw new IllegalStateException(
            "registration id out of range id="
                + entry.id()
                + " class="
                + entry.className()
                + " ranges=20..99:JDK/Pekko,100..:dev.netherite");
      }
      if (entry.type() != null) {
        Entry sameClass = byClass.putIfAbsent(entry.type(), entry);
        if (sameClass != null && !entry.alias()) {
          throw new IllegalStateException(
              "class registered twice class="
                  + entry.className()
                  + " ids="
                  + sameClass.id()
                  + ","
                  + entry.id());
        }
      }
    }
    return Collections.unmodifiableMap(byId);
  }

  private static Entry wire(int id, Class<?> type) {
    return new Entry(id, type.getName(), type, null, false);
  }

  private static Entry wire(
      int id, Class<?> type, Function<ExtendedActorSystem, Serializer<?>> serializer) {
    return new Entry(id, type.getName(), type, serializer, false);
  }

  /** A class that a module above persistence defines; skipped when it is not on the classpath. */
  private static Entry wire(int id, String className) {
    Class<?> type;
    try {
      type = Class.forName(className, false, WireRegistry.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      type = null;
    }
    return new Entry(id, className, type, null, false);
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
    return new Entry(id, example.getClass().getName(), example.getClass(), serializer, true);
  }

  /**
   * One registration.
   *
   * @param type null when {@code className} is not on the classpath
   * @param serializer null for Kryo's default serializer of the class (for records: Kryo's
   *     RecordSerializer)
   * @param alias whether the entry is skipped when its class is already registered by an earlier
   *     entry
   */
  private record Entry(
      int id,
      String className,
      Class<?> type,
      Function<ExtendedActorSystem, Serializer<?>> serializer,
      boolean alias) {}
}
