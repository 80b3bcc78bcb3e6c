package dev.netherite.runtime.internal;

import dev.netherite.engine.orchestration.InstanceCache;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.InstanceState;
import dev.netherite.engine.partition.Outbox;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.runtime.DeliveryFaults;
import dev.netherite.runtime.RuntimeSettings.PersistenceMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Props;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.persistence.AbstractPersistentActorWithTimers;
import org.apache.pekko.persistence.DeleteMessagesFailure;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.DeleteSnapshotsFailure;
import org.apache.pekko.persistence.DeleteSnapshotsSuccess;
import org.apache.pekko.persistence.RecoveryCompleted;
import org.apache.pekko.persistence.SaveSnapshotFailure;
import org.apache.pekko.persistence.SaveSnapshotSuccess;
import org.apache.pekko.persistence.SnapshotOffer;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;

/**
 * INTERNAL API
 *
 * <p>Hosts one partition: the {@link PartitionState}, its commit log, and the work it starts. A
 * classic persistent actor because pipelining needs {@code persistAsync} (typed persistence stashes
 * during writes).
 *
 * <p>The commit log: every event is appended to a buffer; with no write in flight the buffer goes
 * to the journal as one {@link EventBatch} (group commit), so at most one write is in flight and
 * everything that arrives meanwhile goes into the next. In {@code local} mode an event is applied
 * at once and its {@link Effect.Immediate} effects run at once; its {@link Effect.AfterDurable}
 * effects wait for the batch's write. In {@code persist-first} mode an event is applied, and all
 * its effects run, only when its batch is durable.
 *
 * <p>Lifecycle: recovering (snapshot + replay, no effects) → running → checkpointing (new input is
 * stashed until nothing is in flight, the state is saved as a snapshot, then input resumes) →
 * running. A write failure stops the actor; the parent entity starts it again, which recovers the
 * durable prefix. A hand-off (the partition moves to another node) is a final checkpoint after
 * which the actor stops instead of resuming; stashed input is dropped and its senders retry at the
 * new host.
 */
final class PartitionActor extends AbstractPersistentActorWithTimers {
  /**
   * Config path of the dispatcher that partitions and their journal plugin run on (see
   * reference.conf).
   */
  static final String DISPATCHER = "netherite.partition-dispatcher";

  private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
  private final int partitionId;
  private final NodeServices node;
  private final boolean pipelined;
  private final ActorRef self = getSelf();

  private PartitionState state;
  private final InstanceCache cache;
  private final PartitionLease lease;

  // The commit log: events not yet written, with their deferred effects; and the write in flight.
  private final List<PartitionEvent> buffer = new ArrayList<>();
  private List<Runnable> bufferCallbacks = new ArrayList<>();
  private boolean writeInFlight;
  private int inFlightEvents;
  private long eventsSinceCheckpoint;

  /** Events since the last checkpoint at which to take the next; moved on after a failed one. */
  private long checkpointDueAt;

  private boolean checkpointing;
  private boolean snapshotInFlight;
  private boolean backpressured;
  private boolean handingOff;
  private Instant lastActivity = Instant.now();
  private final CommitLinger linger;
  private long writeStartedNanos;
  private final long createdNanos = System.nanoTime();
  private long recoveredFromSnapshot;

  // Host-side state, not durable: who waits for what, and what was sent.
  private final Map<String, org.apache.pekko.actor.typed.ActorRef<ClientResponse>> replyTo =
      new HashMap<>();
  private final Map<String, List<org.apache.pekko.actor.typed.ActorRef<ClientResponse>>>
      completionWaiters = new HashMap<>();
  private final Map<Integer, Long> durableOutbox = new HashMap<>();
  private final Map<Integer, Long> sentUpTo = new HashMap<>();
  private final Map<Integer, Instant> lastSent = new HashMap<>();
  private Instant timerArmedFor;

  static Props props(int partitionId, NodeServices node) {
    return Props.create(PartitionActor.class, () -> new PartitionActor(partitionId, node));
  }

