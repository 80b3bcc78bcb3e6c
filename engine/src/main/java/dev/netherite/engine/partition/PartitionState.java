package dev.netherite.engine.partition;

import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.ClientRequest.Purge;
import dev.netherite.engine.partition.ClientRequest.RaiseEvent;
import dev.netherite.engine.partition.ClientRequest.Resume;
import dev.netherite.engine.partition.ClientRequest.SignalEntity;
import dev.netherite.engine.partition.ClientRequest.StartOrchestration;
import dev.netherite.engine.partition.ClientRequest.Suspend;
import dev.netherite.engine.partition.ClientRequest.Terminate;
import dev.netherite.engine.partition.ClientResponse.Reason;
import dev.netherite.engine.partition.PartitionEvent.ActivityCompleted;
import dev.netherite.engine.partition.PartitionEvent.ClientRequestReceived;
import dev.netherite.engine.partition.PartitionEvent.DeliveryAcknowledged;
import dev.netherite.engine.partition.PartitionEvent.EntityBatchCompleted;
import dev.netherite.engine.partition.PartitionEvent.EntityBatchLimitSet;
import dev.netherite.engine.partition.PartitionEvent.MessagesReceived;
import dev.netherite.engine.partition.PartitionEvent.StepCompleted;
import dev.netherite.engine.partition.PartitionEvent.TimersFired;
import dev.netherite.engine.partition.PartitionMessage.EntityOperationRequested;
import dev.netherite.engine.partition.PartitionMessage.EntityResponded;
import dev.netherite.engine.partition.PartitionMessage.EventDelivered;
import dev.netherite.engine.partition.PartitionMessage.ExecutionRequested;
import dev.netherite.engine.partition.PartitionMessage.LockReleased;
import dev.netherite.engine.partition.PartitionMessage.LockRequested;
import dev.netherite.engine.partition.PartitionMessage.LocksGranted;
import dev.netherite.engine.partition.PartitionMessage.SubOrchestrationEnded;
import dev.netherite.engine.partition.PartitionMessage.ToEntity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
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
 * <p>Invariants: an instance has at most one step in progress; a step consumes every event its
 * instance had waiting when it was dispatched; messages between partitions go through the {@link
 * Outbox} and are applied through the {@link DedupVector}, messages within the partition are
 * applied at once.
 *
 * <p>Entities: an entity runs at most one batch of operations at a time; operations run in arrival
 * order; a lock request is granted only when no operation before it waits; a locked entity serves
 * only its lock owner; every lock granted is released exactly once, by the section's end, the
 * owner's end, or (when the grant arrives for an owner that has since ended) on the grant's
 * arrival.
 */
public final class PartitionState implements WireSerializable {
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
  private transient PartitionPlacement placement;

  public static final int DEFAULT_ENTITY_BATCH_LIMIT = 100;

