package dev.netherite.engine.partition;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.PartitionEvent.ActivityCompleted;
import dev.netherite.engine.partition.PartitionEvent.ClientRequestReceived;
import dev.netherite.engine.partition.PartitionEvent.DeliveryAcknowledged;
import dev.netherite.engine.partition.PartitionEvent.EntityBatchCompleted;
import dev.netherite.engine.partition.PartitionEvent.EntityBatchLimitSet;
import dev.netherite.engine.partition.PartitionEvent.MessagesReceived;
import dev.netherite.engine.partition.PartitionEvent.StepCompleted;
import dev.netherite.engine.partition.PartitionEvent.TimersFired;
import dev.netherite.engine.partition.PartitionMessage.ToEntity;
import dev.netherite.engine.partition.PartitionMessage.ToInstance;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>The state of one partition and its transition function. {@link #apply} is deterministic: the
 * same events in the same order give the same state and the same effects, which is what makes
 * recovery by replay correct. It is not thread-safe; its host calls it from one thread.
 *
 * <p>The state is a few tables, and this object is the partition's checkpoint (its fields are the
 * checkpoint's format). Each table belongs to one part, which alone changes it:
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

  private final Outbox outbox = new Outbox();
  private final DedupVector dedup = new DedupVector();
  private final TimerTable timers = new TimerTable();
  private final RequestLog requests;
  private long executionCounter;

  private transient Parts parts;

  /** The parts over the tables; not part of the checkpoint. */
  private record Parts(
      MessageRouter router,
      Instances instances,
      EntityScheduler entities,
      ClientRequests clientRequests,
      Queries queries) {}

  public PartitionState(int partitionId, int partitionCount, int requestLogCapacity) {
    this.partitionId = partitionId;
    this.partitionCount = partitionCount;
    this.requests = new RequestLog(requestLogCapacity);
  }

  private Parts parts() {
    if (parts == null) {
      MessageRouter router =
          new MessageRouter(
              partitionId, new PartitionPlacement(partitionCount), outbox, dedup, this::deliver);
      LockChain locks = new LockChain(router);
      Instances instanceLifecycle =
          new Instances(instances, timers, router, locks, this::nextExecutionId);
      EntityScheduler scheduler =
          new EntityScheduler(entities, () -> entityBatchLimit, locks, router);
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

  /** Applies one event and returns the effects it asks for. */
  public List<Effect> apply(PartitionEvent event) {
    Parts p = parts();
    List<Effect> effects = new ArrayList<>(4);
    switch (event) {
      case ClientRequestReceived e -> p.clientRequests().receive(e, effects);
      case MessagesReceived e -> p.router().receive(e, effects);
      case DeliveryAcknowledged e -> outbox.acknowledge(e.destination(), e.upTo());
      case StepCompleted e -> p.instances().onStepCompleted(e, effects);
      case ActivityCompleted e -> p.instances().onActivityCompleted(e, effects);
      case TimersFired e -> onTimersFired(p, e.timestamp(), effects);
      case EntityBatchCompleted e -> p.entities().onBatchCompleted(e, effects);
      case EntityBatchLimitSet e -> entityBatchLimit = Math.max(1, e.limit());
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

  /** A message for an id this partition hosts. */
  private void deliver(PartitionMessage m, Instant now, List<Effect> effects) {
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
      } else {
        p.instances().onTimerFired(t, now, effects);
      }
    }
    effects.add(new Effect.TimersChanged());
  }

  private String nextExecutionId() {
    return partitionId + "-" + Long.toString(++executionCounter, 36);
  }
}
