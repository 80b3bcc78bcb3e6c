package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.ClientRequest.Purge;
import dev.netherite.engine.partition.ClientRequest.RaiseEvent;
import dev.netherite.engine.partition.ClientRequest.Resume;
import dev.netherite.engine.partition.ClientRequest.StartOrchestration;
import dev.netherite.engine.partition.ClientRequest.Suspend;
import dev.netherite.engine.partition.ClientRequest.Terminate;
import dev.netherite.engine.partition.ClientResponse.Reason;
import dev.netherite.engine.partition.PartitionEvent.ActivityCompleted;
import dev.netherite.engine.partition.PartitionEvent.ClientRequestReceived;
import dev.netherite.engine.partition.PartitionEvent.DeliveryAcknowledged;
import dev.netherite.engine.partition.PartitionEvent.MessagesReceived;
import dev.netherite.engine.partition.PartitionEvent.StepCompleted;
import dev.netherite.engine.partition.PartitionEvent.TimersFired;
import dev.netherite.engine.partition.PartitionMessage.EventDelivered;
import dev.netherite.engine.partition.PartitionMessage.ExecutionRequested;
import dev.netherite.engine.partition.PartitionMessage.SubOrchestrationEnded;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>The state of one partition and its transition function. {@link #apply} is deterministic: the same events in
 * the same order give the same state and the same effects, which is what makes recovery by replay correct. It is
 * not thread-safe; its host calls it from one thread.
 *
 * <p>Invariants: an instance has at most one step in progress; a step consumes every event its instance had
 * waiting when it was dispatched; messages between partitions go through the {@link Outbox} and are applied
 * through the {@link DedupVector}, messages within the partition are applied at once.
 */
public final class PartitionState implements WireSerializable {
  private final int partitionId;
  private final int partitionCount;
  private final LinkedHashMap<String, InstanceState> instances = new LinkedHashMap<>();
  private final Outbox outbox = new Outbox();
  private final DedupVector dedup = new DedupVector();
  private final TimerTable timers = new TimerTable();
  private final RequestLog requests;
  private long executionCounter;
  private transient PartitionPlacement placement;

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
    }
    return effects;
  }

  /**
   * The effects that restart everything pending after recovery: steps in progress, activities, timers, unsent
   * or unacknowledged outbox entries, and acknowledgements of what this partition has applied.
   */
  public List<Effect> recoveryEffects() {
    List<Effect> effects = new ArrayList<>();
    for (InstanceState i : instances.values()) {
      if (i.stepInProgress) {
        effects.add(runStep(i));
      }
      i.pendingActivities.forEach(
          (taskId, call) -> effects.add(new Effect.StartActivity(i.instanceId, i.executionId, taskId, call[0], call[1])));
    }
    effects.add(new Effect.TimersChanged());
    for (int destination : outbox.pendingDestinations()) {
      effects.add(new Effect.OutboxReady(destination, outbox.lastSeq(destination)));
    }
    dedup.positions().forEach((origin, seq) -> effects.add(new Effect.AcknowledgeOrigin(origin, seq)));
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
        };
    requests.record(e.requestId(), response);
    effects.add(new Effect.ReplyToClient(e.requestId(), response));
  }

  private ClientResponse start(String requestId, StartOrchestration s, Instant now, List<Effect> effects) {
    InstanceState existing = instances.get(s.instanceId());
    if (existing != null) {
      if (requestId.equals(existing.createRequestId)) {
        return new ClientResponse.Started(s.instanceId());
      }
      if (s.refuseIfExistsWith().contains(existing.status) || !existing.status.isTerminal()) {
        return new ClientResponse.Rejected(
            Reason.ALREADY_EXISTS,
            "An instance with id '" + s.instanceId() + "' already exists with status " + existing.status
                + (existing.status.isTerminal()
                    ? "; the start options refuse to replace it."
                    : "; an instance that has not ended cannot be replaced: terminate it first, or use another id."));
      }
      remove(existing, effects);
    }
    boolean later = s.scheduledStart() != null && s.scheduledStart().isAfter(now);
    InstanceState i =
        create(s.instanceId(), s.orchestrationName(), s.input(), null, null, 0, later ? RuntimeStatus.PENDING : RuntimeStatus.RUNNING, now);
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
    i.inbox.add(new HistoryEvent.ExecutionStarted(name, i.executionId, input, parentInstanceId, parentTaskId));
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
          "Instance '" + r.instanceId() + "' has ended with status " + i.status + "; it takes no more events.");
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
      end(i, RuntimeStatus.TERMINATED, null, FailureDetails.of("Terminated", t.reason()), now, effects);
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
          Reason.INVALID_STATE, "Instance '" + s.instanceId() + "' is " + i.status + "; only a running instance can be suspended.");
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
          Reason.INVALID_STATE, "Instance '" + r.instanceId() + "' is " + i.status + "; only a suspended instance can be resumed.");
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
          "Instance '" + p.instanceId() + "' is " + i.status + "; only an instance that has ended can be purged.");
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
    return new ClientResponse.Rejected(Reason.NOT_FOUND, "There is no instance with id '" + instanceId + "'.");
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
          send(
              new SubOrchestrationEnded(
                  r.parentInstanceId(),
                  r.parentExecutionId(),
                  r.parentTaskId(),
                  null,
                  FailureDetails.of(
                      "InstanceAlreadyExists",
                      "Cannot start sub-orchestration '" + r.orchestrationName() + "' with id '" + r.instanceId()
                          + "': an instance with that id is " + existing.status + ".")),
              now,
              effects);
          return;
        }
        if (existing != null) {
          remove(existing, effects);
        }
        InstanceState i =
            create(r.instanceId(), r.orchestrationName(), r.input(), r.parentInstanceId(), r.parentExecutionId(), r.parentTaskId(), RuntimeStatus.RUNNING, now);
        maybeDispatch(i, now, effects);
      }
      case SubOrchestrationEnded r -> {
        InstanceState parent = instances.get(r.parentInstanceId());
        if (parent != null && parent.executionId.equals(r.parentExecutionId()) && !parent.status.isTerminal()) {
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
        i.instanceId, i.executionId, i.name, i.stepNumber, i.stepTime, i.history, i.history.size(), i.stepEvents);
  }

  private void onStepCompleted(StepCompleted e, List<Effect> effects) {
    InstanceState i = instances.get(e.instanceId());
    if (i == null || !i.executionId.equals(e.executionId()) || !i.stepInProgress || i.stepNumber != e.stepNumber()) {
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
          effects.add(new Effect.StartActivity(i.instanceId, i.executionId, t.taskId(), t.activityName(), t.input()));
        }
        case HistoryEvent.TimerCreated t -> {
          timers.add(t.fireAt(), i.instanceId, i.executionId, t.taskId());
          effects.add(new Effect.TimersChanged());
        }
        case HistoryEvent.SubOrchestrationCreated s ->
            send(new ExecutionRequested(s.instanceId(), s.orchestrationName(), s.input(), i.instanceId, i.executionId, s.taskId()), now, effects);
        case HistoryEvent.EventSent s -> send(new EventDelivered(s.instanceId(), s.name(), s.input()), now, effects);
        default -> throw new IllegalStateException("not an action: " + action + " instance=" + i.instanceId);
      }
    }
    switch (r.outcome()) {
      case null -> maybeDispatch(i, now, effects);
      case StepResult.Completed c -> {
        i.history.add(new HistoryEvent.ExecutionCompleted(RuntimeStatus.COMPLETED, c.output(), null));
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
      InstanceState i, RuntimeStatus status, String output, FailureDetails failure, Instant now, List<Effect> effects) {
    i.status = status;
    i.output = output;
    i.failure = failure;
    i.lastUpdatedAt = now;
    i.stepInProgress = false;
    i.stepEvents = List.of();
    i.inbox.clear();
    i.pendingActivities.clear();
    timers.removeInstance(i.instanceId);
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
                  : failure != null ? failure : FailureDetails.of(status.name(), "Sub-orchestration " + status)),
          now,
          effects);
    }
  }

  private void continueAsNew(InstanceState i, StepResult.ContinuedAsNew c, Instant now, List<Effect> effects) {
    List<HistoryEvent> arrivedDuringStep = new ArrayList<>(i.inbox);
    timers.removeInstance(i.instanceId);
    i.pendingActivities.clear();
    i.history = new ArrayList<>();
    i.inbox.clear();
    i.executionId = nextExecutionId();
    i.stepNumber = 0;
    i.input = c.input();
    i.customStatus = null;
    i.lastUpdatedAt = now;
    i.inbox.add(new HistoryEvent.ExecutionStarted(i.name, i.executionId, c.input(), i.parentInstanceId, i.parentTaskId));
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
    if (i == null || !i.executionId.equals(e.executionId()) || i.pendingActivities.remove(e.taskId()) == null) {
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

  // ---------------------------------------------------------------- queries

  public ClientResponse query(ClientQuery q) {
    return switch (q) {
      case ClientQuery.GetStatus g -> {
        InstanceState i = instances.get(g.instanceId());
        yield new ClientResponse.Status(i == null ? null : i.view(g.withHistory()));
      }
      case ClientQuery.ListInstances l -> list(l);
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