  private PartitionActor(int partitionId, NodeServices node) {
    this.partitionId = partitionId;
    this.node = node;
    this.pipelined = node.settings().persistenceMode() == PersistenceMode.LOCAL;
    this.state = newState();
    this.checkpointDueAt = node.settings().checkpointAfterEvents();
    this.cache = new InstanceCache(node.settings().instanceCacheSize());
    this.linger =
        new CommitLinger(
            pipelined ? node.settings().commitLogMaxLinger() : Duration.ZERO,
            () -> self.tell(LocalSignal.Tick.COMMIT_DUE, ActorRef.noSender()));
    this.lease =
        PartitionLease.acquire(
            getContext().getSystem(), node.settings().taskHub(), partitionId, self);
  }

  private PartitionState newState() {
    return new PartitionState(
        partitionId, node.settings().partitionCount(), node.settings().requestLogCapacity());
  }

  @Override
  public String persistenceId() {
    return node.persistenceId(partitionId);
  }

  // ---------------------------------------------------------------- recovering

  @Override
  public Receive createReceiveRecover() {
    return receiveBuilder()
        .match(
            SnapshotOffer.class,
            offer -> {
              PartitionState recovered = (PartitionState) offer.snapshot();
              if (recovered.partitionCount() != node.settings().partitionCount()
                  || recovered.partitionId() != partitionId) {
                throw new IllegalStateException(
                    "partition checkpoint does not match the configuration: checkpoint partition="
                        + recovered.partitionId()
                        + "/"
                        + recovered.partitionCount()
                        + " configured partition="
                        + partitionId
                        + "/"
                        + node.settings().partitionCount());
              }
              state = recovered;
              recoveredFromSnapshot = offer.metadata().sequenceNr();
            })
        .match(
            EventBatch.class,
            batch -> {
              batch.events().forEach(state::apply); // replay: effects never run
              eventsSinceCheckpoint +=
                  batch.events().size(); // the log suffix counts towards the next checkpoint
            })
        .match(RecoveryCompleted.class, done -> onRecovered())
        .build();
  }

  private void onRecovered() {
    lease.fence(persistenceId(), lastSequenceNr());
    if (log.isInfoEnabled()) {
      log.info(
          String.format(
              "partition %d recovered in %d ms: %d instances, checkpoint at seqNr %d + %d events replayed",
              partitionId,
              (System.nanoTime() - createdNanos) / 1_000_000,
              state.instanceCount(),
              recoveredFromSnapshot,
              eventsSinceCheckpoint));
    }
    runEffects(state.recoveryEffects(), true);
    if (state.entityBatchLimit() != node.settings().entityMaxBatchSize()) {
      append(
          new PartitionEvent.EntityBatchLimitSet(
              node.settings().entityMaxBatchSize(), Instant.now()));
      flush();
    }
    Duration resend = node.settings().resendAfter();
    timers().startTimerWithFixedDelay("resend", LocalSignal.Tick.RESEND, resend.dividedBy(2));
    Duration idle = node.settings().checkpointAfterIdle();
    timers()
        .startTimerWithFixedDelay(
            "checkpoint", LocalSignal.Tick.CHECKPOINT_IF_IDLE, idle.dividedBy(2));
  }

