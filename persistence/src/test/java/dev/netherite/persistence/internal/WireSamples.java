package dev.netherite.persistence.internal;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.RetryPolicy;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.host.CommitInfo;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.DedupVector;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.EntityRecord;
import dev.netherite.engine.partition.EntityView;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.Incarnations;
import dev.netherite.engine.partition.InstanceState;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.LockOwner;
import dev.netherite.engine.partition.Outbox;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.PendingActivity;
import dev.netherite.engine.partition.PurgeFilter;
import dev.netherite.engine.partition.RequestLog;
import dev.netherite.engine.partition.StepId;
import dev.netherite.engine.partition.StepResult;
import dev.netherite.engine.partition.TimerTable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * A canonical sample of every class in {@link WireRegistry}, for the golden fixtures. Each sample
 * populates every field (components, elements) with a non-default value, so that a change to any
 * part of the format shows.
 *
 * <p>Samples must not change once their fixture is committed: a new format gets a new class, id and
 * sample. Keys of hash-based collections are strings (stable hash codes), so that their iteration
 * order, hence their bytes, does not vary between runs.
 */
final class WireSamples {
  private WireSamples() {}

  /**
   * Registered classes that have no ActorRef-free sample: KryoSerializerTest covers them with an
   * actor system.
   */
  static final Set<Class<?>> COVERED_ELSEWHERE =
      Set.of(
          org.apache.pekko.actor.typed.ActorRef.class,
          org.apache.pekko.actor.ActorRef.class,
          // mutable, held by the PartitionCheckpoint sample (an evicted instance, a parked timer)
          classNamed("dev.netherite.engine.partition.Residency"));

  /**
   * Registered classes without a sample of their own (mutable, package-private or without {@code
   * equals}): the {@link #partitionState()} sample holds an instance of each, which {@code
   * GoldenFixturesTest} checks.
   */
  static final Set<Class<?>> COVERED_BY_PARTITION_STATE =
      Set.of(
          InstanceState.class,
          Outbox.class,
          classNamed("dev.netherite.engine.partition.Outbox$Channel"),
          DedupVector.class,
          TimerTable.class,
          RequestLog.class,
          EntityRecord.class);

  static final Instant T0 = Instant.parse("2025-01-02T03:04:05Z");

  /** The instances of the {@link #partitionState()} sample; both map to partition 3 of 12. */
  static final String ORDER = "order-42!3";

  static final String REPORT = "report-7!3";

  /**
   * Entities of the {@link #partitionState()} sample: alice and the counter on partition 3, carol
   * on 5.
   */
  static final String ALICE = "@Account@alice!3";

  static final String CAROL = "@Account@carol!5";

  static final String HITS = "@Counter@hits!3";

