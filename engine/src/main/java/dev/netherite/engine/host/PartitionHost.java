package dev.netherite.engine.host;

import dev.netherite.dsl.NonDeterministicOrchestrationException;
import dev.netherite.engine.orchestration.InstanceCache;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.InstanceState;
import dev.netherite.engine.partition.Outbox;
import dev.netherite.engine.partition.PartitionCheckpoint;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.StepResult;
import dev.netherite.engine.partition.StoredRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>Hosts one partition: its {@link PartitionState}, its commit log, and the work it starts. It
 * decides everything a partition does and when; it does it through {@link PartitionPorts}, so the
 * runtime's Pekko actor and the seeded simulation run this same class. Single-threaded: every call
 * comes from the one thread (or actor) that owns the host.
 *
 * <p><b>The commit log.</b> Every event is appended to a buffer; with no write in flight the buffer
 * goes to the journal as one {@link EventBatch} (group commit, at most {@code maxBatchEvents}), so
 * at most one write is in flight and everything that arrives meanwhile goes into the next. In
 * {@code local} mode an event is applied at once and its {@link Effect.Immediate} effects run at
 * once; its {@link Effect.AfterDurable} effects (replies, sends, acknowledgements) wait for the
 * write that holds it. In {@code persist-first} mode an event is applied, and all its effects run,
 * only when its batch is durable. When more than {@code maxPendingEvents} are unwritten, inputs
 * from outside (client commands, deliveries) wait in the stash (backpressure).
 *
 * <p><b>Lifecycle</b> ({@link Phase}):
 *
 * <pre>
 *   RECOVERING --recoveryCompleted--> RUNNING
 *   RUNNING --checkpoint due--> CHECKPOINTING --captured--> RUNNING
 *   RUNNING, CHECKPOINTING --handOff--> HANDING_OFF --final checkpoint saved or failed--> STOPPED
 *   any --write failed or rejected--> STOPPED
 * </pre>
 *
 * <p><b>Checkpoints.</b> While CHECKPOINTING, input waits in the stash only until the buffer is
 * written: at that quiescent point (no write in flight, nothing buffered) the state is exactly the
 * effect of the durable batches, and the host captures the checkpoint there (the records changed
 * since the last one and the partition-wide state, labelled with the durable sequence number),
 * hands it to {@link PartitionPorts.Journal#saveCheckpoint}, which takes its copy before returning,
 * and runs again at once. The store writes the records and then the snapshot while new events are
 * applied and written; those are after the checkpoint's number, so recovery replays them from the
 * log. One checkpoint is written at a time. A hand-off captures a final checkpoint the same way and
 * stops once it is saved; inputs wait meanwhile and are dropped with the host. A stopped host
 * ignores everything; its owner starts a new one, which recovers the durable prefix, and callers
 * retry what was not acknowledged.
 */
public final class PartitionHost {

  /** The host's phases; see the class documentation for the transitions. */
  public enum Phase {
    RECOVERING,
    RUNNING,
    CHECKPOINTING,
    HANDING_OFF,
    STOPPED
  }

  private final int partitionId;
  private final HostSettings settings;
  private final PartitionPorts ports;
  private final boolean pipelined;
  private final InstanceCache cache;
  private final CommitLinger linger;
  private final long createdNanos;

  private PartitionState state;
  private Phase phase = Phase.RECOVERING;

  // The commit log: events not yet written, with what waits for them; and the write in flight.
  private final List<PartitionEvent> buffer = new ArrayList<>();
  private List<Runnable> bufferCallbacks = new ArrayList<>();
  private List<PartitionEvent> inFlight = List.of();
  private List<Runnable> inFlightCallbacks = new ArrayList<>();
  private boolean writeInFlight;
  private long writeStartedNanos;
  private boolean backpressured;

  /** Durable events after the last captured checkpoint (the log suffix a recovery would replay). */
  private long eventsSinceCheckpoint;

  // The checkpoint being written: at most one; its events count again if it fails.
  private boolean checkpointInFlight;
  private boolean finalCheckpointInFlight;
  private long eventsInCheckpoint;

  /** Events since the last checkpoint at which to take the next; moved on after a failed one. */
  private long checkpointDueAt;

  /**
   * {@link #eventsSinceCheckpoint} when the last checkpoint failed (-1: none failed since the last
   * one succeeded). An idle partition retries only once it has events that attempt did not have: a
   * checkpoint that cannot fit would otherwise be serialized again at every idle tick.
   */
  private long eventsAtFailedCheckpoint = -1;

  private Instant lastActivity;
  private long recoveredFromSeqNr;

  // For diagnostics only.
  private long lastWriteNanos = -1;
  private long lastCheckpointSeqNr;
  private Instant lastCheckpointAt;
  private long recoveryNanos = -1;
  // Recovery from an incremental checkpoint: the log suffix waits for the checkpoint's records.
  private boolean awaitingRecords;
  private boolean recoveryDone;
  private final List<EventBatch> replayWaiting = new ArrayList<>();

  private final ArrayDeque<HostInput> stash = new ArrayDeque<>();

  /** How many of the stashed inputs are external (those backpressure holds back). */
  private int stashedExternal;

  // Host-side state, not durable: who waits for what, and what was sent.
  private final Map<String, HostInput.ReplyChannel> replyTo = new HashMap<>();
  private final Map<String, List<HostInput.ReplyChannel>> completionWaiters = new HashMap<>();
  private final Map<Integer, Long> durableOutbox = new HashMap<>();
  private final Map<Integer, Long> sentUpTo = new HashMap<>();
  private final Map<Integer, Instant> lastSent = new HashMap<>();
  private Instant timerArmedFor;

  public PartitionHost(int partitionId, HostSettings settings, PartitionPorts ports) {
    this.partitionId = partitionId;
    this.settings = settings;
    this.ports = ports;
    this.pipelined = settings.pipelined();
    this.state =
        new PartitionState(partitionId, settings.partitionCount(), settings.requestLogCapacity());
    this.cache = new InstanceCache(settings.instanceCacheSize());
    this.linger =
        new CommitLinger(
            pipelined ? settings.maxLinger() : Duration.ZERO, ports.clock(), ports.timers());
    this.checkpointDueAt = settings.checkpointAfterEvents();
    this.createdNanos = ports.clock().nanoTime();
    this.lastActivity = ports.clock().now();
  }

  // ---------------------------------------------------------------- observation

  public int partitionId() {
    return partitionId;
  }

  public Phase phase() {
    return phase;
  }

  /** The live state; read it only on the host's thread. */
  public PartitionState state() {
    return state;
  }

  /** The events applied or appended but not yet durable, in log order: in flight, then buffered. */
  public List<PartitionEvent> unwrittenEvents() {
    if (inFlight.isEmpty()) {
      return Collections.unmodifiableList(buffer);
    }
    List<PartitionEvent> all = new ArrayList<>(inFlight.size() + buffer.size());
    all.addAll(inFlight);
    all.addAll(buffer);
    return all;
  }

  public boolean writeInFlight() {
    return writeInFlight;
  }

  public int stashedInputs() {
    return stash.size();
  }

  public long eventsSinceCheckpoint() {
    return eventsSinceCheckpoint;
  }

  /** What operators see of this host; cheap, and answered in any phase. */
  public HostDiagnostics diagnostics() {
    return new HostDiagnostics(
        phase,
        buffer.size(),
        inFlight.size(),
        writeInFlight ? ports.clock().nanoTime() - writeStartedNanos : -1,
        lastWriteNanos,
        replyTo.size(),
        completionWaiters.values().stream().mapToInt(List::size).sum(),
        stash.size(),
        eventsSinceCheckpoint,
        lastCheckpointSeqNr,
        lastCheckpointAt,
        recoveryNanos,
        lastActivity,
        backpressured);
  }

  // ---------------------------------------------------------------- recovering

  /** Recovery found a checkpoint taken at {@code seqNr}. */
  public void restoreCheckpoint(PartitionState recovered, long seqNr) {
    requirePhase(Phase.RECOVERING);
    if (recovered.partitionCount() != settings.partitionCount()
        || recovered.partitionId() != partitionId) {
      throw new IllegalStateException(
          "partition checkpoint does not match the configuration: checkpoint partition="
              + recovered.partitionId()
              + "/"
              + recovered.partitionCount()
              + " configured partition="
              + partitionId
              + "/"
              + settings.partitionCount());
    }
    state = recovered;
    recoveredFromSeqNr = seqNr;
    lastCheckpointSeqNr = seqNr;
    // A checkpoint of this format held every record; the instance store has none of them yet.
    state.markAllChanged();
  }

  /**
   * Recovery found an incremental checkpoint: its partition-wide state now, its records from the
   * instance store as of its number, asynchronously. The log suffix that recovery replays meanwhile
   * waits, in order, until the records are in.
   */
  public void restoreCheckpoint(PartitionCheckpoint recovered, long seqNr) {
    requirePhase(Phase.RECOVERING);
    if (recovered.partitionCount() != settings.partitionCount()
        || recovered.partitionId() != partitionId) {
      throw new IllegalStateException(
          "partition checkpoint does not match the configuration: checkpoint partition="
              + recovered.partitionId()
              + "/"
              + recovered.partitionCount()
              + " configured partition="
              + partitionId
              + "/"
              + settings.partitionCount());
    }
    state = PartitionState.fromCheckpoint(recovered);
    recoveredFromSeqNr = seqNr;
    lastCheckpointSeqNr = seqNr;
    awaitingRecords = true;
    ports.journal().loadRecords(recovered.number());
  }

  /** The records of the recovered checkpoint, asked for by {@link #restoreCheckpoint}. */
  public void onRecordsLoaded(List<StoredRecord> records) {
    if (phase != Phase.RECOVERING || !awaitingRecords) {
      return;
    }
    records.forEach(state::restoreRecord);
    awaitingRecords = false;
    for (EventBatch batch : replayWaiting) {
      applyReplayed(batch);
    }
    replayWaiting.clear();
    if (recoveryDone) {
      recoveryCompleted();
    }
  }

  /** The records could not be read: the host stops, and a new one recovers again. */
  public void onRecordsLoadFailed(Throwable cause) {
    if (phase == Phase.STOPPED) {
      return;
    }
    ports
        .log()
        .error(
            "partition "
                + partitionId
                + " could not read its records from the instance store; restarting",
            cause);
    stopNow();
  }

  /** A durable batch after the checkpoint; applied silently (side effects never run in replay). */
  public void replay(EventBatch batch) {
    requirePhase(Phase.RECOVERING);
    if (awaitingRecords) {
      replayWaiting.add(batch);
    } else {
      applyReplayed(batch);
    }
  }

  private void applyReplayed(EventBatch batch) {
    batch.events().forEach(state::apply);
    eventsSinceCheckpoint += batch.events().size(); // the log suffix counts towards the next one
  }

  /**
   * Recovery is done: dispatch pending work, timers and the outbox once, then run; or, while the
   * checkpoint's records are still being read, as soon as they are in.
   */
  public void recoveryCompleted() {
    requirePhase(Phase.RECOVERING);
    if (awaitingRecords) {
      recoveryDone = true;
      return;
    }
    phase = Phase.RUNNING;
    recoveryNanos = ports.clock().nanoTime() - createdNanos;
    ports
        .log()
        .info(
            () ->
                String.format(
                    "partition %d recovered in %d ms: %d instances, checkpoint at seqNr %d + %d events replayed",
                    partitionId,
                    recoveryNanos / 1_000_000,
                    state.instanceCount(),
                    recoveredFromSeqNr,
                    eventsSinceCheckpoint));
    runEffects(state.recoveryEffects(), true);
    if (state.entityBatchLimit() != settings.entityMaxBatchSize()) {
      append(
          new PartitionEvent.EntityBatchLimitSet(
              settings.entityMaxBatchSize(), ports.clock().now()));
    }
    ports.timers().startPeriodic(HostTimer.RESEND, settings.resendAfter().dividedBy(2));
    ports
        .timers()
        .startPeriodic(HostTimer.CHECKPOINT_IF_IDLE, settings.checkpointAfterIdle().dividedBy(2));
    afterInput();
  }

  private void requirePhase(Phase expected) {
    if (phase != expected) {
      throw new IllegalStateException(
          "partition " + partitionId + " is " + phase + ", expected " + expected);
    }
  }

  // ---------------------------------------------------------------- input

  /** One input; it waits in the stash while the host cannot take it. */
  public void input(HostInput input) {
    if (phase == Phase.STOPPED) {
      return;
    }
    if (mustWait(input)) {
      stashInput(input);
    } else {
      handle(input);
    }
    afterInput();
  }

  private void stashInput(HostInput input) {
    stash.addLast(input);
    if (isExternal(input)) {
      stashedExternal++;
    }
  }

  private boolean mustWait(HostInput input) {
    return phase != Phase.RUNNING || (backpressured && isExternal(input));
  }

  private static boolean isExternal(HostInput input) {
    return input instanceof HostInput.ClientCommand || input instanceof PartitionLink.Deliver;
  }

  /**
   * Takes every stashed input that may run now, in order; those that still must wait keep their
   * order.
   */
  private void afterInput() {
    flush();
    // Nothing can leave the stash while every input in it is one that backpressure holds back: skip
    // the scan, which would otherwise run at every input of a backpressured partition.
    if (stash.isEmpty()
        || phase != Phase.RUNNING
        || (backpressured && stashedExternal == stash.size())) {
      return;
    }
    List<HostInput> waiting = new ArrayList<>(stash);
    stash.clear();
    stashedExternal = 0;
    for (HostInput input : waiting) {
      if (mustWait(input)) {
        stashInput(input);
      } else {
        handle(input);
        flush();
      }
    }
  }

  private void handle(HostInput input) {
    switch (input) {
      case HostInput.ClientCommand c -> {
        replyTo.put(c.requestId(), c.replyTo());
        append(
            new PartitionEvent.ClientRequestReceived(
                c.requestId(), c.request(), ports.clock().now()));
      }
      case HostInput.Query q -> {
        ClientResponse response = state.query(q.query());
        whenDurable(() -> q.replyTo().reply(response));
      }
      case HostInput.AwaitCompletion a -> onAwaitCompletion(a);
      case PartitionLink.Deliver d -> {
        if (fromKnownPartition(d.origin(), d)) {
          onDeliver(d);
        }
      }
      case PartitionLink.Ack a -> {
        if (fromKnownPartition(a.from(), a) && a.upTo() > state.outbox().acknowledged(a.from())) {
          append(new PartitionEvent.DeliveryAcknowledged(a.from(), a.upTo(), ports.clock().now()));
        }
      }
      case HostInput.StepFinished s -> onStepFinished(s);
      case HostInput.ActivityFinished a -> {
        linger.workReported();
        append(
            new PartitionEvent.ActivityCompleted(
                a.instanceId(),
                a.executionId(),
                a.taskId(),
                a.result(),
                a.failure(),
                ports.clock().now()));
      }
      case HostInput.EntityBatchFinished b -> {
        linger.workReported();
        append(
            new PartitionEvent.EntityBatchCompleted(
                b.entityId(), b.batchNumber(), b.result(), ports.clock().now()));
      }
      case HostInput.TimerFired t -> onTimer(t.timer());
    }
  }

  /**
   * Partition numbers in messages come from outside: one that names no partition of this task hub
   * (another configuration, a corrupted message) would make the dedup vector and the outbox track a
   * channel that does not exist. Dropped, with a warning.
   */
  private boolean fromKnownPartition(int origin, PartitionLink message) {
    if (origin >= 0 && origin < settings.partitionCount()) {
      return true;
    }
    ports
        .log()
        .warn(
            "partition "
                + partitionId
                + " dropped a "
                + message.getClass().getSimpleName()
                + " from partition "
                + origin
                + ", which this task hub (partitions 0.."
                + (settings.partitionCount() - 1)
                + ") does not have");
    return false;
  }

  private void onAwaitCompletion(HostInput.AwaitCompletion a) {
    InstanceState i = state.instance(a.instanceId());
    if (i == null || i.status().isTerminal()) {
      ClientResponse response = state.query(new ClientQuery.GetStatus(a.instanceId(), false));
      whenDurable(() -> a.replyTo().reply(response));
    } else {
      completionWaiters.computeIfAbsent(a.instanceId(), k -> new ArrayList<>(1)).add(a.replyTo());
    }
  }

  private void onDeliver(PartitionLink.Deliver d) {
    // Drop what was applied already, so duplicates cost no journal space; the state machine checks
    // again.
    List<PartitionMessage> messages =
        state.dedup().applicable(d.origin(), d.firstSeq(), d.messages());
    long applied = state.dedup().lastApplied(d.origin());
    if (messages.isEmpty()) {
      // A duplicate or a gap: tell the sender where this partition is.
      whenDurable(() -> sendAck(d.origin(), applied));
      return;
    }
    append(
        new PartitionEvent.MessagesReceived(
            d.origin(), applied + 1, messages, ports.clock().now()));
  }

  private void onStepFinished(HostInput.StepFinished s) {
    OrchestrationRun run = s.run();
    run.markIdle();
    linger.workReported();
    if (s.result().outcome() != null && cache.get(run.instanceId()) == run) {
      cache.discard(run.instanceId());
    }
    warnIfNonDeterministic(run.instanceId(), s.result());
    append(
        new PartitionEvent.StepCompleted(
            run.instanceId(), run.executionId(), s.stepNumber(), s.result(), ports.clock().now()));
  }

  /**
   * Non-determinism is a deployment mistake (changed code with instances in flight), so operators
   * hear of it, not only the instance's client.
   */
  private void warnIfNonDeterministic(String instanceId, StepResult result) {
    if (result.outcome() instanceof StepResult.Failed f
        && f.failure().isCausedBy(NonDeterministicOrchestrationException.class)) {
      ports
          .log()
          .warn(
              "partition "
                  + partitionId
                  + " failed instance "
                  + instanceId
                  + " for non-determinism: "
                  + f.failure().message());
    }
  }

  private void onTimer(HostTimer timer) {
    switch (timer) {
      case TIMER_DUE -> {
        timerArmedFor = null;
        Instant due = state.timers().nextDue();
        Instant now = ports.clock().now();
        if (due != null && !due.isAfter(now)) {
          append(new PartitionEvent.TimersFired(now));
        } else {
          armTimer();
        }
      }
      case RESEND -> resendUnacknowledged();
      case COMMIT_DUE -> linger.timerFired();
      case CHECKPOINT_IF_IDLE -> {
        if (eventsSinceCheckpoint > Math.max(0, eventsAtFailedCheckpoint)
            && Duration.between(lastActivity, ports.clock().now())
                    .compareTo(settings.checkpointAfterIdle())
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
      runEffects(state.apply(event), false);
    }
  }

  /** Runs {@code action} once everything appended so far is durable. */
  private void whenDurable(Runnable action) {
    if (!buffer.isEmpty()) {
      bufferCallbacks.add(action);
    } else if (writeInFlight) {
      inFlightCallbacks.add(action);
    } else {
      action.run();
    }
  }

  private void flush() {
    if (phase == Phase.RECOVERING || phase == Phase.STOPPED) {
      return;
    }
    linger.observe(buffer.isEmpty());
    if (!writeInFlight
        && phase == Phase.RUNNING
        && !backpressured
        && !buffer.isEmpty()
        && linger.holdBack()) {
      return;
    }
    if (writeInFlight || buffer.isEmpty() || !ports.journal().mayWrite()) {
      updateBackpressure();
      return;
    }
    int n = Math.min(buffer.size(), settings.maxBatchEvents());
    List<PartitionEvent> events = new ArrayList<>(buffer.subList(0, n));
    buffer.subList(0, n).clear();
    List<Runnable> callbacks;
    if (buffer.isEmpty()) {
      callbacks = bufferCallbacks;
      bufferCallbacks = new ArrayList<>();
    } else {
      // What waits on the events left in the buffer must not run before those are durable: it all
      // stays there.
      callbacks = new ArrayList<>();
    }
    writeInFlight = true;
    inFlight = events;
    inFlightCallbacks = callbacks;
    ports.metrics().journalWrite(events.size());
    linger.written();
    writeStartedNanos = ports.clock().nanoTime();
    ports.journal().write(new EventBatch(events));
    updateBackpressure();
  }

  /** The write in flight is durable. */
  public void onWritten() {
    if (phase == Phase.STOPPED) {
      return;
    }
    List<PartitionEvent> written = inFlight;
    writeInFlight = false;
    inFlight = List.of();
    lastWriteNanos = ports.clock().nanoTime() - writeStartedNanos;
    ports.metrics().journalWriteLatency(lastWriteNanos);
    eventsSinceCheckpoint += written.size();
    List<Runnable> callbacks = inFlightCallbacks;
    inFlightCallbacks = new ArrayList<>();
    if (!pipelined) {
      for (PartitionEvent e : written) {
        runEffects(state.apply(e), true);
      }
    }
    callbacks.forEach(Runnable::run);
    if (phase == Phase.RUNNING && eventsSinceCheckpoint >= checkpointDueAt) {
      beginCheckpoint();
    }
    flush();
    if (checkpointing() && !writeInFlight && buffer.isEmpty()) {
      captureCheckpoint();
    }
    afterInput();
  }

  /**
   * The write in flight failed; it may or may not be stored. Events applied in memory but not
   * written are lost with this host, and the durable prefix is recovered by a new one.
   */
  public void onWriteFailed(Throwable cause, long seqNr) {
    ports
        .log()
        .error(
            "partition "
                + partitionId
                + " could not write to its commit log at seqNr "
                + seqNr
                + "; restarting from the journal",
            cause);
    stopNow();
  }

  /**
   * The journal refused the write in flight: it is not stored but was applied in memory, so
   * continuing would diverge from the log.
   */
  public void onWriteRejected(Throwable cause, long seqNr) {
    ports
        .log()
        .error(
            "partition "
                + partitionId
                + " commit log rejected a batch at seqNr "
                + seqNr
                + "; restarting from the journal",
            cause);
    stopNow();
  }

  private void updateBackpressure() {
    backpressured = buffer.size() + inFlight.size() > settings.maxPendingEvents();
  }

  // ---------------------------------------------------------------- checkpoints and hand-off

  private boolean checkpointing() {
    return phase == Phase.CHECKPOINTING || phase == Phase.HANDING_OFF;
  }

  private void beginCheckpoint() {
    if (checkpointInFlight) {
      return; // one at a time: the next is due by events or idleness once this one ends
    }
    if (phase == Phase.RUNNING) {
      phase = Phase.CHECKPOINTING;
    }
    flush();
    if (!writeInFlight && buffer.isEmpty()) {
      captureCheckpoint();
    }
  }

  /**
   * Only called with nothing in flight and nothing buffered, so the state is exactly the effect of
   * the durable batches: the invariant that makes a checkpoint safe under pipelining. The journal
   * port copies what it writes before it returns, so the host runs on at once; the callers take the
   * stashed input.
   */
  private void captureCheckpoint() {
    if (checkpointInFlight || !ports.journal().mayWrite()) {
      return;
    }
    checkpointInFlight = true;
    finalCheckpointInFlight = phase == Phase.HANDING_OFF;
    ports.metrics().checkpoint();
    List<StoredRecord> changes = new ArrayList<>();
    PartitionCheckpoint wide = state.captureCheckpoint(ports.journal().lastSequenceNr(), changes);
    eventsInCheckpoint = eventsSinceCheckpoint;
    eventsSinceCheckpoint = 0;
    checkpointDueAt = settings.checkpointAfterEvents();
    ports.journal().saveCheckpoint(new Checkpoint(wide, changes));
    if (phase == Phase.CHECKPOINTING) {
      phase = Phase.RUNNING;
    }
  }

  /** The checkpoint saved by the last {@link PartitionPorts.Journal#saveCheckpoint} is stored. */
  public void onCheckpointSaved(long seqNr) {
    if (phase == Phase.STOPPED || !checkpointInFlight) {
      return;
    }
    state.checkpointCommitted();
    eventsInCheckpoint = 0;
    eventsAtFailedCheckpoint = -1;
    lastCheckpointSeqNr = seqNr;
    lastCheckpointAt = ports.clock().now();
    if (settings.deleteCoveredEvents()) {
      ports.journal().deleteUpTo(seqNr);
    }
    endCheckpoint(true);
  }

  public void onCheckpointFailed(Throwable cause) {
    if (phase == Phase.STOPPED || !checkpointInFlight) {
      return;
    }
    // Not retried at the next write: a checkpoint that fails (e.g. larger than the store takes in
    // one request) would fail again at once, serializing the whole state each time. The journal
    // keeps every event, so recovery stays correct, only longer.
    eventsSinceCheckpoint += eventsInCheckpoint;
    eventsInCheckpoint = 0;
    checkpointDueAt = eventsSinceCheckpoint + settings.checkpointAfterEvents();
    eventsAtFailedCheckpoint = eventsSinceCheckpoint;
    state.checkpointAbandoned();
    ports
        .log()
        .warn(
            "partition "
                + partitionId
                + " checkpoint failed, next attempt after "
                + settings.checkpointAfterEvents()
                + " more events or when idle: "
                + cause);
    endCheckpoint(false);
  }

  private void endCheckpoint(boolean saved) {
    checkpointInFlight = false;
    if (phase == Phase.HANDING_OFF) {
      if (!finalCheckpointInFlight) {
        // A checkpoint begun before the hand-off ended; the final one holds what came after it.
        if (eventsSinceCheckpoint == 0 && buffer.isEmpty() && !writeInFlight) {
          stopNow();
        } else {
          beginCheckpoint();
        }
        return;
      }
      long seqNr = ports.journal().lastSequenceNr();
      if (saved) {
        ports
            .log()
            .info(
                () ->
                    "partition "
                        + partitionId
                        + " handed over after a final checkpoint at seqNr "
                        + seqNr);
      } else {
        ports
            .log()
            .warn(
                "partition "
                    + partitionId
                    + " stopped for its hand-over, but its final checkpoint failed: the new host"
                    + " replays the journal from the last checkpoint that succeeded (events up to"
                    + " seqNr "
                    + seqNr
                    + " are all in the journal)");
      }
      stopNow();
      return;
    }
    afterInput();
  }

  /**
   * The partition moves to another node: checkpoint everything applied (buffered events are written
   * first), then stop. A failed final checkpoint still stops: the journal has every durable event,
   * the new host replays them. Inputs waiting meanwhile are dropped with the host; their senders
   * retry at the new host.
   */
  public void handOff() {
    if (phase == Phase.STOPPED || phase == Phase.HANDING_OFF) {
      return;
    }
    if (phase == Phase.RECOVERING) {
      stopNow();
      return;
    }
    phase = Phase.HANDING_OFF;
    if (eventsSinceCheckpoint == 0 && buffer.isEmpty() && !writeInFlight && !checkpointInFlight) {
      ports
          .log()
          .info(
              () ->
                  "partition "
                      + partitionId
                      + " handed over; its last checkpoint is current (seqNr "
                      + ports.journal().lastSequenceNr()
                      + ")");
      stopNow();
    } else {
      beginCheckpoint();
    }
  }

  private void stopNow() {
    if (phase == Phase.STOPPED) {
      return;
    }
    phase = Phase.STOPPED;
    stash.clear();
    stashedExternal = 0;
    ports.stop().run();
  }

  /** The owner has stopped the host (or is about to): release cached executions. */
  public void stopped() {
    phase = Phase.STOPPED;
    stash.clear();
    stashedExternal = 0;
    cache.discardAll();
  }

  /** Forgets every cached execution, so the next step of each instance replays its history. */
  public void discardCachedRuns() {
    cache.discardAll();
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
        ports.work().startActivity(a);
      }
      case Effect.RunEntityBatch b -> {
        linger.workStarted();
        ports.work().startEntityBatch(b);
      }
      case Effect.TimersChanged t -> armTimer();
      case Effect.DiscardExecutor d -> {
        cache.discard(d.instanceId());
        ports.work().cancelActivities(d.instanceId()); // its execution waits for them no more
      }
    }
  }

  private void runStep(Effect.RunStep s) {
    OrchestrationRun run = cache.get(s.instanceId());
    if (run == null || !run.canContinueWith(s.executionId(), s.stepNumber())) {
      if (run != null) {
        cache.discard(s.instanceId());
      }
      run =
          ports
              .work()
              .loadRun(
                  s.instanceId(),
                  s.executionId(),
                  s.orchestrationName(),
                  s.history().subList(0, s.historySize()));
      cache.put(run);
    }
    ports.work().step(run, s.stepNumber(), s.stepTime(), s.newEvents());
  }

  private void runAfterDurable(Effect.AfterDurable effect) {
    switch (effect) {
      case Effect.ReplyToClient r -> {
        HostInput.ReplyChannel to = replyTo.remove(r.requestId());
        if (to != null) {
          to.reply(r.response());
        }
      }
      case Effect.OutboxReady o -> {
        durableOutbox.merge(o.destination(), o.upToSeq(), Math::max);
        sendOutbox(o.destination());
      }
      case Effect.AcknowledgeOrigin a -> sendAck(a.origin(), a.upTo());
      case Effect.InstanceEnded e -> {
        ports.metrics().instanceEnded(e.view());
        List<HostInput.ReplyChannel> waiters = completionWaiters.remove(e.view().instanceId());
        if (waiters != null) {
          ClientResponse status = new ClientResponse.Status(e.view());
          waiters.forEach(w -> w.reply(status));
        }
      }
    }
  }

  private void armTimer() {
    Instant due = state.timers().nextDue();
    if (due == null) {
      ports.timers().cancel(HostTimer.TIMER_DUE);
      timerArmedFor = null;
      return;
    }
    if (due.equals(timerArmedFor)) {
      return;
    }
    timerArmedFor = due;
    Duration delay = Duration.between(ports.clock().now(), due);
    ports.timers().startSingle(HostTimer.TIMER_DUE, delay.isNegative() ? Duration.ZERO : delay);
  }

  // ---------------------------------------------------------------- delivery to other partitions

  private void sendOutbox(int destination) {
    Outbox outbox = state.outbox();
    long durable = durableOutbox.getOrDefault(destination, 0L);
    long sent = Math.max(sentUpTo.getOrDefault(destination, 0L), outbox.acknowledged(destination));
    while (sent < durable) {
      List<Outbox.Entry> entries =
          outbox.entries(destination, sent, durable, settings.maxMessagesPerDelivery());
      if (entries.isEmpty()) {
        break;
      }
      List<PartitionMessage> messages = new ArrayList<>(entries.size());
      entries.forEach(e -> messages.add(e.message()));
      ports
          .transport()
          .send(
              destination, new PartitionLink.Deliver(partitionId, entries.get(0).seq(), messages));
      sent = entries.get(entries.size() - 1).seq();
    }
    sentUpTo.put(destination, sent);
    lastSent.put(destination, ports.clock().now());
  }

  /**
   * Resends, from the first unacknowledged entry, every channel not sent on for {@code
   * resendAfter}. In local mode the outbox may hold entries that are not durable yet: only those
   * known durable are sent.
   */
  private void resendUnacknowledged() {
    Instant cutoff = ports.clock().now().minus(settings.resendAfter());
    for (int destination : state.outbox().pendingDestinations()) {
      Instant last = lastSent.get(destination);
      if (last == null || !last.isAfter(cutoff)) {
        sentUpTo.put(destination, state.outbox().acknowledged(destination));
        durableOutbox.merge(
            destination,
            pipelined
                ? durableOutbox.getOrDefault(destination, 0L)
                : state.outbox().lastSeq(destination),
            Math::max);
        sendOutbox(destination);
      }
    }
  }

  private void sendAck(int origin, long upTo) {
    ports.transport().send(origin, new PartitionLink.Ack(partitionId, upTo));
  }
}