  // ---------------------------------------------------------------- running

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(SaveSnapshotSuccess.class, this::onSnapshotSaved)
        .match(
            SaveSnapshotFailure.class,
            f -> {
              // Not retried at the next write: a checkpoint that fails (e.g. larger than Cassandra
              // takes in one request)
              // would fail again at once, serializing the whole state each time. The journal keeps
              // every event, so
              // recovery stays correct, only longer.
              checkpointDueAt = eventsSinceCheckpoint + node.settings().checkpointAfterEvents();
              log.warning(
                  "partition {} checkpoint failed, next attempt after {} more events or when idle: {}",
                  partitionId,
                  node.settings().checkpointAfterEvents(),
                  f.cause().toString());
              endCheckpoint();
            })
        .match(DeleteMessagesSuccess.class, m -> {})
        .match(DeleteSnapshotsSuccess.class, m -> {})
        .match(
            DeleteMessagesFailure.class,
            m ->
                log.warning(
                    "partition {} could not delete events: {}", partitionId, m.cause().toString()))
        .match(
            DeleteSnapshotsFailure.class,
            m ->
                log.warning(
                    "partition {} could not delete checkpoints: {}",
                    partitionId,
                    m.cause().toString()))
        .matchAny(this::onInput)
        .build();
  }

  private void onInput(Object message) {
    if (message == PartitionCommand.HandOff.INSTANCE) {
      handOff();
      return;
    }
    if (checkpointing || (backpressured && isExternal(message))) {
      stash();
      return;
    }
    switch (message) {
      case PartitionCommand.ClientCommand c -> {
        replyTo.put(c.requestId(), c.replyTo());
        append(new PartitionEvent.ClientRequestReceived(c.requestId(), c.request(), Instant.now()));
      }
      case PartitionCommand.QueryCommand q -> {
        ClientResponse response = state.query(q.query());
        whenDurable(() -> q.replyTo().tell(response));
      }
      case PartitionCommand.AwaitCompletion a -> onAwaitCompletion(a);
      case PartitionCommand.Deliver d -> onDeliver(d);
      case PartitionCommand.Ack a -> {
        if (a.upTo() > state.outbox().acknowledged(a.from())) {
          append(new PartitionEvent.DeliveryAcknowledged(a.from(), a.upTo(), Instant.now()));
        }
      }
      case PartitionCommand.Wake w -> {}
      case LocalSignal.StepFinished s -> onStepFinished(s);
      case LocalSignal.ActivityFinished a -> {
        linger.workReported();
        append(
            new PartitionEvent.ActivityCompleted(
                a.instanceId(),
                a.executionId(),
                a.taskId(),
                a.result(),
                a.failure(),
                Instant.now()));
      }
      case LocalSignal.EntityBatchFinished b -> {
        linger.workReported();
        append(
            new PartitionEvent.EntityBatchCompleted(
                b.entityId(), b.batchNumber(), b.result(), Instant.now()));
      }
      case LocalSignal.Tick t -> onTick(t);
      default -> unhandled(message);
    }
    flush();
  }

  private static boolean isExternal(Object message) {
    return message instanceof PartitionCommand.ClientCommand
        || message instanceof PartitionCommand.Deliver;
  }

  private void onAwaitCompletion(PartitionCommand.AwaitCompletion a) {
    InstanceState i = state.instance(a.instanceId());
    if (i == null || i.status().isTerminal()) {
      ClientResponse response =
          state.query(
              new dev.netherite.engine.partition.ClientQuery.GetStatus(a.instanceId(), false));
      whenDurable(() -> a.replyTo().tell(response));
    } else {
      completionWaiters.computeIfAbsent(a.instanceId(), k -> new ArrayList<>(1)).add(a.replyTo());
    }
  }

  private void onDeliver(PartitionCommand.Deliver d) {
    // Drop what was applied already, so duplicates cost no journal space; the state machine checks
    // again.
    List<PartitionMessage> messages =
        state.dedup().applicable(d.origin(), d.firstSeq(), d.messages());
    long applied = state.dedup().lastApplied(d.origin());
    if (messages.isEmpty()) {
      whenDurable(
          () -> sendAck(d.origin(), applied)); // a duplicate or a gap: tell the sender where we are
      return;
    }
    append(new PartitionEvent.MessagesReceived(d.origin(), applied + 1, messages, Instant.now()));
  }

  private void onStepFinished(LocalSignal.StepFinished s) {
    OrchestrationRun run = s.run();
    run.markIdle();
    linger.workReported();
    if (s.result().outcome() != null && cache.get(run.instanceId()) == run) {
      cache.discard(run.instanceId());
    }
    append(
        new PartitionEvent.StepCompleted(
            run.instanceId(), run.executionId(), s.stepNumber(), s.result(), Instant.now()));
  }

  private void onTick(LocalSignal.Tick tick) {
    switch (tick) {
      case TIMER_DUE -> {
        timerArmedFor = null;
        Instant due = state.timers().nextDue();
        Instant now = Instant.now();
        if (due != null && !due.isAfter(now)) {
          append(new PartitionEvent.TimersFired(now));
        } else {
          armTimer();
        }
      }
      case RESEND -> resendUnacknowledged();
      case COMMIT_DUE -> linger.timerFired();
      case CHECKPOINT_IF_IDLE -> {
        if (eventsSinceCheckpoint > 0
            && Duration.between(lastActivity, Instant.now())
                    .compareTo(node.settings().checkpointAfterIdle())
                >= 0) {
          beginCheckpoint();
        }
      }
    }
  }

  // ---------------------------------------------------------------- the commit log

  private void append(PartitionEvent event) {
    lastActivity = event.timestamp();
    buffer.add(event);
    if (pipelined) {
      List<Effect> effects = state.apply(event);
      runEffects(effects, false);
    }
  }

  /** Runs {@code action} once everything appended so far is durable. */
  private void whenDurable(Runnable action) {
    if (!buffer.isEmpty() || writeInFlight) {
      if (buffer.isEmpty()) {
        inFlightCallbacks.add(action);
      } else {
        bufferCallbacks.add(action);
      }
    } else {
      action.run();
    }
  }

  private List<Runnable> inFlightCallbacks = new ArrayList<>();

  private void flush() {
    linger.observe(buffer.isEmpty());
    if (!writeInFlight
        && !snapshotInFlight
        && !checkpointing
        && !backpressured
        && !buffer.isEmpty()
        && linger.holdBack()) {
      return;
    }
    if (writeInFlight || buffer.isEmpty() || snapshotInFlight || !lease.permitsWrite()) {
      updateBackpressure();
      return;
    }
    int n = Math.min(buffer.size(), node.settings().maxBatchEvents());
    List<PartitionEvent> events = new ArrayList<>(buffer.subList(0, n));
    buffer.subList(0, n).clear();
    List<Runnable> callbacks;
    if (buffer.isEmpty()) {
      callbacks = bufferCallbacks;
      bufferCallbacks = new ArrayList<>();
    } else {
      // Callbacks of the events left in the buffer must not run before those are durable: keep them
      // all there.
      callbacks = new ArrayList<>();
    }
    writeInFlight = true;
    inFlightEvents = events.size();
    inFlightCallbacks = callbacks;
    node.metrics().recordJournalWrite(events.size());
    linger.written();
    writeStartedNanos = System.nanoTime();
    persistAsync(new EventBatch(events), this::onBatchDurable);
    updateBackpressure();
  }

  private void onBatchDurable(EventBatch batch) {
    writeInFlight = false;
    node.metrics().recordJournalWriteLatency(System.nanoTime() - writeStartedNanos);
    eventsSinceCheckpoint += batch.events().size();
    inFlightEvents = 0;
    List<Runnable> callbacks = inFlightCallbacks;
    inFlightCallbacks = new ArrayList<>();
    if (!pipelined) {
      for (PartitionEvent e : batch.events()) {
        runEffects(state.apply(e), true);
      }
    }
    callbacks.forEach(Runnable::run);
    if (!checkpointing && eventsSinceCheckpoint >= checkpointDueAt) {
      beginCheckpoint();
    }
    flush();
    if (checkpointing && !writeInFlight && buffer.isEmpty()) {
      saveCheckpoint();
    }
  }

  private void updateBackpressure() {
    boolean over = buffer.size() + inFlightEvents > node.settings().maxPendingEvents();
    if (backpressured && !over) {
      backpressured = false;
      unstashAll();
    } else {
      backpressured = over;
    }
  }

  @Override
  public void onPersistFailure(Throwable cause, Object event, long seqNr) {
    // The actor stops after this; events applied in memory but not written are lost with it, and
    // the parent
    // restarts the partition from its durable prefix. Callers retry what was not acknowledged.
    log.error(
        cause,
        "partition {} could not write to its commit log at seqNr {}; restarting from the journal",
        partitionId,
        seqNr);
    super.onPersistFailure(cause, event, seqNr);
  }

  @Override
  public void onPersistRejected(Throwable cause, Object event, long seqNr) {
    // A rejected batch is not in the journal but was applied in memory: continuing would diverge
    // from the log.
    log.error(
        cause,
        "partition {} commit log rejected a batch at seqNr {}; restarting from the journal",
        partitionId,
        seqNr);
    getContext().stop(getSelf());
  }

  // ---------------------------------------------------------------- checkpoints

  private void beginCheckpoint() {
    checkpointing = true;
    flush();
    if (!writeInFlight && buffer.isEmpty()) {
      saveCheckpoint();
    }
  }

  /**
   * Only called with nothing in flight and nothing buffered, so the state is exactly the effect of
   * the durable events 1..lastSequenceNr: the invariant that makes a checkpoint safe under
   * pipelining. Input stays stashed until the snapshot store has the state, since the state object
   * is serialized asynchronously.
   */
  private void saveCheckpoint() {
    if (snapshotInFlight || !lease.permitsWrite()) {
      return;
    }
    snapshotInFlight = true;
    node.metrics().recordSnapshot();
    saveSnapshot(state);
  }

  private void onSnapshotSaved(SaveSnapshotSuccess success) {
    long seqNr = success.metadata().sequenceNr();
    eventsSinceCheckpoint = 0;
    checkpointDueAt = node.settings().checkpointAfterEvents();
    if (node.settings().deleteCoveredEvents()) {
      deleteMessages(seqNr);
      deleteSnapshots(SnapshotSelectionCriteria.create(seqNr - 1, Long.MAX_VALUE));
    }
    endCheckpoint();
  }

  private void endCheckpoint() {
    snapshotInFlight = false;
    checkpointing = false;
    if (handingOff) {
      log.info(
          "partition {} handed over after a final checkpoint at seqNr {}",
          partitionId,
          lastSequenceNr());
      getContext().stop(getSelf());
      return;
    }
    unstashAll();
    flush();
  }

  /**
   * The partition moves to another node: checkpoint everything applied (buffered events are written
   * first), then stop. A failed final checkpoint still stops: the journal has every durable event,
   * the new host replays them.
   */
  private void handOff() {
    handingOff = true;
    if (eventsSinceCheckpoint == 0 && buffer.isEmpty() && !writeInFlight && !snapshotInFlight) {
      log.info(
          "partition {} handed over; its last checkpoint is current (seqNr {})",
          partitionId,
          lastSequenceNr());
      getContext().stop(getSelf());
    } else {
      beginCheckpoint();
    }
  }

  // ---------------------------------------------------------------- effects

  private void runEffects(List<Effect> effects, boolean durable) {
    for (Effect effect : effects) {
      switch (effect) {
        case Effect.Immediate immediate -> runImmediate(immediate);
        case Effect.AfterDurable after -> {
          if (durable) {
            runAfterDurable(after);
          } else {
            bufferCallbacks.add(() -> runAfterDurable(after));
          }
        }
      }
    }
  }

  private void runImmediate(Effect.Immediate effect) {
    switch (effect) {
      case Effect.RunStep s -> {
        linger.workStarted();
        runStep(s);
      }
      case Effect.StartActivity a -> {
        linger.workStarted();
        node.activities()
            .submit(
                new ActivityWorkers.Call(a.instanceId(), a.taskId(), a.activityName(), a.input()),
                outcome ->
                    self.tell(
                        new LocalSignal.ActivityFinished(
                            a.instanceId(),
                            a.executionId(),
                            a.taskId(),
                            outcome.result(),
                            outcome.failure()),
                        ActorRef.noSender()));
      }
      case Effect.RunEntityBatch b -> {
        linger.workStarted();
        Thread.ofVirtual()
            .name("netherite-entity-" + partitionId)
            .start(
                () -> {
                  var result = node.entities().run(b);
                  self.tell(
                      new LocalSignal.EntityBatchFinished(b.entityId(), b.batchNumber(), result),
                      ActorRef.noSender());
                });
      }
      case Effect.TimersChanged t -> armTimer();
      case Effect.DiscardExecutor d -> cache.discard(d.instanceId());
    }
  }

  private void runStep(Effect.RunStep s) {
    OrchestrationRun run = cache.get(s.instanceId());
    if (run == null || !run.canContinueWith(s.executionId(), s.stepNumber())) {
      if (run != null) {
        cache.discard(s.instanceId());
      }
      run =
          node.executor()
              .load(
                  s.instanceId(),
                  s.executionId(),
                  s.orchestrationName(),
                  s.history().subList(0, s.historySize()),
                  (r, stepNumber, result) ->
                      self.tell(
                          new LocalSignal.StepFinished(r, stepNumber, result),
                          ActorRef.noSender()));
      cache.put(run);
    }
    run.step(s.stepNumber(), s.stepTime(), s.newEvents());
  }

  private void runAfterDurable(Effect.AfterDurable effect) {
    switch (effect) {
      case Effect.ReplyToClient r -> {
        var to = replyTo.remove(r.requestId());
        if (to != null) {
          to.tell(r.response());
        }
      }
      case Effect.OutboxReady o -> {
        durableOutbox.merge(o.destination(), o.upToSeq(), Math::max);
        sendOutbox(o.destination());
      }
      case Effect.AcknowledgeOrigin a -> sendAck(a.origin(), a.upTo());
      case Effect.InstanceEnded e -> {
        var waiters = completionWaiters.remove(e.view().instanceId());
        if (waiters != null) {
          ClientResponse status = new ClientResponse.Status(e.view());
          waiters.forEach(w -> w.tell(status));
        }
      }
    }
  }

  private void armTimer() {
    Instant due = state.timers().nextDue();
    if (due == null) {
      timers().cancel("timer");
      timerArmedFor = null;
      return;
    }
    if (due.equals(timerArmedFor)) {
      return;
    }
    timerArmedFor = due;
    Duration delay = Duration.between(Instant.now(), due);
    timers()
        .startSingleTimer(
            "timer", LocalSignal.Tick.TIMER_DUE, delay.isNegative() ? Duration.ZERO : delay);
  }

  // ---------------------------------------------------------------- delivery to other partitions

  private void sendOutbox(int destination) {
    Outbox outbox = state.outbox();
    long durable = durableOutbox.getOrDefault(destination, 0L);
    long sent = Math.max(sentUpTo.getOrDefault(destination, 0L), outbox.acknowledged(destination));
    while (sent < durable) {
      List<Outbox.Entry> entries =
          outbox.entries(destination, sent, durable, node.settings().maxMessagesPerDelivery());
      if (entries.isEmpty()) {
        break;
      }
      List<PartitionMessage> messages = new ArrayList<>(entries.size());
      entries.forEach(e -> messages.add(e.message()));
      send(destination, new PartitionCommand.Deliver(partitionId, entries.get(0).seq(), messages));
      sent = entries.get(entries.size() - 1).seq();
    }
    sentUpTo.put(destination, sent);
    lastSent.put(destination, Instant.now());
  }

  private void resendUnacknowledged() {
    Instant cutoff = Instant.now().minus(node.settings().resendAfter());
    for (int destination : state.outbox().pendingDestinations()) {
      Instant last = lastSent.get(destination);
      if (last == null || last.isBefore(cutoff)) {
        sentUpTo.put(destination, state.outbox().acknowledged(destination));
        durableOutbox.merge(
            destination,
            pipelined ? durableLastSeq(destination) : state.outbox().lastSeq(destination),
            Math::max);
        sendOutbox(destination);
      }
    }
  }

  /**
   * In local mode the outbox may hold entries that are not durable yet; only those known durable
   * are resent.
   */
  private long durableLastSeq(int destination) {
    return durableOutbox.getOrDefault(destination, 0L);
  }

  private void sendAck(int origin, long upTo) {
    send(origin, new PartitionCommand.Ack(partitionId, upTo));
  }

  private void send(int destination, PartitionCommand command) {
    DeliveryFaults.Fate fate = node.faults().fateOf(command);
    if (fate == DeliveryFaults.Fate.DROP) {
      return;
    }
    var target = node.partition(destination);
    target.tell(command);
    if (fate == DeliveryFaults.Fate.DUPLICATE) {
      target.tell(command);
    }
  }

  @Override
  public void postStop() throws Exception {
    lease.release();
    cache.discardAll();
    super.postStop();
  }
}