  /** The sample of each class, by class. */
  static Map<Class<?>, Object> all() {
    Map<Class<?>, Object> samples = new LinkedHashMap<>();
    // 20..29
    add(samples, new byte[] {0, 1, 127, -128, -1});
    add(samples, new String[] {"alpha", "", null, "ünïcødé €"});
    add(samples, new int[] {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE});
    add(samples, new long[] {0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE});
    // 30..39
    add(
        samples,
        new ArrayList<>(
            Arrays.asList("text", 42, 7L, true, 3.5, 'c', (short) 2, (byte) 1, 1.5f, null)));
    add(samples, new LinkedList<>(List.of("first", "second")));
    add(samples, new ArrayDeque<>(List.of("head", "tail")));
    add(samples, new HashMap<>(Map.of("one", 1, "two", "zwei")));
    LinkedHashMap<String, Object> linked = new LinkedHashMap<>();
    linked.put("zulu", 1);
    linked.put("alpha", 2);
    add(samples, linked);
    add(samples, new TreeMap<>(Map.of("b", 2L, "a", 1L)));
    add(samples, new HashSet<>(List.of("x", "y")));
    add(samples, new LinkedHashSet<>(List.of("y", "x")));
    add(samples, new TreeSet<>(List.of("b", "a")));
    // 40..49
    add(samples, List.of("a", "b"));
    add(samples, List.of("a", "b", "c"));
    add(samples, List.of("a", "b", "c", "d").subList(1, 3));
    add(samples, Set.of("b", "a"));
    add(samples, Set.of("c", "a", "b"));
    add(samples, Map.of("key", 1));
    add(samples, Map.of("c", 3, "a", 1, "b", 2));
    // 50..59
    add(samples, Instant.parse("2025-01-02T03:04:05.123456789Z"));
    add(samples, Duration.ofSeconds(90_061, 5));
    add(samples, UUID.fromString("0f8fad5b-d9cb-469f-a165-70867728950e"));
    // 100..
    add(samples, new InstanceId("order-42!3"));
    add(
        samples,
        new FailureDetails(
            "java.lang.IllegalStateException",
            "outer",
            "\tat a.B.c(B.java:1)\n",
            new FailureDetails("java.io.IOException", "inner", "\tat d.E.f(E.java:2)\n", null)));
    add(samples, new RetryPolicy(5, Duration.ofSeconds(1), 2.0, Duration.ofMinutes(1)));
    add(samples, RuntimeStatus.FAILED);
    add(
        samples,
        new PartitionMessage.ExecutionRequested(
            "child!1", "Child", "{\"n\":1}", "parent!0", "exec-7", 3));
    add(
        samples,
        new PartitionMessage.SubOrchestrationEnded(
            "parent!0",
            "exec-7",
            3,
            "\"done\"",
            FailureDetails.of("java.lang.IllegalStateException", "boom")));
    add(samples, new PartitionMessage.EventDelivered("other!2", "Approved", "true"));
    // 110..126: dsl history events
    for (HistoryEvent event : historyEvents()) {
      add(samples, event);
    }
    // 130..145: client requests, queries, responses
    add(samples, start());
    add(samples, new ClientRequest.RaiseEvent(ORDER, "Approved", "{\"by\":\"alice\"}"));
    add(samples, new ClientRequest.Terminate(ORDER, "cancelled by the customer"));
    add(samples, new ClientRequest.Suspend(ORDER, "maintenance"));
    add(samples, new ClientRequest.Resume(ORDER, "maintenance over"));
    add(samples, new ClientRequest.Purge(ORDER));
    add(samples, new ClientQuery.GetStatus(ORDER, true));
    add(
        samples,
        new ClientQuery.ListInstances(
            Set.of(RuntimeStatus.RUNNING, RuntimeStatus.PENDING),
            T0,
            T0.plus(Duration.ofDays(1)),
            "order-",
            "order-41!3",
            50));
    add(samples, new ClientResponse.Started(ORDER));
    add(samples, new ClientResponse.Accepted());
    add(samples, new ClientResponse.Purged(true));
    add(
        samples,
        new ClientResponse.Rejected(
            ClientResponse.Reason.ALREADY_EXISTS,
            "An instance with id 'order-42!3' already exists with status RUNNING"));
    add(samples, ClientResponse.Reason.INVALID_STATE);
    add(samples, new ClientResponse.Status(instanceView()));
    add(
        samples,
        new ClientResponse.InstanceList(
            List.of(
                instanceView(),
                new InstanceView(
                    REPORT,
                    "DailyReport",
                    RuntimeStatus.PENDING,
                    T0,
                    T0,
                    "{\"day\":\"2025-01-03\"}",
                    null,
                    null,
                    null,
                    null)),
            true));
    add(samples, instanceView());
    // 150..160: the commit log
    add(
        samples,
        new EventBatch(List.of(clientRequestReceived(), messagesReceived(), stepCompleted())));
    add(samples, clientRequestReceived());
    add(samples, messagesReceived());
    add(samples, new PartitionEvent.DeliveryAcknowledged(5, 9L, T0.plusSeconds(3)));
    add(samples, stepCompleted());
    add(
        samples,
        new PartitionEvent.ActivityCompleted(
            ORDER, "3-1", 1, "\"reserved\"", failure(), T0.plusSeconds(4)));
    add(samples, new PartitionEvent.TimersFired(T0.plus(Duration.ofHours(1))));
    add(samples, stepResult());
    add(samples, new StepResult.Completed("\"delivered\""));
    add(samples, new StepResult.Failed(failure()));
    add(
        samples,
        new StepResult.ContinuedAsNew(
            "{\"round\":2}",
            List.of(
                new HistoryEvent.EventRaised("Approved", "true"),
                new HistoryEvent.TaskCompleted(1, "\"ok\""))));
    // 170..178: the checkpoint
    add(samples, partitionState());
    PartitionState withEvicted = partitionState();
    // the scheduled report leaves memory; its start comes due and waits for it
    withEvicted.apply(
        new PartitionEvent.RecordsEvicted(List.of("o:" + REPORT), T0.plusSeconds(10)));
    withEvicted.apply(new PartitionEvent.TimersFired(T0.plus(Duration.ofDays(2))));
    // two restarts in the global mode: the checkpoint holds where each earlier incarnation ended
    withEvicted.apply(new PartitionEvent.IncarnationStarted(40, T0.plusSeconds(12)));
    withEvicted.apply(new PartitionEvent.DependsOn(5, new StepId(31, 4), T0.plusSeconds(13)));
    withEvicted.apply(new PartitionEvent.IncarnationStarted(52, T0.plusSeconds(14)));
    add(samples, withEvicted.captureCheckpoint(57, new java.util.ArrayList<>()));
    add(
        samples,
        new PartitionEvent.RecordsEvicted(
            List.of("o:" + REPORT, "e:" + ALICE), T0.plusSeconds(10)));
    add(samples, new PartitionEvent.RecordsLoaded(List.of("o:" + REPORT), T0.plusSeconds(11)));
    add(
        samples,
        new PartitionState.Parked(
            new PartitionMessage.EventDelivered(ORDER, "Approved", "true"), null));
    add(
        samples,
        new Outbox.Entry(
            2L, new PartitionMessage.EventDelivered("audit!5", "OrderPlaced", "{\"id\":42}")));
    add(samples, new TimerTable.Timer(T0.plus(Duration.ofHours(1)), 1L, ORDER, "3-1", 2, null));
    // 199..220: entities
    LockOwner owner = new LockOwner(ORDER, "3-1", 6);
    add(samples, new HistoryEvent.EntityCalled(5, ALICE, "add", "25"));
    add(
        samples,
        new HistoryEvent.EntitySignaled(7, ALICE, "add", "-5", T0.plus(Duration.ofHours(2))));
    add(samples, new HistoryEvent.EntityLockRequested(6, List.of(ALICE, CAROL)));
    add(samples, new HistoryEvent.EntityUnlockSent(8, 6, List.of(ALICE, CAROL)));
    add(samples, new HistoryEvent.EntityCallCompleted(5, "125"));
    add(samples, new HistoryEvent.EntityCallFailed(5, failure()));
    add(samples, new HistoryEvent.EntityLocksGranted(6));
    add(
        samples,
        new PartitionMessage.EntityOperationRequested(ALICE, "add", "25", ORDER, "3-1", 5, owner));
    add(samples, new PartitionMessage.LockRequested(List.of(ALICE, CAROL), 1, owner));
    add(samples, new PartitionMessage.LockReleased(CAROL, owner));
    add(samples, new PartitionMessage.EntityResponded(ORDER, "3-1", 5, "125", failure()));
    add(samples, new PartitionMessage.LocksGranted(owner, List.of(ALICE, CAROL)));
    add(samples, owner);
    add(
        samples,
        new EntityBatchResult(
            "130",
            List.of(
                new EntityBatchResult.Outcome("125", null),
                new EntityBatchResult.Outcome(null, failure())),
            List.of(
                new PartitionMessage.EntityOperationRequested(
                    CAROL, "add", "5", null, null, 0, null),
                new PartitionMessage.ExecutionRequested(
                    "audit-9!1", "Audit", "{}", null, null, 0))));
    add(samples, new EntityBatchResult.Outcome("125", failure()));
    add(samples, new EntityView(ALICE, "130", ORDER, 3, T0.plusSeconds(9)));
    add(
        samples,
        new PartitionEvent.EntityBatchCompleted(
            ALICE, 4L, new EntityBatchResult("130", List.of(), List.of()), T0.plusSeconds(8)));
    add(samples, new PartitionEvent.EntityBatchLimitSet(250, T0.plusSeconds(9)));
    add(samples, new ClientRequest.SignalEntity(ALICE, "add", "100"));
    add(samples, new ClientQuery.ReadEntity(ALICE));
    add(
        samples,
        new ClientResponse.EntityStatus(new EntityView(ALICE, "130", ORDER, 3, T0.plusSeconds(9))));
    add(samples, new ClientQuery.ListEntities("@Account@", "@Account@alice", 50));
    add(
        samples,
        new ClientResponse.EntityList(
            List.of(new EntityView(ALICE, "130", ORDER, 3, T0.plusSeconds(9))), true));
    // 222..224: purge sweeps inside a partition
    add(
        samples,
        new PurgeFilter(
            Set.of(RuntimeStatus.COMPLETED),
            T0,
            T0.plus(Duration.ofDays(1)),
            "order-",
            T0.plus(Duration.ofDays(30))));
    add(samples, new ClientResponse.PurgeProgress(100, ORDER));
    add(
        samples,
        new PartitionEvent.InstancesPurged(List.of(ORDER, REPORT), T0.plus(Duration.ofDays(31))));
    // 231..236: the global persistence mode
    add(samples, new StepId(40, 7));
    add(samples, incarnations());
    add(samples, new PartitionEvent.IncarnationStarted(40, T0.plusSeconds(12)));
    add(samples, new PartitionEvent.DependsOn(5, new StepId(31, 4), T0.plusSeconds(13)));
    add(samples, new PartitionEvent.Voided(new StepId(40, 3), 2, T0.plusSeconds(14)));
    add(samples, new CommitInfo(52, new StepId(52, 9), Map.of(12L, 30L, 40L, 7L), 12));
    // 300..: the parts of the partition state
    add(samples, new PendingActivity("Reserve", "{\"sku\":\"A-1\"}"));
    return samples;
  }

