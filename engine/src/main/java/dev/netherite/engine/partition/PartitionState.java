package dev.netherite.engine.partition;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.PartitionEvent.ActivityCompleted;
import dev.netherite.engine.partition.PartitionEvent.ClientRequestReceived;
import dev.netherite.engine.partition.PartitionEvent.DeliveryAcknowledged;
import dev.netherite.engine.partition.PartitionEvent.DependsOn;
import dev.netherite.engine.partition.PartitionEvent.EntityBatchCompleted;
import dev.netherite.engine.partition.PartitionEvent.EntityBatchLimitSet;
import dev.netherite.engine.partition.PartitionEvent.IncarnationStarted;
import dev.netherite.engine.partition.PartitionEvent.InstancesPurged;
import dev.netherite.engine.partition.PartitionEvent.MessagesReceived;
import dev.netherite.engine.partition.PartitionEvent.RecordsEvicted;
import dev.netherite.engine.partition.PartitionEvent.RecordsLoaded;
import dev.netherite.engine.partition.PartitionEvent.StepCompleted;
import dev.netherite.engine.partition.PartitionEvent.TimersFired;
import dev.netherite.engine.partition.PartitionEvent.Voided;
import dev.netherite.engine.partition.PartitionMessage.ToEntity;
import dev.netherite.engine.partition.PartitionMessage.ToInstance;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * INTERNAL API
 *
 * <p>The state of one partition and its transition function. {@link #apply} is deterministic: the
 * same events in the same order give the same state and the same effects, which is what makes
 * recovery by replay correct. It is not thread-safe; its host calls it from one thread.
 *
 * <p>The state is a few tables. The per-instance ones (instances, entities) are records of the
 * instance store, written by each checkpoint as far as they changed; the partition-wide ones go
 * into the {@link PartitionCheckpoint}. (This object's fields are the format of the checkpoints
 * written before the instance store, which held everything; those are still read.) Each table
 * belongs to one part, which alone changes it:
 *
 * <ul>
 *   <li>{@link ClientRequests}: the answers to client requests, with the {@link RequestLog};
 *   <li>{@link Instances}: the orchestration instances and their lifecycle;
 *   <li>{@link EntityScheduler}: the entities, their queues and batches;
 *   <li>{@link LockChain}: the lock requests of critical sections, at owners and entities;
 *   <li>{@link MessageRouter}: messages out through the {@link Outbox}, in through the {@link
 *       DedupVector}, at once within the partition;
 *   <li>{@link Queries}: the answers to queries, which change nothing;
 *   <li>the {@link TimerTable}, shared by instances (timers, scheduled starts) and delayed signals.
 * </ul>
 *
 * The parts are built on first use from the tables (so also after a checkpoint is read back).
 */
public final class PartitionState implements WireSerializable {
  public static final int DEFAULT_ENTITY_BATCH_LIMIT = 100;

  private final int partitionId;
  private final int partitionCount;
  private final LinkedHashMap<String, InstanceState> instances = new LinkedHashMap<>();
  private final LinkedHashMap<String, EntityRecord> entities = new LinkedHashMap<>();

  /**
   * The most operations one entity batch takes; set by the host through {@link
   * EntityBatchLimitSet}.
   */
  private int entityBatchLimit = DEFAULT_ENTITY_BATCH_LIMIT;

  private final Outbox outbox;
  private final DedupVector dedup;
  private final TimerTable timers;
  private final RequestLog requests;
  private long executionCounter;

  private transient Parts parts;

  /**
   * Records that have not ended and are out of memory, with the input that waits for them; in the
   * {@link PartitionCheckpoint}, not in this object's bytes.
   */
  private transient Residency residency = new Residency();

  /** Where the partition is in its applied order; in the checkpoint, like the residency. */
  private transient Incarnations incarnations = new Incarnations();

  /**
   * Input for a record out of memory, delivered when it is back: a message, or an instance's timer
   * that came due.
   */
  public record Parked(PartitionMessage message, TimerTable.Timer timer)
      implements WireSerializable {}

  /**
   * The per-instance tables as the parts and the checkpoints see them; not part of any checkpoint.
   */
  private transient RecordTable<InstanceState> instanceTable;

  private transient RecordTable<EntityRecord> entityTable;

  /** The parts over the tables; not part of the checkpoint. */
  private record Parts(
      MessageRouter router,
      Instances instances,
      EntityScheduler entities,
      ClientRequests clientRequests,
      Queries queries) {}

  public PartitionState(int partitionId, int partitionCount, int requestLogCapacity) {
    this(
        partitionId,
        partitionCount,
        new Outbox(),
        new DedupVector(),
        new TimerTable(),
        new RequestLog(requestLogCapacity));
  }

  private PartitionState(
      int partitionId,
      int partitionCount,
      Outbox outbox,
      DedupVector dedup,
      TimerTable timers,
      RequestLog requests) {
    this.partitionId = partitionId;
    this.partitionCount = partitionCount;
    this.outbox = outbox;
    this.dedup = dedup;
    this.timers = timers;
    this.requests = requests;
  }

  /**
   * The state a checkpoint holds, without its records: the host adds them with {@link
   * #restoreRecord} before it replays the log suffix.
   */
  public static PartitionState fromCheckpoint(PartitionCheckpoint c) {
    PartitionState s =
        new PartitionState(
            c.partitionId(), c.partitionCount(), c.outbox(), c.dedup(), c.timers(), c.requests());
    s.entityBatchLimit = c.entityBatchLimit();
    s.executionCounter = c.executionCounter();
    s.residency = c.residency() == null ? new Residency() : c.residency();
    s.incarnations = c.incarnations() == null ? new Incarnations() : c.incarnations();
    return s;
  }

  /** Adds a record read from the instance store; not a change (it is written already). */
  public void restoreRecord(StoredRecord r) {
    switch (r.value()) {
      case InstanceState i -> instanceTable().restore(i.instanceId, i);
      case EntityRecord e -> entityTable().restore(e.entityId, e);
      case null -> {}
      default ->
          throw new IllegalArgumentException(
              "not a partition record: key=" + r.key() + " type=" + r.value().getClass());
    }
  }

  // ---------------------------------------------------------------- checkpoints

  private RecordTable<InstanceState> instanceTable() {
    if (instanceTable == null) {
      instanceTable = new RecordTable<>(instances, StoredRecord.INSTANCE_PREFIX);
    }
    return instanceTable;
  }

  private RecordTable<EntityRecord> entityTable() {
    if (entityTable == null) {
      entityTable = new RecordTable<>(entities, StoredRecord.ENTITY_PREFIX);
    }
    return entityTable;
  }

  /**
   * Every record is changed: after a checkpoint of the old format, which held them all, the next
   * checkpoint must write them all to the instance store.
   */
  public void markAllChanged() {
    instanceTable().noteAll();
    entityTable().noteAll();
  }

  /** The record under a store key, as {@link #captureCheckpoint} would write it. */
  public StoredRecord record(String key) {
    WireSerializable value =
        key.startsWith(StoredRecord.INSTANCE_PREFIX)
            ? instances.get(key.substring(StoredRecord.INSTANCE_PREFIX.length()))
            : entities.get(key.substring(StoredRecord.ENTITY_PREFIX.length()));
    return new StoredRecord(key, value);
  }

  /**
   * Whether the log suffix is being replayed after recovery: records it creates count as possibly
   * in the store (a failed checkpoint of an earlier incarnation may have written them).
   */
  public void replaying(boolean on) {
    instanceTable().replaying(on);
    entityTable().replaying(on);
  }

  /** How many records have changed since the last captured checkpoint. */
  public int changedRecordCount() {
    return instanceTable().noted() + entityTable().noted();
  }

  /**
   * Captures a checkpoint at {@code number}: the partition-wide state and the records changed or
   * removed since the last capture (removed ones as deletions, if the store may hold them). The
   * state must not change until the checkpoint is {@link #checkpointCommitted committed} or {@link
   * #checkpointAbandoned abandoned}.
   */
  public PartitionCheckpoint captureCheckpoint(long number, List<StoredRecord> changes) {
    instanceTable().capture(changes);
    entityTable().capture(changes);
    ArrayList<String> active = new ArrayList<>();
    for (InstanceState i : instances.values()) {
      if (!i.status.isTerminal()) {
        active.add(StoredRecord.instanceKey(i.instanceId));
      }
    }
    entities.keySet().forEach(id -> active.add(StoredRecord.entityKey(id)));
    return new PartitionCheckpoint(
        partitionId,
        partitionCount,
        number,
        entityBatchLimit,
        outbox,
        dedup,
        timers,
        requests,
        executionCounter,
        active,
        residency,
        incarnations());
  }

  /** The captured checkpoint is stored: its records are current in the store. */
  public void checkpointCommitted() {
    instanceTable().committed();
    entityTable().committed();
  }

  /**
   * The captured checkpoint failed: its rows may be in the store above the committed number, so the
   * next checkpoint writes its records again and supersedes them.
   */
  public void checkpointAbandoned() {
    instanceTable().abandoned();
    entityTable().abandoned();
  }

  private Parts parts() {
    if (parts == null) {
      MessageRouter router =
          new MessageRouter(
              partitionId, new PartitionPlacement(partitionCount), outbox, dedup, this::deliver);
      LockChain locks = new LockChain(router);
      Instances instanceLifecycle =
          new Instances(instanceTable(), timers, router, locks, this::nextExecutionId);
      EntityScheduler scheduler =
          new EntityScheduler(entityTable(), () -> entityBatchLimit, locks, router);
      parts =
          new Parts(
              router,
              instanceLifecycle,
              scheduler,
              new ClientRequests(requests, instanceLifecycle, router),
              new Queries(instanceLifecycle, scheduler));
    }
    return parts;
  }

  public int partitionId() {
    return partitionId;
  }

  public int partitionCount() {
    return partitionCount;
  }

  /** Where the partition is in its applied order, and how far its earlier incarnations survived. */
  public Incarnations incarnations() {
    if (incarnations == null) {
      incarnations = new Incarnations(); // a state read from a checkpoint of the format before it
    }
    return incarnations;
  }

  public Outbox outbox() {
    return outbox;
  }

  public DedupVector dedup() {
    return dedup;
  }

  public TimerTable timers() {
    return timers;
  }

  public InstanceState instance(String instanceId) {
    return instances.get(instanceId);
  }

  public int instanceCount() {
    return instances.size();
  }

  public EntityRecord entity(String entityId) {
    return entities.get(entityId);
  }

  public int entityCount() {
    return entities.size();
  }

  public int entityBatchLimit() {
    return entityBatchLimit;
  }

  // ---------------------------------------------------------------- residency

  /**
   * Whether the instance store may hold a version of the instance that memory does not: it is not
   * in memory and was not removed since the last committed checkpoint (whose stored version must
   * not come back).
   */
  public boolean mayBeStored(String instanceId) {
    return !instances.containsKey(instanceId) && !instanceTable().removedSinceCommit(instanceId);
  }

  /**
   * The instance whose record the state machine must see to apply this request, or null. Ended
   * instances may leave memory because, for every other input (messages from other partitions,
   * activity results, timers, entity signals, and starts whose options replace an ended instance),
   * an ended instance and no instance give the same outcome; these requests tell them apart.
   */
  public static String instanceNeeded(ClientRequest r) {
    return switch (r) {
      case ClientRequest.StartOrchestration s ->
          s.refuseIfExistsWith().stream().anyMatch(RuntimeStatus::isTerminal)
              ? s.instanceId()
              : null;
      case ClientRequest.RaiseEvent e -> e.instanceId();
      case ClientRequest.Terminate t -> t.instanceId();
      case ClientRequest.Suspend t -> t.instanceId();
      case ClientRequest.Resume t -> t.instanceId();
      case ClientRequest.Purge t -> t.instanceId();
      case ClientRequest.SignalEntity t -> null;
    };
  }

  /**
   * Whether the record under this store key has not ended and is out of memory: input for it is
   * parked, and a request for it waits until the host has read it back ({@link RecordsLoaded}).
   */
  public boolean isEvicted(String key) {
    return residency().isEvicted(key) && !inMemory(key);
  }

  /** Whether the record under this store key is in memory. */
  public boolean inMemory(String key) {
    return key.startsWith(StoredRecord.INSTANCE_PREFIX)
        ? instances.containsKey(key.substring(StoredRecord.INSTANCE_PREFIX.length()))
        : entities.containsKey(key.substring(StoredRecord.ENTITY_PREFIX.length()));
  }

  /** How many records that have not ended are out of memory. */
  public int evictedCount() {
    return residency().evictedCount();
  }

  /** The instance whose record a query reads, or null (a list reads the store itself). */
  public static String instanceNeeded(ClientQuery q) {
    return q instanceof ClientQuery.GetStatus g ? g.instanceId() : null;
  }

  /** What {@link #evict} did and proposes: ended instances dropped, idle records to evict. */
  public record Eviction(int ended, List<String> idle) {}

  /**
   * After a committed checkpoint: drops from memory the ended instances whose current version is in
   * the store, but for the {@code keepEnded} that changed last; then, while the records in memory
   * are estimated above {@code budgetBytes}, more ended ones, oldest first. If memory is still over
   * the budget and {@code evictIdle}, returns the store keys of clean records that have not ended
   * and are idle (no step, activity or entity batch running), oldest first, that bring it within:
   * the host records their eviction ({@link RecordsEvicted}). Records under the keys in {@code
   * pinned} (being read back) stay.
   */
  public Eviction evict(int keepEnded, long budgetBytes, boolean evictIdle, Set<String> pinned) {
    RecordTable<InstanceState> table = instanceTable();
    List<InstanceState> ended = new ArrayList<>();
    for (InstanceState i : instances.values()) {
      if (i.status.isTerminal()
          && table.clean(i.instanceId, i)
          && !pinned.contains(StoredRecord.instanceKey(i.instanceId))) {
        ended.add(i);
      }
    }
    boolean overBudget = budgetBytes < Long.MAX_VALUE;
    int evict = Math.max(0, ended.size() - Math.max(0, keepEnded));
    if (evict == 0 && !overBudget) {
      return new Eviction(0, List.of());
    }
    ended.sort(Comparator.comparing((InstanceState i) -> i.lastUpdatedAt));
    for (int k = 0; k < evict; k++) {
      table.evict(ended.get(k).instanceId);
    }
    if (!overBudget) {
      return new Eviction(evict, List.of());
    }
    long resident = residentBytes();
    int endedEvicted = evict;
    for (int k = evict; k < ended.size() && resident > budgetBytes; k++) {
      resident -= ended.get(k).approximateBytes();
      table.evict(ended.get(k).instanceId);
      endedEvicted++;
    }
    if (resident <= budgetBytes || !evictIdle) {
      return new Eviction(endedEvicted, List.of());
    }
    record Candidate(Instant lastChanged, String key, long bytes) {}
    List<Candidate> idle = new ArrayList<>();
    for (InstanceState i : instances.values()) {
      String key = StoredRecord.instanceKey(i.instanceId);
      if (!i.status.isTerminal()
          && !i.stepInProgress
          && i.pendingActivities.isEmpty()
          && table.clean(i.instanceId, i)
          && !pinned.contains(key)) {
        idle.add(new Candidate(i.lastUpdatedAt, key, i.approximateBytes()));
      }
    }
    RecordTable<EntityRecord> entityRecords = entityTable();
    for (EntityRecord e : entities.values()) {
      String key = StoredRecord.entityKey(e.entityId);
      if (e.batch.isEmpty() && entityRecords.clean(e.entityId, e) && !pinned.contains(key)) {
        idle.add(new Candidate(e.lastModified, key, e.approximateBytes()));
      }
    }
    idle.sort(
        Comparator.comparing(
            Candidate::lastChanged, Comparator.nullsFirst(Comparator.naturalOrder())));
    List<String> keys = new ArrayList<>();
    for (int k = 0; k < idle.size() && resident > budgetBytes; k++) {
      keys.add(idle.get(k).key());
      resident -= idle.get(k).bytes();
    }
    return new Eviction(endedEvicted, keys);
  }

  /** The estimated heap bytes of the records in memory ({@link TableRecord#approximateBytes}). */
  public long residentBytes() {
    long n = 0;
    for (InstanceState i : instances.values()) {
      n += i.approximateBytes();
    }
    for (EntityRecord e : entities.values()) {
      n += e.approximateBytes();
    }
    return n;
  }

  /**
   * The filter a list applies to the instance records it reads from the store (its position after
   * {@code afterId} aside); safe on any thread, it reads only the record it is given.
   */
  public static Predicate<StoredRecord> listFilter(ClientQuery.ListInstances l) {
    return r -> r.value() instanceof InstanceState i && Queries.matches(l, i);
  }

  /**
   * One page of a list over memory and the store: the instances in memory that match, merged in id
   * order with those of {@code stored} (a page the store read in key order, filtered by {@link
   * #listFilter}) that memory neither holds nor removed since the last commit. When the store has
   * more than it read, nothing after its last record can be answered yet: returns null if that
   * leaves an empty page, and the caller reads the store on after its last key.
   */
  public ClientResponse.InstanceList mergeList(
      ClientQuery.ListInstances l, List<StoredRecord> stored, boolean storeMore) {
    Page<InstanceState> page =
        merge(i -> Queries.matches(l, i), l.afterId(), l.limit(), stored, storeMore);
    if (page == null) {
      return null;
    }
    List<InstanceView> views = new ArrayList<>(page.items().size());
    page.items().forEach(i -> views.add(i.view(false)));
    return new ClientResponse.InstanceList(views, page.more());
  }

  /** The filter an entity list applies to the entity records it reads from the store. */
  public static Predicate<StoredRecord> entityListFilter(ClientQuery.ListEntities l) {
    return r ->
        r.value() instanceof EntityRecord e
            && (l.idPrefix() == null || e.entityId.startsWith(l.idPrefix()));
  }

  /**
   * One page of an entity list over memory and the store, as {@link #mergeList} pages instances:
   * the entities in memory that match, merged in id order with those of {@code stored} that memory
   * neither holds nor removed since the last commit (idle entities out of memory among them).
   */
  public ClientResponse.EntityList mergeEntityList(
      ClientQuery.ListEntities l, List<StoredRecord> stored, boolean storeMore) {
    List<EntityRecord> mem = new ArrayList<>();
    for (EntityRecord e : entities.values()) {
      if ((l.afterId() == null || e.entityId.compareTo(l.afterId()) > 0)
          && (l.idPrefix() == null || e.entityId.startsWith(l.idPrefix()))) {
        mem.add(e);
      }
    }
    List<EntityRecord> fromStore = new ArrayList<>();
    RecordTable<EntityRecord> table = entityTable();
    for (StoredRecord r : stored) {
      EntityRecord e = (EntityRecord) r.value();
      if (!entities.containsKey(e.entityId) && !table.removedSinceCommit(e.entityId)) {
        fromStore.add(e);
      }
    }
    String lastStored =
        stored.isEmpty() ? null : ((EntityRecord) stored.getLast().value()).entityId;
    Page<EntityRecord> page =
        inIdOrder(mem, fromStore, e -> e.entityId, l.limit(), lastStored, storeMore);
    if (page == null) {
      return null;
    }
    List<EntityView> views = new ArrayList<>(page.items().size());
    page.items().forEach(e -> views.add(e.view()));
    return new ClientResponse.EntityList(views, page.more());
  }

  /** The filter a purge sweep applies to the instance records it reads from the store. */
  public static Predicate<StoredRecord> purgeFilter(PurgeFilter f) {
    return r -> r.value() instanceof InstanceState i && f.matches(i);
  }

  /**
   * One batch of a purge sweep, as {@link #mergeList} pages a list: the ids, in order after {@code
   * afterId}, at most {@code limit}, of the ended instances that match in memory and of those of
   * {@code stored} (read by the store with {@link #purgeFilter}) that memory neither holds nor
   * removed since the last commit. Null when nothing can be answered before the store reads on
   * after its last key.
   */
  public PurgeBatch purgeBatch(
      PurgeFilter f, String afterId, int limit, List<StoredRecord> stored, boolean storeMore) {
    Page<InstanceState> page = merge(f::matches, afterId, limit, stored, storeMore);
    if (page == null) {
      return null;
    }
    List<String> ids = new ArrayList<>(page.items().size());
    page.items().forEach(i -> ids.add(i.instanceId));
    return new PurgeBatch(ids, page.more());
  }

  /** The ids of one batch of a purge sweep; {@code more} when matching instances follow. */
  public record PurgeBatch(List<String> instanceIds, boolean more) {}

  private record Page<T>(List<T> items, boolean more) {}

  private Page<InstanceState> merge(
      Predicate<InstanceState> filter,
      String afterId,
      int limit,
      List<StoredRecord> stored,
      boolean storeMore) {
    List<InstanceState> mem = new ArrayList<>();
    for (InstanceState i : instanceTable().values()) {
      if ((afterId == null || i.instanceId.compareTo(afterId) > 0) && filter.test(i)) {
        mem.add(i);
      }
    }
    List<InstanceState> fromStore = new ArrayList<>();
    for (StoredRecord r : stored) {
      InstanceState i = (InstanceState) r.value();
      if (mayBeStored(i.instanceId)) {
        fromStore.add(i);
      }
    }
    String lastStored =
        stored.isEmpty() ? null : ((InstanceState) stored.getLast().value()).instanceId;
    return inIdOrder(mem, fromStore, i -> i.instanceId, limit, lastStored, storeMore);
  }

  /**
   * Merges {@code mem} (what memory holds, any order) with {@code fromStore} (in id order, what the
   * store read and memory does not hold) into one page in id order of at most {@code limit}. When
   * the store has more than it read, nothing after its last id ({@code lastStored}) can be answered
   * yet: null if that leaves the page empty.
   */
  private static <T> Page<T> inIdOrder(
      List<T> mem,
      List<T> fromStore,
      java.util.function.Function<T, String> id,
      int limit,
      String lastStored,
      boolean storeMore) {
    mem.sort(Comparator.comparing(id));
    List<T> merged = new ArrayList<>();
    int a = 0;
    int b = 0;
    while (merged.size() < limit && (a < mem.size() || b < fromStore.size())) {
      boolean takeMemory =
          b >= fromStore.size()
              || (a < mem.size() && id.apply(mem.get(a)).compareTo(id.apply(fromStore.get(b))) < 0);
      T next = takeMemory ? mem.get(a++) : fromStore.get(b++);
      if (storeMore && lastStored != null && id.apply(next).compareTo(lastStored) > 0) {
        break;
      }
      merged.add(next);
    }
    boolean more = storeMore || a < mem.size() || b < fromStore.size();
    if (merged.isEmpty() && storeMore) {
      return null;
    }
    return new Page<>(merged, more);
  }

  /** Applies one event and returns the effects it asks for. */
  public List<Effect> apply(PartitionEvent event) {
    Parts p = parts();
    List<Effect> effects = new ArrayList<>(4);
    incarnations().applied(event);
    switch (event) {
      case IncarnationStarted e -> {}
      case DependsOn e -> {}
      case Voided e -> {}
      case ClientRequestReceived e -> p.clientRequests().receive(e, effects);
      case MessagesReceived e -> p.router().receive(e, effects);
      case DeliveryAcknowledged e -> outbox.acknowledge(e.destination(), e.upTo());
      case StepCompleted e -> p.instances().onStepCompleted(e, effects);
      case ActivityCompleted e -> p.instances().onActivityCompleted(e, effects);
      case TimersFired e -> onTimersFired(p, e.timestamp(), effects);
      case EntityBatchCompleted e -> p.entities().onBatchCompleted(e, effects);
      case EntityBatchLimitSet e -> entityBatchLimit = Math.max(1, e.limit());
      case RecordsEvicted e -> onRecordsEvicted(e, effects);
      case RecordsLoaded e -> onRecordsLoaded(p, e, effects);
      case InstancesPurged e ->
          // An instance out of memory that has not ended is never purged (the host names ended
          // ones; this holds in replay too, where residency is the same).
          p.instances()
              .purgeEnded(
                  e.instanceIds().stream()
                      .filter(id -> !residency().isEvicted(StoredRecord.instanceKey(id)))
                      .toList(),
                  effects);
    }
    return effects;
  }

  /**
   * The effects that restart everything pending after recovery: steps in progress, activities,
   * entity batches, timers, unsent or unacknowledged outbox entries, and acknowledgements of what
   * this partition has applied.
   */
  public List<Effect> recoveryEffects() {
    Parts p = parts();
    List<Effect> effects = new ArrayList<>();
    p.instances().addRecoveryEffects(effects);
    p.entities().addRecoveryEffects(effects);
    effects.add(new Effect.TimersChanged());
    p.router().addRecoveryEffects(effects);
    residency().parkedKeys().forEach(key -> effects.add(new Effect.LoadRecord(key)));
    return effects;
  }

  public ClientResponse query(ClientQuery q) {
    return parts().queries().answer(q);
  }

  /** Counts of instances by status, for metrics and tests. */
  public Map<RuntimeStatus, Integer> statusCounts() {
    return parts().queries().statusCounts();
  }

  /** Messages queued for the entities or in their running batches, for metrics. */
  public int entityBacklog() {
    return parts().queries().entityBacklog();
  }

  /** A message for an id this partition hosts; parked while its record is out of memory. */
  private void deliver(PartitionMessage m, Instant now, List<Effect> effects) {
    if (residency().evictedCount() > 0) {
      String key =
          m instanceof ToInstance
              ? StoredRecord.instanceKey(m.targetId())
              : StoredRecord.entityKey(m.targetId());
      if (residency().isEvicted(key)) {
        park(key, new Parked(m, null), effects);
        return;
      }
    }
    switch (m) {
      case ToInstance t -> parts().instances().deliver(t, now, effects);
      case ToEntity t -> parts().entities().enqueue(t, now, effects);
    }
  }

  /** Due timers fire: a delayed message is sent, an instance's timer goes to its instance. */
  private void onTimersFired(Parts p, Instant now, List<Effect> effects) {
    for (TimerTable.Timer t : timers.removeDue(now)) {
      if (t.message() != null) {
        p.router().send(t.message(), now, effects);
      } else if (residency().evictedCount() > 0
          && residency().isEvicted(StoredRecord.instanceKey(t.instanceId()))) {
        park(StoredRecord.instanceKey(t.instanceId()), new Parked(null, t), effects);
      } else {
        p.instances().onTimerFired(t, now, effects);
      }
    }
    effects.add(new Effect.TimersChanged());
  }

  private void park(String key, Parked p, List<Effect> effects) {
    if (residency().park(key, p)) {
      effects.add(new Effect.LoadRecord(key));
    }
  }

  /**
   * Evicts the listed records that are still in memory and have not ended (the host chose them as
   * clean and idle); their input is parked from now on.
   */
  private void onRecordsEvicted(RecordsEvicted e, List<Effect> effects) {
    for (String key : e.keys()) {
      if (key.startsWith(StoredRecord.INSTANCE_PREFIX)) {
        String id = key.substring(StoredRecord.INSTANCE_PREFIX.length());
        InstanceState i = instances.get(id);
        if (i != null && !i.status.isTerminal()) {
          instanceTable().evict(id);
          residency().evicted(key);
          effects.add(new Effect.DiscardExecutor(id));
        }
      } else {
        String id = key.substring(StoredRecord.ENTITY_PREFIX.length());
        if (entities.containsKey(id)) {
          entityTable().evict(id);
          residency().evicted(key);
        }
      }
    }
  }

  /**
   * The listed records are in memory again (the host restored them from the store before this
   * event): what was parked for them is delivered, in the order it came.
   */
  private void onRecordsLoaded(Parts p, RecordsLoaded e, List<Effect> effects) {
    for (String key : e.keys()) {
      for (Parked parked : residency().loaded(key)) {
        if (parked.message() != null) {
          deliver(parked.message(), e.timestamp(), effects);
        } else {
          p.instances().onTimerFired(parked.timer(), e.timestamp(), effects);
        }
      }
    }
  }

  private Residency residency() {
    if (residency == null) {
      residency = new Residency(); // a state read from a checkpoint of the format before it
    }
    return residency;
  }

  private String nextExecutionId() {
    return partitionId + "-" + Long.toString(++executionCounter, 36);
  }
}