  public PartitionState(int partitionId, int partitionCount, int requestLogCapacity) {
    this.partitionId = partitionId;
    this.partitionCount = partitionCount;
    this.requests = new RequestLog(requestLogCapacity);
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

  private PartitionPlacement placement() {
    if (placement == null) {
      placement = new PartitionPlacement(partitionCount);
    }
    return placement;
  }

  /** Applies one event and returns the effects it asks for. */
  public List<Effect> apply(PartitionEvent event) {
    List<Effect> effects = new ArrayList<>(4);
    switch (event) {
      case ClientRequestReceived e -> onClientRequest(e, effects);
      case MessagesReceived e -> onMessages(e, effects);
      case DeliveryAcknowledged e -> outbox.acknowledge(e.destination(), e.upTo());
      case StepCompleted e -> onStepCompleted(e, effects);
      case ActivityCompleted e -> onActivityCompleted(e, effects);
      case TimersFired e -> onTimersFired(e, effects);
      case EntityBatchCompleted e -> onEntityBatchCompleted(e, effects);
      case EntityBatchLimitSet e -> entityBatchLimit = Math.max(1, e.limit());
    }
    return effects;
  }

  /**
   * The effects that restart everything pending after recovery: steps in progress, activities,
   * timers, unsent or unacknowledged outbox entries, and acknowledgements of what this partition
   * has applied.
   */
  public List<Effect> recoveryEffects() {
    List<Effect> effects = new ArrayList<>();
    for (InstanceState i : instances.values()) {
      if (i.stepInProgress) {
        effects.add(runStep(i));
      }
      i.pendingActivities.forEach(
          (taskId, call) ->
              effects.add(
                  new Effect.StartActivity(i.instanceId, i.executionId, taskId, call[0], call[1])));
    }
    for (EntityRecord e : entities.values()) {
      if (!e.batch.isEmpty()) {
        effects.add(runBatch(e));
      }
    }
    effects.add(new Effect.TimersChanged());
    for (int destination : outbox.pendingDestinations()) {
      effects.add(new Effect.OutboxReady(destination, outbox.lastSeq(destination)));
    }
    dedup
        .positions()
        .forEach((origin, seq) -> effects.add(new Effect.AcknowledgeOrigin(origin, seq)));
    return effects;
  }

  // ---------------------------------------------------------------- client requests

  private void onClientRequest(ClientRequestReceived e, List<Effect> effects) {
    ClientResponse earlier = requests.answerOf(e.requestId());
    if (earlier != null) {
      effects.add(new Effect.ReplyToClient(e.requestId(), earlier));
      return;
    }
    ClientResponse response =
        switch (e.request()) {
          case StartOrchestration s -> start(e.requestId(), s, e.timestamp(), effects);
          case RaiseEvent r -> raiseEvent(r, e.timestamp(), effects);
          case Terminate t -> terminate(t, e.timestamp(), effects);
          case Suspend s -> suspend(s, e.timestamp());
          case Resume r -> resume(r, e.timestamp(), effects);
          case Purge p -> purge(p, effects);
          case SignalEntity s -> {
            deliver(
                new EntityOperationRequested(
                    s.entityId(), s.operation(), s.input(), null, null, 0, null),
                e.timestamp(),
                effects);
            yield new ClientResponse.Accepted();
          }
        };
    requests.record(e.requestId(), response);
    effects.add(new Effect.ReplyToClient(e.requestId(), response));
  }

  private ClientResponse start(
      String requestId, StartOrchestration s, Instant now, List<Effect> effects) {
    InstanceState existing = instances.get(s.instanceId());
    if (existing != null) {
      if (requestId.equals(existing.createRequestId)) {
        return new ClientResponse.Started(s.instanceId());
      }
      if (s.refuseIfExistsWith().contains(existing.status) || !existing.status.isTerminal()) {
        return new ClientResponse.Rejected(
            Reason.ALREADY_EXISTS,
            "An instance with id '"
                + s.instanceId()
                + "' already exists with status "
                + existing.status
                + (existing.status.isTerminal()
                    ? "; the start options refuse to replace it."
                    : "; an instance that has not ended cannot be replaced: terminate it first, or use another id."));
      }
      remove(existing, effects);
    }
    boolean later = s.scheduledStart() != null && s.scheduledStart().isAfter(now);
    InstanceState i =
        create(
            s.instanceId(),
            s.orchestrationName(),
            s.input(),
            null,
            null,
            0,
            later ? RuntimeStatus.PENDING : RuntimeStatus.RUNNING,
            now);
    i.createRequestId = requestId;
    if (later) {
      timers.add(s.scheduledStart(), i.instanceId, i.executionId, TimerTable.SCHEDULED_START);
      effects.add(new Effect.TimersChanged());
    }
    maybeDispatch(i, now, effects);
    return new ClientResponse.Started(s.instanceId());
  }

  private InstanceState create(
      String instanceId,
      String name,
      String input,
      String parentInstanceId,
      String parentExecutionId,
      int parentTaskId,
      RuntimeStatus status,
      Instant now) {
    InstanceState i = new InstanceState();
    i.instanceId = instanceId;
    i.name = name;
    i.executionId = nextExecutionId();
    i.status = status;
    i.createdAt = now;
    i.lastUpdatedAt = now;
    i.input = input;
    i.parentInstanceId = parentInstanceId;
    i.parentExecutionId = parentExecutionId;
    i.parentTaskId = parentTaskId;
    i.inbox.add(
        new HistoryEvent.ExecutionStarted(
            name, i.executionId, input, parentInstanceId, parentTaskId));
    instances.put(instanceId, i);
    return i;
  }

  private String nextExecutionId() {
    return partitionId + "-" + Long.toString(++executionCounter, 36);
  }

  private ClientResponse raiseEvent(RaiseEvent r, Instant now, List<Effect> effects) {
    InstanceState i = instances.get(r.instanceId());
    if (i == null) {
      return notFound(r.instanceId());
    }
    if (i.status.isTerminal()) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + r.instanceId()
              + "' has ended with status "
              + i.status
              + "; it takes no more events.");
    }
    i.inbox.add(new HistoryEvent.EventRaised(r.eventName(), r.input()));
    maybeDispatch(i, now, effects);
    return new ClientResponse.Accepted();
  }

  private ClientResponse terminate(Terminate t, Instant now, List<Effect> effects) {
    InstanceState i = instances.get(t.instanceId());
    if (i == null) {
      return notFound(t.instanceId());
    }
    if (!i.status.isTerminal()) {
      i.history.add(new HistoryEvent.ExecutionTerminated(t.reason()));
      end(
          i,
          RuntimeStatus.TERMINATED,
          null,
          FailureDetails.of("Terminated", t.reason()),
          now,
          effects);
    }
    return new ClientResponse.Accepted();
  }

  private ClientResponse suspend(Suspend s, Instant now) {
    InstanceState i = instances.get(s.instanceId());
    if (i == null) {
      return notFound(s.instanceId());
    }
    if (i.status == RuntimeStatus.RUNNING) {
      i.status = RuntimeStatus.SUSPENDED;
      i.lastUpdatedAt = now;
    } else if (i.status != RuntimeStatus.SUSPENDED) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + s.instanceId()
              + "' is "
              + i.status
              + "; only a running instance can be suspended.");
    }
    return new ClientResponse.Accepted();
  }

  private ClientResponse resume(Resume r, Instant now, List<Effect> effects) {
    InstanceState i = instances.get(r.instanceId());
    if (i == null) {
      return notFound(r.instanceId());
    }
    if (i.status == RuntimeStatus.SUSPENDED) {
      i.status = RuntimeStatus.RUNNING;
      i.lastUpdatedAt = now;
      maybeDispatch(i, now, effects);
    } else if (i.status != RuntimeStatus.RUNNING) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + r.instanceId()
              + "' is "
              + i.status
              + "; only a suspended instance can be resumed.");
    }
    return new ClientResponse.Accepted();
  }

  private ClientResponse purge(Purge p, List<Effect> effects) {
    InstanceState i = instances.get(p.instanceId());
    if (i == null) {
      return new ClientResponse.Purged(false);
    }
    if (!i.status.isTerminal()) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + p.instanceId()
              + "' is "
              + i.status
              + "; only an instance that has ended can be purged.");
    }
    remove(i, effects);
    return new ClientResponse.Purged(true);
  }

  private void remove(InstanceState i, List<Effect> effects) {
    instances.remove(i.instanceId);
    timers.removeInstance(i.instanceId);
    effects.add(new Effect.DiscardExecutor(i.instanceId));
  }

  private static ClientResponse notFound(String instanceId) {
    return new ClientResponse.Rejected(
        Reason.NOT_FOUND, "There is no instance with id '" + instanceId + "'.");
  }

  // ---------------------------------------------------------------- messages between instances

  private void onMessages(MessagesReceived e, List<Effect> effects) {
    long seq = e.firstSeq();
    long applied = dedup.lastApplied(e.origin());
    for (PartitionMessage m : e.messages()) {
      if (seq == applied + 1) {
        deliver(m, e.timestamp(), effects);
        applied = seq;
      } else if (seq > applied + 1) {
        break; // a gap: the sender resends from the first message it has not seen acknowledged
      }
      seq++;
    }
    dedup.advance(e.origin(), applied);
    effects.add(new Effect.AcknowledgeOrigin(e.origin(), applied));
  }

  private void send(PartitionMessage m, Instant now, List<Effect> effects) {
    int destination = placement().partitionOf(m.targetId());
    if (destination == partitionId) {
      deliver(m, now, effects);
    } else {
      long seq = outbox.append(destination, m);
      effects.add(new Effect.OutboxReady(destination, seq));
    }
  }

  private void deliver(PartitionMessage m, Instant now, List<Effect> effects) {
    switch (m) {
      case ExecutionRequested r -> {
        InstanceState existing = instances.get(r.instanceId());
        if (existing != null && !existing.status.isTerminal()) {
          if (r.parentInstanceId() == null) {
            return; // started by an entity, which waits for no answer: the running instance stays
          }
          send(
              new SubOrchestrationEnded(
                  r.parentInstanceId(),
                  r.parentExecutionId(),
                  r.parentTaskId(),
                  null,
                  FailureDetails.of(
                      "InstanceAlreadyExists",
                      "Cannot start sub-orchestration '"
                          + r.orchestrationName()
                          + "' with id '"
                          + r.instanceId()
                          + "': an instance with that id is "
                          + existing.status
                          + ".")),
              now,
              effects);
          return;
        }
        if (existing != null) {
          remove(existing, effects);
        }
        InstanceState i =
            create(
                r.instanceId(),
                r.orchestrationName(),
                r.input(),
                r.parentInstanceId(),
                r.parentExecutionId(),
                r.parentTaskId(),
                RuntimeStatus.RUNNING,
                now);
        maybeDispatch(i, now, effects);
      }
      case SubOrchestrationEnded r -> {
        InstanceState parent = instances.get(r.parentInstanceId());
        if (parent != null
            && parent.executionId.equals(r.parentExecutionId())
            && !parent.status.isTerminal()) {
          parent.inbox.add(
              r.failure() == null
                  ? new HistoryEvent.SubOrchestrationCompleted(r.parentTaskId(), r.result())
                  : new HistoryEvent.SubOrchestrationFailed(r.parentTaskId(), r.failure()));
          maybeDispatch(parent, now, effects);
        }
      }
      case EventDelivered r -> {
        InstanceState i = instances.get(r.instanceId());
        if (i != null && !i.status.isTerminal()) {
          i.inbox.add(new HistoryEvent.EventRaised(r.eventName(), r.input()));
          maybeDispatch(i, now, effects);
        }
      }
      case EntityResponded r -> {
        InstanceState i = instances.get(r.callerInstanceId());
        if (i != null && i.executionId.equals(r.callerExecutionId()) && !i.status.isTerminal()) {
          i.inbox.add(
              r.failure() == null
                  ? new HistoryEvent.EntityCallCompleted(r.callerTaskId(), r.result())
                  : new HistoryEvent.EntityCallFailed(r.callerTaskId(), r.failure()));
          maybeDispatch(i, now, effects);
        }
      }
      case LocksGranted g -> onLocksGranted(g, now, effects);
      case ToEntity t -> enqueue(t, now, effects);
    }
  }

  // ---------------------------------------------------------------- steps, activities, timers

  private void maybeDispatch(InstanceState i, Instant now, List<Effect> effects) {
    if (i.status != RuntimeStatus.RUNNING || i.stepInProgress || i.inbox.isEmpty()) {
      return;
    }
    i.stepInProgress = true;
    i.stepNumber++;
    i.stepTime = now;
    i.stepEvents = List.copyOf(i.inbox);
    i.inbox.clear();
    effects.add(runStep(i));
  }

  private static Effect.RunStep runStep(InstanceState i) {
    return new Effect.RunStep(
        i.instanceId,
        i.executionId,
        i.name,
        i.stepNumber,
        i.stepTime,
        i.history,
        i.history.size(),
        i.stepEvents);
  }

  private void onStepCompleted(StepCompleted e, List<Effect> effects) {
    InstanceState i = instances.get(e.instanceId());
    if (i == null
        || !i.executionId.equals(e.executionId())
        || !i.stepInProgress
        || i.stepNumber != e.stepNumber()) {
      return; // the result of a step of an execution that has since ended or been replaced
    }
    Instant now = e.timestamp();
    StepResult r = e.result();
    i.stepInProgress = false;
    i.history.add(new HistoryEvent.OrchestratorStarted(i.stepTime));
    i.history.addAll(i.stepEvents);
    i.stepEvents = List.of();
    i.history.addAll(r.actions());
    i.lastUpdatedAt = now;
    if (r.customStatusChanged()) {
      i.customStatus = r.customStatus();
    }
    for (HistoryEvent action : r.actions()) {
      switch (action) {
        case HistoryEvent.TaskScheduled t -> {
          i.pendingActivities.put(t.taskId(), new String[] {t.activityName(), t.input()});
          effects.add(
              new Effect.StartActivity(
                  i.instanceId, i.executionId, t.taskId(), t.activityName(), t.input()));
        }
        case HistoryEvent.TimerCreated t -> {
          timers.add(t.fireAt(), i.instanceId, i.executionId, t.taskId());
          effects.add(new Effect.TimersChanged());
        }
        case HistoryEvent.SubOrchestrationCreated s ->
            send(
                new ExecutionRequested(
                    s.instanceId(),
                    s.orchestrationName(),
                    s.input(),
                    i.instanceId,
                    i.executionId,
                    s.taskId()),
                now,
                effects);
        case HistoryEvent.EventSent s ->
            send(new EventDelivered(s.instanceId(), s.name(), s.input()), now, effects);
        case HistoryEvent.EntityCalled c ->
            send(
                new EntityOperationRequested(
                    c.entityId(),
                    c.operation(),
                    c.input(),
                    i.instanceId,
                    i.executionId,
                    c.taskId(),
                    heldLock(i, c.entityId())),
                now,
                effects);
        case HistoryEvent.EntitySignaled s -> {
          var signal =
              new EntityOperationRequested(
                  s.entityId(), s.operation(), s.input(), null, null, 0, null);
          if (s.fireAt() != null && s.fireAt().isAfter(now)) {
            timers.addMessage(s.fireAt(), signal);
            effects.add(new Effect.TimersChanged());
          } else {
            send(signal, now, effects);
          }
        }
        case HistoryEvent.EntityLockRequested l -> {
          i.lockTaskId = l.taskId();
          i.lockEntities = List.copyOf(l.entityIds());
          i.locksGranted = false;
          send(
              new LockRequested(
                  l.entityIds(), 0, new LockOwner(i.instanceId, i.executionId, l.taskId())),
              now,
              effects);
        }
        case HistoryEvent.EntityUnlockSent u -> releaseLocks(i, now, effects);
        default ->
            throw new IllegalStateException(
                "not an action: " + action + " instance=" + i.instanceId);
      }
    }
    switch (r.outcome()) {
      case null -> maybeDispatch(i, now, effects);
      case StepResult.Completed c -> {
        i.history.add(
            new HistoryEvent.ExecutionCompleted(RuntimeStatus.COMPLETED, c.output(), null));
        end(i, RuntimeStatus.COMPLETED, c.output(), null, now, effects);
      }
      case StepResult.Failed f -> {
        i.history.add(new HistoryEvent.ExecutionCompleted(RuntimeStatus.FAILED, null, f.failure()));
        end(i, RuntimeStatus.FAILED, null, f.failure(), now, effects);
      }
      case StepResult.ContinuedAsNew c -> continueAsNew(i, c, now, effects);
    }
  }

  private void end(
      InstanceState i,
      RuntimeStatus status,
      String output,
      FailureDetails failure,
      Instant now,
      List<Effect> effects) {
    i.status = status;
    i.output = output;
    i.failure = failure;
    i.lastUpdatedAt = now;
    i.stepInProgress = false;
    i.stepEvents = List.of();
    i.inbox.clear();
    i.pendingActivities.clear();
    timers.removeInstance(i.instanceId);
    releaseLocks(i, now, effects);
    effects.add(new Effect.DiscardExecutor(i.instanceId));
    effects.add(new Effect.InstanceEnded(i.view(false)));
    if (i.parentInstanceId != null) {
      send(
          new SubOrchestrationEnded(
              i.parentInstanceId,
              i.parentExecutionId,
              i.parentTaskId,
              output,
              status == RuntimeStatus.COMPLETED
                  ? null
                  : failure != null
                      ? failure
                      : FailureDetails.of(status.name(), "Sub-orchestration " + status)),
          now,
          effects);
    }
  }

  private void continueAsNew(
      InstanceState i, StepResult.ContinuedAsNew c, Instant now, List<Effect> effects) {
    List<HistoryEvent> arrivedDuringStep = new ArrayList<>(i.inbox);
    timers.removeInstance(i.instanceId);
    releaseLocks(i, now, effects);
    i.pendingActivities.clear();
    i.history = new ArrayList<>();
    i.inbox.clear();
    i.executionId = nextExecutionId();
    i.stepNumber = 0;
    i.input = c.input();
    // The custom status stays: one set just before continue-as-new is what clients should see,
    // until the new execution sets its own.
    i.lastUpdatedAt = now;
    i.inbox.add(
        new HistoryEvent.ExecutionStarted(
            i.name, i.executionId, c.input(), i.parentInstanceId, i.parentTaskId));
    i.inbox.addAll(c.carriedEvents());
    for (HistoryEvent e : arrivedDuringStep) {
      // Results of the old execution's calls mean nothing to the new one; raised events are kept.
      if (e instanceof HistoryEvent.EventRaised) {
        i.inbox.add(e);
      }
    }
    effects.add(new Effect.DiscardExecutor(i.instanceId));
    maybeDispatch(i, now, effects);
  }

  private void onActivityCompleted(ActivityCompleted e, List<Effect> effects) {
    InstanceState i = instances.get(e.instanceId());
    if (i == null
        || !i.executionId.equals(e.executionId())
        || i.pendingActivities.remove(e.taskId()) == null) {
      return; // a duplicate, or a result for an execution that has ended
    }
    i.inbox.add(
        e.failure() == null
            ? new HistoryEvent.TaskCompleted(e.taskId(), e.result())
            : new HistoryEvent.TaskFailed(e.taskId(), e.failure()));
    maybeDispatch(i, e.timestamp(), effects);
  }

  private void onTimersFired(TimersFired e, List<Effect> effects) {
    for (TimerTable.Timer t : timers.removeDue(e.timestamp())) {
      if (t.message() != null) {
        send(t.message(), e.timestamp(), effects);
        continue;
      }
      InstanceState i = instances.get(t.instanceId());
      if (i == null || !i.executionId.equals(t.executionId()) || i.status.isTerminal()) {
        continue;
      }
      if (t.taskId() == TimerTable.SCHEDULED_START) {
        if (i.status == RuntimeStatus.PENDING) {
          i.status = RuntimeStatus.RUNNING;
        }
      } else {
        i.inbox.add(new HistoryEvent.TimerFired(t.taskId(), t.due()));
      }
      maybeDispatch(i, e.timestamp(), effects);
    }
    effects.add(new Effect.TimersChanged());
  }

  // ---------------------------------------------------------------- entities and their locks

  private void enqueue(ToEntity m, Instant now, List<Effect> effects) {
    EntityRecord e = entities.get(m.entityId());
    if (e == null) {
      if (m instanceof LockReleased) {
        return; // late: the entity was unlocked and has since gone
      }
      e = new EntityRecord(m.entityId(), EntityId.parse(m.entityId()).name(), now);
      entities.put(e.entityId, e);
    }
    if (m instanceof LockReleased r && !e.expectsRelease(r.owner())) {
      return;
    }
    e.queue.addLast(m);
    schedule(e, now, effects);
  }

  /**
   * Takes from the entity's queue what can be served now: lock grants and releases at once,
   * operations into one batch of at most {@link #entityBatchLimit}. A lock change waits until the
   * operations before it have run. Starts the batch, or removes the entity when nothing is left of
   * it.
   */
  private void schedule(EntityRecord e, Instant now, List<Effect> effects) {
    if (!e.batch.isEmpty()) {
      return;
    }
    List<EntityOperationRequested> batch = new ArrayList<>();
    boolean lockChanged = true;
    while (lockChanged && batch.size() < entityBatchLimit) {
      lockChanged = false;
      for (Iterator<ToEntity> it = e.queue.iterator();
          it.hasNext() && batch.size() < entityBatchLimit; ) {
        ToEntity m = it.next();
        if (!e.mayServe(m)) {
          continue;
        }
        if (m instanceof EntityOperationRequested op) {
          it.remove();
          batch.add(op);
          continue;
        }
        if (!batch.isEmpty()) {
          break;
        }
        it.remove();
        if (m instanceof LockRequested l) {
          grant(e, l, now, effects);
        } else if (m instanceof LockReleased r && r.owner().equals(e.lockedBy)) {
          e.lockedBy = null;
        }
        e.lastModified = now;
        lockChanged =
            true; // what waited behind the old lock state may be served now: look again from the
        // head
        break;
      }
    }
    if (!batch.isEmpty()) {
      e.batch = List.copyOf(batch);
      e.batchNumber++;
      effects.add(runBatch(e));
    } else if (e.isIdle()) {
      entities.remove(e.entityId);
    }
  }

  private void grant(EntityRecord e, LockRequested l, Instant now, List<Effect> effects) {
    e.lockedBy = l.owner();
    if (l.position() + 1 < l.entityIds().size()) {
      send(new LockRequested(l.entityIds(), l.position() + 1, l.owner()), now, effects);
    } else {
      send(new LocksGranted(l.owner(), l.entityIds()), now, effects);
    }
  }

  private static Effect.RunEntityBatch runBatch(EntityRecord e) {
    return new Effect.RunEntityBatch(e.entityId, e.name, e.batchNumber, e.state, e.batch);
  }

  private void onEntityBatchCompleted(EntityBatchCompleted ev, List<Effect> effects) {
    EntityRecord e = entities.get(ev.entityId());
    if (e == null || e.batch.isEmpty() || e.batchNumber != ev.batchNumber()) {
      return; // a duplicate result of a batch already applied
    }
    EntityBatchResult r = ev.result();
    if (r.outcomes().size() != e.batch.size()) {
      throw new IllegalStateException(
          "entity batch result does not match its batch: entity="
              + e.entityId
              + " batch="
              + e.batchNumber
              + " operations="
              + e.batch.size()
              + " outcomes="
              + r.outcomes().size());
    }
    Instant now = ev.timestamp();
    e.state = r.state();
    e.lastModified = now;
    for (int k = 0; k < e.batch.size(); k++) {
      EntityOperationRequested op = e.batch.get(k);
      if (!op.isSignal()) {
        EntityBatchResult.Outcome o = r.outcomes().get(k);
        send(
            new EntityResponded(
                op.callerInstanceId(),
                op.callerExecutionId(),
                op.callerTaskId(),
                o.result(),
                o.failure()),
            now,
            effects);
      }
    }
    e.batch = List.of();
    for (PartitionMessage m : r.messages()) {
      send(m, now, effects);
    }
    schedule(e, now, effects);
  }

  private void onLocksGranted(LocksGranted g, Instant now, List<Effect> effects) {
    LockOwner owner = g.owner();
    InstanceState i = instances.get(owner.instanceId());
    if (i != null
        && i.executionId.equals(owner.executionId())
        && !i.status.isTerminal()
        && i.lockTaskId == owner.taskId()
        && !i.locksGranted) {
      i.locksGranted = true;
      i.inbox.add(new HistoryEvent.EntityLocksGranted(owner.taskId()));
      maybeDispatch(i, now, effects);
      return;
    }
    // The section's owner ended (or moved on) while its request travelled: nobody will release
    // these locks but us.
    for (String entityId : g.entityIds()) {
      send(new LockReleased(entityId, owner), now, effects);
    }
  }

  /**
   * The lock an orchestration holds on the entity, to attach to its calls; null when it holds none.
   */
  private static LockOwner heldLock(InstanceState i, String entityId) {
    return i.locksGranted && i.lockEntities.contains(entityId)
        ? new LockOwner(i.instanceId, i.executionId, i.lockTaskId)
        : null;
  }

  /**
   * Ends the instance's critical section: releases the locks it holds; a grant still travelling is
   * released on arrival.
   */
  private void releaseLocks(InstanceState i, Instant now, List<Effect> effects) {
    if (i.lockTaskId < 0) {
      return;
    }
    if (i.locksGranted) {
      LockOwner owner = new LockOwner(i.instanceId, i.executionId, i.lockTaskId);
      for (String entityId : i.lockEntities) {
        send(new LockReleased(entityId, owner), now, effects);
      }
    }
    i.lockTaskId = -1;
    i.lockEntities = List.of();
    i.locksGranted = false;
  }

  // ---------------------------------------------------------------- queries

  public ClientResponse query(ClientQuery q) {
    return switch (q) {
      case ClientQuery.GetStatus g -> {
        InstanceState i = instances.get(g.instanceId());
        yield new ClientResponse.Status(i == null ? null : i.view(g.withHistory()));
      }
      case ClientQuery.ListInstances l -> list(l);
      case ClientQuery.ReadEntity r -> {
        EntityRecord e = entities.get(r.entityId());
        yield new ClientResponse.EntityStatus(e == null ? null : e.view());
      }
    };
  }

  private ClientResponse list(ClientQuery.ListInstances l) {
    List<InstanceState> matching = new ArrayList<>();
    for (InstanceState i : instances.values()) {
      if ((l.afterId() == null || i.instanceId.compareTo(l.afterId()) > 0)
          && (l.statuses().isEmpty() || l.statuses().contains(i.status))
          && (l.createdFrom() == null || !i.createdAt.isBefore(l.createdFrom()))
          && (l.createdTo() == null || i.createdAt.isBefore(l.createdTo()))
          && (l.idPrefix() == null || i.instanceId.startsWith(l.idPrefix()))) {
        matching.add(i);
      }
    }
    matching.sort((a, b) -> a.instanceId.compareTo(b.instanceId));
    List<InstanceView> page = new ArrayList<>();
    for (int k = 0; k < Math.min(l.limit(), matching.size()); k++) {
      page.add(matching.get(k).view(false));
    }
    return new ClientResponse.InstanceList(page, matching.size() > l.limit());
  }

  /** Counts of instances by status, for metrics and tests. */
  public Map<RuntimeStatus, Integer> statusCounts() {
    Map<RuntimeStatus, Integer> counts = new HashMap<>();
    instances.values().forEach(i -> counts.merge(i.status, 1, Integer::sum));
    return counts;
  }
}