  /**
   * A partition checkpoint built by the real state machine: partition 3 of 12 with two instances,
   * {@link #ORDER} (running, a step in progress, an event waiting, an activity pending, a timer)
   * and {@link #REPORT} (pending until its scheduled start); an outbox channel to partition 5 with
   * one acknowledged and one unacknowledged entry; the dedup position 1 of origin 7; four answered
   * requests, one of them rejected.
   */
  static PartitionState partitionState() {
    PartitionState state = new PartitionState(3, 12, 100);
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-1",
            new ClientRequest.StartOrchestration(
                ORDER, "OrderFlow", "{\"qty\":2}", null, Set.of(RuntimeStatus.FAILED)),
            T0));
    String execution = state.instance(ORDER).executionId();
    state.apply(
        new PartitionEvent.StepCompleted(
            ORDER,
            execution,
            1,
            new StepResult(
                List.of(
                    new HistoryEvent.TaskScheduled(1, "Reserve", "{\"sku\":\"A-1\"}"),
                    new HistoryEvent.TimerCreated(2, T0.plus(Duration.ofHours(1))),
                    new HistoryEvent.SubOrchestrationCreated(
                        3, "Ship", "ship-42!5", "{\"to\":\"Lyon\"}"),
                    new HistoryEvent.EventSent(4, "audit!5", "OrderPlaced", "{\"id\":42}"),
                    new HistoryEvent.EntityCalled(5, CAROL, "get", null),
                    new HistoryEvent.EntityLockRequested(6, List.of(ALICE, CAROL)),
                    new HistoryEvent.EntitySignaled(
                        7, HITS, "add", "1", T0.plus(Duration.ofHours(2)))),
                true,
                "\"reserving\"",
                null),
            T0.plusSeconds(1)));
    state.apply(
        new PartitionEvent.MessagesReceived(
            7,
            1,
            List.of(new PartitionMessage.EventDelivered(ORDER, "Approved", "true")),
            T0.plusSeconds(2)));
    state.apply(new PartitionEvent.DeliveryAcknowledged(5, 1, T0.plusSeconds(3)));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-2", new ClientRequest.RaiseEvent(ORDER, "Note", "\"rush\""), T0.plusSeconds(4)));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-3",
            new ClientRequest.StartOrchestration(
                REPORT,
                "DailyReport",
                "{\"day\":\"2025-01-03\"}",
                T0.plus(Duration.ofDays(1)),
                Set.of()),
            T0.plusSeconds(5)));
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-4",
            new ClientRequest.StartOrchestration(ORDER, "OrderFlow", "{}", null, Set.of()),
            T0.plusSeconds(6)));
    // alice is locked by ORDER (the grant travels on to carol), so this signal waits in her queue
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-signal-1",
            new ClientRequest.SignalEntity(ALICE, "add", "100"),
            T0.plusSeconds(7)));
    // the counter runs a batch
    state.apply(
        new PartitionEvent.ClientRequestReceived(
            "req-signal-2", new ClientRequest.SignalEntity(HITS, "add", "1"), T0.plusSeconds(8)));
    state.apply(new PartitionEvent.EntityBatchLimitSet(50, T0.plusSeconds(9)));
    return state;
  }

  /**
   * Where a partition is after three incarnations: the first two ended at positions 2 and 1, the
   * third is at position 2.
   */
  private static Incarnations incarnations() {
    PartitionState state = new PartitionState(3, 12, 100);
    state.apply(new PartitionEvent.IncarnationStarted(1, T0));
    state.apply(new PartitionEvent.EntityBatchLimitSet(50, T0.plusSeconds(1)));
    state.apply(new PartitionEvent.IncarnationStarted(12, T0.plusSeconds(2)));
    state.apply(new PartitionEvent.IncarnationStarted(40, T0.plusSeconds(3)));
    state.apply(new PartitionEvent.EntityBatchLimitSet(60, T0.plusSeconds(4)));
    return state.incarnations();
  }

  private static List<HistoryEvent> historyEvents() {
    return List.of(
        new HistoryEvent.ExecutionStarted("OrderFlow", "3-1", "{\"qty\":2}", "parent!0", 4),
        new HistoryEvent.OrchestratorStarted(T0),
        new HistoryEvent.TaskScheduled(1, "Reserve", "{\"sku\":\"A-1\"}"),
        new HistoryEvent.TaskCompleted(1, "\"reserved\""),
        new HistoryEvent.TaskFailed(1, failure()),
        new HistoryEvent.TimerCreated(2, T0.plus(Duration.ofHours(1))),
        new HistoryEvent.TimerFired(2, T0.plus(Duration.ofHours(1))),
        new HistoryEvent.SubOrchestrationCreated(3, "Ship", "ship-42!5", "{\"to\":\"Lyon\"}"),
        new HistoryEvent.SubOrchestrationCompleted(3, "\"shipped\""),
        new HistoryEvent.SubOrchestrationFailed(3, failure()),
        new HistoryEvent.EventRaised("Approved", "true"),
        new HistoryEvent.EventSent(4, "audit!5", "OrderPlaced", "{\"id\":42}"),
        new HistoryEvent.ExecutionCompleted(RuntimeStatus.FAILED, "\"partial\"", failure()),
        new HistoryEvent.ContinuedAsNew("{\"round\":2}"),
        new HistoryEvent.ExecutionTerminated("cancelled by the customer"),
        new HistoryEvent.ExecutionSuspended("maintenance"),
        new HistoryEvent.ExecutionResumed("maintenance over"));
  }

  private static FailureDetails failure() {
    return new FailureDetails(
        "java.lang.IllegalStateException",
        "out of stock",
        "\tat a.B.c(B.java:1)\n",
        new FailureDetails("java.io.IOException", "inner", "\tat d.E.f(E.java:2)\n", null));
  }

  private static ClientRequest.StartOrchestration start() {
    return new ClientRequest.StartOrchestration(
        ORDER,
        "OrderFlow",
        "{\"qty\":2}",
        T0.plusSeconds(60),
        Set.of(RuntimeStatus.COMPLETED, RuntimeStatus.FAILED));
  }

  private static InstanceView instanceView() {
    return new InstanceView(
        ORDER,
        "OrderFlow",
        RuntimeStatus.FAILED,
        T0,
        T0.plusSeconds(5),
        "{\"qty\":2}",
        "\"partial\"",
        "\"reserving\"",
        failure(),
        List.of(
            new HistoryEvent.OrchestratorStarted(T0),
            new HistoryEvent.ExecutionStarted("OrderFlow", "3-1", "{\"qty\":2}", null, 0),
            new HistoryEvent.TaskScheduled(1, "Reserve", "{\"sku\":\"A-1\"}"),
            new HistoryEvent.TaskFailed(1, failure()),
            new HistoryEvent.ExecutionCompleted(RuntimeStatus.FAILED, null, failure())));
  }

  private static PartitionEvent.ClientRequestReceived clientRequestReceived() {
    return new PartitionEvent.ClientRequestReceived("req-1", start(), T0);
  }

  private static PartitionEvent.MessagesReceived messagesReceived() {
    return new PartitionEvent.MessagesReceived(
        7,
        12L,
        List.of(
            new PartitionMessage.EventDelivered(ORDER, "Approved", "true"),
            new PartitionMessage.SubOrchestrationEnded(ORDER, "3-1", 3, "\"shipped\"", null),
            new PartitionMessage.ExecutionRequested(
                "ship-43!3", "Ship", "{\"to\":\"Nantes\"}", "order-43!7", "7-2", 3)),
        T0.plusSeconds(2));
  }

  private static StepResult stepResult() {
    return new StepResult(
        List.of(
            new HistoryEvent.TaskScheduled(1, "Reserve", "{\"sku\":\"A-1\"}"),
            new HistoryEvent.TimerCreated(2, T0.plus(Duration.ofHours(1))),
            new HistoryEvent.SubOrchestrationCreated(3, "Ship", "ship-42!5", "{\"to\":\"Lyon\"}"),
            new HistoryEvent.EventSent(4, "audit!5", "OrderPlaced", "{\"id\":42}")),
        true,
        "\"reserving\"",
        new StepResult.Completed("\"delivered\""));
  }

  private static PartitionEvent.StepCompleted stepCompleted() {
    return new PartitionEvent.StepCompleted(ORDER, "3-1", 2L, stepResult(), T0.plusSeconds(1));
  }

  /**
   * The classes of every object reachable from {@code root}: the fields of non-JDK objects (static
   * and transient ones excepted, as Kryo's FieldSerializer), the elements of arrays and
   * collections, the keys and values of maps.
   */
  static Set<Class<?>> reachableClasses(Object root) {
    Set<Class<?>> classes = new HashSet<>();
    Map<Object, Boolean> seen = new IdentityHashMap<>();
    ArrayDeque<Object> todo = new ArrayDeque<>(List.of(root));
    while (!todo.isEmpty()) {
      Object o = todo.pop();
      if (seen.put(o, Boolean.TRUE) != null) {
        continue;
      }
      classes.add(o.getClass());
      if (o instanceof Object[] array) {
        Arrays.stream(array).filter(e -> e != null).forEach(todo::push);
      } else if (o instanceof java.util.Collection<?> collection) {
        collection.stream().filter(e -> e != null).forEach(todo::push);
      } else if (o instanceof Map<?, ?> map) {
        map.forEach(
            (k, v) -> {
              if (k != null) {
                todo.push(k);
              }
              if (v != null) {
                todo.push(v);
              }
            });
      } else if (o.getClass().getName().startsWith("dev.netherite.")) {
        for (Class<?> c = o.getClass();
            c != null && c.getName().startsWith("dev.netherite.");
            c = c.getSuperclass()) {
          for (Field f : c.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || Modifier.isTransient(f.getModifiers())) {
              continue;
            }
            f.setAccessible(true);
            try {
              Object value = f.get(o);
              if (value != null) {
                todo.push(value);
              }
            } catch (IllegalAccessException e) {
              throw new IllegalStateException(e);
            }
          }
        }
      }
    }
    return classes;
  }

  private static Class<?> classNamed(String name) {
    try {
      return Class.forName(name, false, WireSamples.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void add(Map<Class<?>, Object> samples, Object sample) {
    Object previous = samples.putIfAbsent(sample.getClass(), sample);
    if (previous != null) {
      throw new IllegalStateException("two samples of class=" + sample.getClass().getName());
    }
  }
}
