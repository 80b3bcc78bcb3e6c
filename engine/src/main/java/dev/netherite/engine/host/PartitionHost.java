package dev.netherite.engine.host;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.NonDeterministicOrchestrationException;
import dev.netherite.dsl.PayloadTooLargeException;
import dev.netherite.engine.PayloadLimits;
import dev.netherite.engine.orchestration.InstanceCache;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.DedupVector;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.EntityRecord;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.Incarnations;
import dev.netherite.engine.partition.InstanceState;
import dev.netherite.engine.partition.Outbox;
import dev.netherite.engine.partition.PartitionCheckpoint;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.PurgeFilter;
import dev.netherite.engine.partition.StepId;
import dev.netherite.engine.partition.StepResult;
import dev.netherite.engine.partition.StoredRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * INTERNAL API
 *
 * <p>Hosts one partition: its {@link PartitionState}, its commit log, and the work it starts. It
 * decides everything a partition does and when; it does it through {@link PartitionPorts}, so the
 * runtime's Pekko actor and the seeded simulation run this same class. Single-threaded: every call
 * comes from the one thread (or actor) that owns the host.
 *
 * <p><b>The commit log.</b> Every event is appended to a buffer; with no write in flight the buffer
 * goes to the journal as one {@link EventBatch} (group commit, at most {@code maxBatchEvents} and
 * {@code maxBatchBytes}), so at most one write is in flight and everything that arrives meanwhile
 * goes into the next. In {@code local} mode an event is applied at once and its {@link
 * Effect.Immediate} effects run at once; its {@link Effect.AfterDurable} effects (replies, sends,
 * acknowledgements) wait for the write that holds it. In {@code persist-first} mode an event is
 * applied, and all its effects run, only when its batch is durable. When more than {@code
 * maxPendingEvents} are unwritten, inputs from outside (client commands, deliveries) wait in the
 * stash (backpressure).
 *
 * <p><b>Poison pills.</b> Nothing about one instance may stop the partition's writes. An event
 * larger than {@code maxBatchBytes} is never appended: a failure of the task, operation or instance
 * that produced it is recorded in its place (a client request is refused). A write the store
 * refuses ({@link #onWriteRefused}: it would be refused again) stops the host like any failed
 * write, but the {@link CommitLogFaults} that the next host inherits remember it: a refused batch
 * of several events makes the next host write one event at a time, and an event refused alone is
 * replaced, when its work produces it again, by that work's failure.
 *
 * <p><b>Lifecycle</b> ({@link Phase}):
 *
 * <pre>
 *   RECOVERING --recoveryCompleted--> RUNNING
 *   RUNNING --checkpoint due--> CHECKPOINTING --captured--> RUNNING
 *   RUNNING, CHECKPOINTING --handOff--> HANDING_OFF --final checkpoint saved or failed--> STOPPED
 *   any --write failed, refused or rejected--> STOPPED
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
  private final boolean global;
  private final InstanceCache cache;
  private final CommitLinger linger;
  private final long createdNanos;
  private final CommitLogFaults faults;

  private PartitionState state;
  private Phase phase = Phase.RECOVERING;

  // Per origin, the last message recorded in a MessagesReceived. The next delivery follows it. A
  // recorded event is applied (at once, or in persist-first mode when durable) or the host stops,
  // so this is the dedup vector plus what persist-first has recorded and not yet applied; without
  // it, a delivery arriving during that write would be taken for one after a gap, dropped, and
  // resent only after resend-after.
  private final Map<Integer, Long> receivedUpTo = new HashMap<>();

  // The commit log: events not yet written, with what waits for them; and the write in flight.
  private final List<PartitionEvent> buffer = new ArrayList<>();
  private final List<Long> bufferSizes = new ArrayList<>(); // bytes of each buffered event
  private List<Runnable> bufferCallbacks = new ArrayList<>();
  private List<PartitionEvent> inFlight = List.of();
  private List<Runnable> inFlightCallbacks = new ArrayList<>();
  private boolean writeInFlight;
  private long writeStartedNanos;
  private long checkpointStartedNanos;
  private boolean backpressured;

  /** Durable events after the last captured checkpoint (the log suffix a recovery would replay). */
  private long eventsSinceCheckpoint;

  // The checkpoint being written: at most one; its events count again if it fails.
  private boolean checkpointInFlight;
  private boolean finalCheckpointInFlight;
  private long eventsInCheckpoint;

  /** Events since the last checkpoint at which to take the next; moved on after a failed one. */
  private long checkpointDueAt;

  // The journal bytes of the durable events since the last captured checkpoint, of the write in
  // flight and of the checkpoint being written, and the bytes at which to take the next: a few
  // large events make a long log suffix, and a large checkpoint, as surely as many small ones.
  private long bytesSinceCheckpoint;
  private long inFlightBytes;
  private long bytesInCheckpoint;
  private long checkpointBytesDueAt;

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
  // Recovery from an incremental checkpoint: the log suffix waits for the checkpoint's records,
  // and its events wait, in order, for the ended instances they need (see continueReplay).
  private boolean awaitingRecords;
  private boolean recoveryDone;
  private final ArrayDeque<PartitionEvent> replayWaiting = new ArrayDeque<>();
  private final Set<String> replayLookedUp = new HashSet<>();
  private boolean replayLoading;
  private String replayLoadingKey;

  // Records out of memory: an input that needs one waits in the stash, in order behind the others
  // that need it, while it is read (store keys); other input goes on. A record that has not ended
  // is restored, and its return recorded (RecordsLoaded), once the host runs.
  private final Set<String> loading = new HashSet<>();
  private final Set<String> lookedUpAbsent = new HashSet<>();
  private final Map<String, StoredRecord> loadedEvicted = new java.util.LinkedHashMap<>();

  /** Whether this host counts towards its node's {@link RecordBudget} (while it runs). */
  private boolean inBudget;

  /** Whether the store may hold instances that memory does not: lists then read it too. */
  private boolean storeHoldsOthers;

  // Lists that read the store; ended instances stay in memory while one runs.
  private final Map<Long, PendingList> lists = new HashMap<>();
  private long nextListId;

  /**
   * A list of instances or of entities that reads the store; {@code number} and {@code afterKey}
   * are those of its read in flight.
   */
  private record PendingList(
      ClientQuery query, HostInput.ReplyChannel replyTo, long number, String afterKey) {}

  // Purge sweeps (by a client's filter, or retention), numbered with the lists: each reads a batch
  // of ids from memory and the store, logs it as one event, and reads the next once that is
  // durable. Ended instances stay in memory while one runs, as for lists.
  private final Map<Long, Sweep> sweeps = new HashMap<>();
  private final Map<String, Long> sweepOfRequest = new HashMap<>();
  private final Map<String, ClientResponse> sweepAnswers = new LinkedHashMap<>();
  private Long retentionSweep;

  /**
   * A client's sweep answers after about this long, with where it stopped, so that its request
   * never outlasts a client's attempt timeout; the client sends it again from there.
   */
  private static final Duration SWEEP_ANSWER_AFTER = Duration.ofSeconds(1);

  /** Answers of sweeps kept for retries whose first answer was lost. */
  private static final int SWEEP_ANSWERS_KEPT = 64;

  private static final class Sweep {
    enum Step {
      /** The next batch is to be read. */
      READY,
      /** The store reads a page. */
      READING,
      /** The store's page is in: merge it with memory and log the batch. */
      READ,
      /** The last batch is logged and not yet durable. */
      WRITING
    }

    final PurgeFilter filter;
    final String requestId; // null for retention
    HostInput.ReplyChannel replyTo;
    final long startedNanos;
    Step step = Step.READY;
    String cursor; // the batch starts after this id (null: the first)
    String scanAfter; // the store reads on after this id (null: after the cursor)
    List<StoredRecord> read = List.of();
    boolean readMore;
    long readNumber; // the checkpoint the read in flight is as of
    String readAfterKey;
    int purged;

    Sweep(
        PurgeFilter filter,
        String requestId,
        HostInput.ReplyChannel replyTo,
        String afterId,
        long startedNanos) {
      this.filter = filter;
      this.requestId = requestId;
      this.replyTo = replyTo;
      this.cursor = afterId;
      this.startedNanos = startedNanos;
    }
  }

  private final ArrayDeque<HostInput> stash = new ArrayDeque<>();

  /** How many of the stashed inputs are external (those backpressure holds back). */
  private int stashedExternal;

  // Host-side state, not durable: who waits for what, and what was sent.
  private final Map<String, HostInput.ReplyChannel> replyTo = new HashMap<>();
  private final Map<String, List<HostInput.ReplyChannel>> completionWaiters = new HashMap<>();
  private final Map<Integer, Long> durableOutbox = new HashMap<>();
  private final Map<Integer, Long> sentUpTo = new HashMap<>();
  private final Map<Integer, Long> acksToRecord = new TreeMap<>();
  private final Map<Integer, Instant> lastSent = new HashMap<>();
  private Instant timerArmedFor;

  // The global mode: the commit across partitions (null until recovery is done), the step of the
  // last durable event and of the last event of the write in flight, whether this incarnation's
  // first event is durable (nothing is sent before), and what waits for that.
  private Speculation speculation;
  private StepId durableStep = StepId.ORIGIN;
  private StepId inFlightLast = StepId.ORIGIN;
  private boolean incarnationDurable;
  private final List<Runnable> afterIncarnation = new ArrayList<>();
  // Recovery: the log suffix is read whole before it is applied (a Voided marker takes back events
  // before it); the checkpoint's step is committed; dependencies of the suffix found while
  // applying.
  private boolean suffixFiltered;
  private StepId recoveredCommitted = StepId.ORIGIN;
  private final List<Speculation.Dependency> recoveredDependencies = new ArrayList<>();
  // Taking back the speculative suffix from this step: the marker is written, then the host stops.
  private StepId rollbackFrom;
  // What that rollback answers every client it holds.
  private ClientResponse rollbackAnswer;
  private int slowOrigin = -1;
  private boolean voidInFlight;
  // Origins whose confirmation took too long before the last rollback: their messages are applied
  // only once committed (as in local mode), until they are heard from; held meanwhile, in order.
  private final Set<Integer> confirmedOnly = new HashSet<>();
  private final Map<Integer, List<PartitionLink.Deliver>> held = new HashMap<>();
  private static final int HELD_PER_ORIGIN = 256;

  public PartitionHost(int partitionId, HostSettings settings, PartitionPorts ports) {
    this(partitionId, settings, ports, new CommitLogFaults());
  }

  /**
   * @param faults what earlier hosts of this partition learned about writes the store refused; the
   *     owner passes the same object to every host of the partition
   */
  public PartitionHost(
      int partitionId, HostSettings settings, PartitionPorts ports, CommitLogFaults faults) {
    this.partitionId = partitionId;
    this.faults = faults;
    this.settings = settings;
    this.ports = ports;
    this.pipelined = settings.pipelined();
    this.global = settings.global();
    this.state =
        new PartitionState(partitionId, settings.partitionCount(), settings.requestLogCapacity());
    state.replaying(true);
    this.cache = new InstanceCache(settings.instanceCacheSize());
    this.linger =
        new CommitLinger(
            pipelined ? settings.maxLinger() : Duration.ZERO, ports.clock(), ports.timers());
    this.checkpointDueAt = settings.checkpointAfterEvents();
    this.checkpointBytesDueAt = settings.checkpointAfterBytes();
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

  /**
   * In the global mode, while a reply or answer is being released: the step of this partition whose
   * commit released it (null otherwise). For tests that check no released answer is taken back.
   */
  public StepId releasingStep() {
    return speculation == null ? null : speculation.releasing();
  }

  /**
   * In the global mode, whether this partition waits for another to confirm a step it consumed (its
   * resend tick then asks again).
   */
  public boolean awaitsConfirmation() {
    return speculation != null && speculation.hasPending();
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

  /** A checkpoint of another partition or partition count is a configuration error, not data. */
  private void requireRecoveringInto(int checkpointPartition, int checkpointPartitionCount) {
    requirePhase(Phase.RECOVERING);
    if (checkpointPartitionCount != settings.partitionCount()
        || checkpointPartition != partitionId) {
      throw new IllegalStateException(
          "partition checkpoint does not match the configuration: checkpoint partition="
              + checkpointPartition
              + "/"
              + checkpointPartitionCount
              + " configured partition="
              + partitionId
              + "/"
              + settings.partitionCount());
    }
  }

  /** Recovery found a checkpoint taken at {@code seqNr}. */
  public void restoreCheckpoint(PartitionState recovered, long seqNr) {
    requireRecoveringInto(recovered.partitionId(), recovered.partitionCount());
    state = recovered;
    state.replaying(true);
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
    requireRecoveringInto(recovered.partitionId(), recovered.partitionCount());
    state = PartitionState.fromCheckpoint(recovered);
    state.replaying(true);
    recoveredCommitted = state.incarnations().now();
    recoveredFromSeqNr = seqNr;
    lastCheckpointSeqNr = seqNr;
    awaitingRecords = true;
    storeHoldsOthers = true;
    ports.journal().loadRecords(recovered.number(), recovered.activeKeys());
  }

  /** The records of the recovered checkpoint, asked for by {@link #restoreCheckpoint}. */
  public void onRecordsLoaded(List<StoredRecord> records) {
    if (phase != Phase.RECOVERING || !awaitingRecords) {
      return;
    }
    records.forEach(state::restoreRecord);
    awaitingRecords = false;
    continueReplay();
  }

  /**
   * Applies the log suffix in order. Before an event that needs an instance the store may hold (see
   * {@link PartitionState#instanceNeeded}), it reads that instance back, as the live host did
   * before it recorded the event: the event then meets the same record as it did when applied.
   */
  private void continueReplay() {
    if (global && !suffixFiltered) {
      return; // the whole suffix is read first: see recoveryCompleted
    }
    while (!replayWaiting.isEmpty()) {
      PartitionEvent e = replayWaiting.peekFirst();
      String id =
          e instanceof PartitionEvent.ClientRequestReceived c
              ? PartitionState.instanceNeeded(c.request())
              : null;
      if (id != null && state.mayBeStored(id) && replayLookedUp.add(id)) {
        replayLoading = true;
        ports.journal().loadRecord(lastCheckpointSeqNr, StoredRecord.instanceKey(id));
        return;
      }
      if (e instanceof PartitionEvent.RecordsLoaded loaded) {
        // The original run read these back before it recorded the event: so does the replay.
        String missing = null;
        for (String key : loaded.keys()) {
          if (state.isEvicted(key)) {
            missing = key;
            break;
          }
        }
        if (missing != null) {
          replayLoading = true;
          replayLoadingKey = missing;
          ports.journal().loadRecord(lastCheckpointSeqNr, missing);
          return;
        }
      }
      replayWaiting.pollFirst();
      state.apply(e);
      eventsSinceCheckpoint++; // the log suffix counts towards the next one
      if (e instanceof PartitionEvent.DependsOn d) {
        recoveredDependencies.add(
            new Speculation.Dependency(
                state.incarnations().now(), d.origin(), d.step(), ports.clock().nanoTime(), true));
      }
    }
    if (recoveryDone) {
      recoveryCompleted();
    }
  }

  /**
   * One record asked for by {@link PartitionPorts.Journal#loadRecord}: null if the store holds
   * none. A record that memory holds meanwhile (created again by a message) or removed since the
   * last commit is newer than what the store read, and is kept.
   */
  public void onRecordLoaded(String key, StoredRecord record) {
    if (phase == Phase.STOPPED) {
      return;
    }
    if (phase == Phase.RECOVERING) {
      if (!replayLoading) {
        return;
      }
      replayLoading = false;
      if (key.equals(replayLoadingKey)) {
        replayLoadingKey = null;
        restoreEvicted(key, record);
      } else if (record != null && state.mayBeStored(instanceIdOf(key))) {
        state.restoreRecord(record);
      }
      continueReplay();
      return;
    }
    if (!loading.contains(key)) {
      return;
    }
    if (state.isEvicted(key)) {
      // Restored and recorded when the host runs (see appendLoaded); input for it waits till then.
      loadedEvicted.put(key, record);
      afterInput();
      return;
    }
    loading.remove(key);
    String id = instanceIdOf(key);
    if (record != null && id != null && state.mayBeStored(id)) {
      state.restoreRecord(record);
    } else if (id != null) {
      lookedUpAbsent.add(id);
    }
    afterInput();
  }

  private static String instanceIdOf(String key) {
    return key.startsWith(StoredRecord.instanceKey(""))
        ? key.substring(StoredRecord.instanceKey("").length())
        : null;
  }

  /**
   * Puts an evicted record read from the store back into memory. The store must hold it (it left
   * memory only once a committed checkpoint held its current version); if it does not, its parked
   * input meets no record, as input for one that never existed, and operators hear of it.
   */
  private void restoreEvicted(String key, StoredRecord record) {
    if (record != null && record.value() != null) {
      state.restoreRecord(record);
    } else {
      ports
          .log()
          .error(
              "partition "
                  + partitionId
                  + ": the instance store holds no version of "
                  + key
                  + " at or below checkpoint "
                  + lastCheckpointSeqNr
                  + ", which left memory as stored; its waiting input is delivered as to a record"
                  + " that does not exist",
              null);
    }
  }

  /**
   * Records read back for parked input or waiting requests: restored, and their return recorded.
   */
  private void appendLoaded() {
    if (loadedEvicted.isEmpty() || phase != Phase.RUNNING) {
      return;
    }
    List<String> keys = new ArrayList<>(loadedEvicted.size());
    loadedEvicted.forEach(
        (key, record) -> {
          loading.remove(key);
          if (state.isEvicted(key)) {
            restoreEvicted(key, record);
            keys.add(key);
          }
        });
    loadedEvicted.clear();
    if (!keys.isEmpty()) {
      append(new PartitionEvent.RecordsLoaded(keys, ports.clock().now()));
    }
  }

  /** Reads the record under {@code key} back from the store, unless a read of it is under way. */
  private void requestLoad(String key) {
    if (loading.add(key)) {
      ports.journal().loadRecord(lastCheckpointSeqNr, key);
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
    replayWaiting.addAll(batch.events());
    if (!awaitingRecords && !replayLoading && !global) {
      continueReplay();
    }
  }

  /**
   * Recovery is done: dispatch pending work, timers and the outbox once, then run; or, while the
   * checkpoint's records are still being read, as soon as they are in.
   */
  public void recoveryCompleted() {
    requirePhase(Phase.RECOVERING);
    if (global && !suffixFiltered) {
      // Every event of the suffix is read: drop what a Voided marker took back, then apply.
      List<PartitionEvent> surviving =
          Incarnations.surviving(recoveredCommitted, new ArrayList<>(replayWaiting));
      replayWaiting.clear();
      replayWaiting.addAll(surviving);
      for (PartitionEvent e : surviving) {
        if (e instanceof PartitionEvent.Voided v && v.slowOrigin() >= 0) {
          confirmedOnly.add(v.slowOrigin());
        }
      }
      suffixFiltered = true;
      recoveryDone = true;
      if (!awaitingRecords && !replayLoading) {
        continueReplay();
      }
      return;
    }
    if (awaitingRecords || replayLoading || !replayWaiting.isEmpty()) {
      recoveryDone = true;
      return;
    }
    replayLookedUp.clear();
    state.replaying(false);
    phase = Phase.RUNNING;
    settings.recordBudget().joined();
    inBudget = true;
    recoveryNanos = ports.clock().nanoTime() - createdNanos;
    ports.metrics().recovered(recoveryNanos);
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
    if (global) {
      startIncarnation();
    }
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
    if (settings.retentionOn()) {
      ports.timers().startPeriodic(HostTimer.RETENTION, settings.retentionCheckInterval());
    }
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
    if (rollbackFrom != null && phase != Phase.STOPPED) {
      // Taking back: as good as down. A client is told to retry at once (its request reaches the
      // next host); other senders retry on their own.
      HostInput.ReplyChannel replyTo = input.replyChannel();
      if (replyTo != null) {
        replyTo.reply(rollbackAnswer);
      }
      return;
    }
    if (phase == Phase.STOPPED) {
      return;
    }
    if (input instanceof PartitionLink.Committed || input instanceof PartitionLink.AskCommitted) {
      onCommitLink((PartitionLink) input); // never stashed: checkpoints and hand-offs wait on them
      if (rollbackFrom == null) {
        afterInput();
      }
      return;
    }
    if (global
        && input instanceof HostInput.TimerFired t
        && t.timer() == HostTimer.RESEND
        && checkUnconfirmed()) {
      return; // the commit protocol's own tick never waits either
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
    if (phase != Phase.RUNNING || (backpressured && isExternal(input))) {
      return true;
    }
    if (!storeHoldsOthers && loading.isEmpty() && state.evictedCount() == 0) {
      return false; // nothing out of memory: the common case, without building a key
    }
    String key = recordKey(input);
    if (key == null) {
      return false;
    }
    if (loading.contains(key)) {
      return true; // behind the input that asked for it
    }
    if (state.isEvicted(key)) {
      requestLoad(key);
      return true;
    }
    String id = instanceNeeded(input);
    if (id == null || !storeHoldsOthers || lookedUpAbsent.contains(id) || !state.mayBeStored(id)) {
      return false;
    }
    requestLoad(key);
    return true;
  }

  /**
   * The store key of the record a client input reads or changes directly, or null. Messages, entity
   * signals and timers for a record out of memory are parked by the state machine instead.
   */
  private static String recordKey(HostInput input) {
    return switch (input) {
      case HostInput.ClientCommand c ->
          c.request() instanceof ClientRequest.SignalEntity
              ? null
              : StoredRecord.instanceKey(c.request().targetId());
      case HostInput.Query q ->
          switch (q.query()) {
            case ClientQuery.GetStatus g -> StoredRecord.instanceKey(g.instanceId());
            case ClientQuery.ReadEntity r -> StoredRecord.entityKey(r.entityId());
            default -> null;
          };
      case HostInput.AwaitCompletion a -> StoredRecord.instanceKey(a.instanceId());
      default -> null;
    };
  }

  /**
   * The instance whose record the input must meet in memory even when it has ended, or null; see
   * {@link PartitionState#instanceNeeded}.
   */
  private static String instanceNeeded(HostInput input) {
    return switch (input) {
      case HostInput.ClientCommand c -> PartitionState.instanceNeeded(c.request());
      case HostInput.Query q -> PartitionState.instanceNeeded(q.query());
      case HostInput.AwaitCompletion a -> a.instanceId();
      default -> null;
    };
  }

  private static boolean isExternal(HostInput input) {
    return input instanceof HostInput.ClientCommand
        || input instanceof HostInput.PurgeSweep
        || input instanceof PartitionLink.Deliver;
  }

  /**
   * Takes every stashed input that may run now, in order; those that still must wait keep their
   * order.
   */
  private void afterInput() {
    if (rollbackFrom != null) {
      return;
    }
    appendLoaded();
    flush();
    if (!sweeps.isEmpty() && phase == Phase.RUNNING) {
      advanceSweeps();
    }
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
    if (!lookedUpAbsent.isEmpty()) {
      String id = instanceNeeded(input);
      if (id != null) {
        lookedUpAbsent.remove(id);
      }
    }
    switch (input) {
      case HostInput.ClientCommand c -> {
        replyTo.put(c.requestId(), c.replyTo());
        append(
            new PartitionEvent.ClientRequestReceived(
                c.requestId(), c.request(), ports.clock().now()));
      }
      case HostInput.Query q
          when storeHoldsOthers
              && (q.query() instanceof ClientQuery.ListInstances
                  || q.query() instanceof ClientQuery.ListEntities) -> {
        long id = nextListId++;
        lists.put(id, new PendingList(q.query(), q.replyTo(), 0, null));
        scan(id, q.query(), null);
      }
      case HostInput.Query q -> {
        ClientResponse response = state.query(q.query());
        whenDurable(() -> q.replyTo().reply(response));
      }
      case HostInput.AwaitCompletion a -> onAwaitCompletion(a);
      case HostInput.PurgeSweep p -> onPurgeSweep(p);
      case PartitionLink.Deliver d -> {
        if (fromKnownPartition(d.origin(), d)) {
          if (global) {
            onSpeculativeDeliver(d);
          } else {
            onDeliver(d, null);
          }
        }
      }
      case PartitionLink.Committed c -> onCommitLink(c);
      case PartitionLink.AskCommitted a -> onCommitLink(a);
      case PartitionLink.Ack a -> {
        if (fromKnownPartition(a.from(), a) && a.upTo() > state.outbox().acknowledged(a.from())) {
          acksToRecord.merge(a.from(), a.upTo(), Math::max);
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

  // ---------------------------------------------------------------- lists over the store

  /** Reads the store for a list, from its own position or on after the key the last page read. */
  private void scan(long listId, ClientQuery query, String afterKey) {
    PendingList pending = lists.get(listId);
    lists.put(listId, new PendingList(query, pending.replyTo(), lastCheckpointSeqNr, afterKey));
    switch (query) {
      case ClientQuery.ListInstances l ->
          ports
              .journal()
              .scanRecords(
                  listId,
                  lastCheckpointSeqNr,
                  StoredRecord.instanceKey(""),
                  afterKey != null
                      ? afterKey
                      : l.afterId() == null ? null : StoredRecord.instanceKey(l.afterId()),
                  l.limit(),
                  PartitionState.listFilter(l));
      case ClientQuery.ListEntities l ->
          ports
              .journal()
              .scanRecords(
                  listId,
                  lastCheckpointSeqNr,
                  StoredRecord.entityKey(""),
                  afterKey != null
                      ? afterKey
                      : l.afterId() == null ? null : StoredRecord.entityKey(l.afterId()),
                  l.limit(),
                  PartitionState.entityListFilter(l));
      default -> throw new IllegalArgumentException("not a list: " + query);
    }
  }

  /**
   * A page of records read by {@link PartitionPorts.Journal#scanRecords}: for a list, merged with
   * memory and answered, or read on after it when all it read is held in memory.
   */
  public void onRecordsScanned(long listId, List<StoredRecord> records, boolean more) {
    Sweep sweep = sweeps.get(listId);
    if (sweep != null && sweep.step == Sweep.Step.READING && phase != Phase.STOPPED) {
      if (sweep.readNumber != lastCheckpointSeqNr) {
        // A checkpoint committed since the read began: records it removed or wrote may be stale in
        // what was read (memory no longer says so). Read again, as of the new checkpoint.
        scanForSweep(listId, sweep, sweep.readAfterKey);
        return;
      }
      sweep.read = records;
      sweep.readMore = more;
      sweep.step = Sweep.Step.READ;
      afterInput();
      return;
    }
    PendingList pending = lists.get(listId);
    if (pending == null || phase == Phase.STOPPED) {
      return;
    }
    if (pending.number() != lastCheckpointSeqNr) {
      scan(listId, pending.query(), pending.afterKey()); // as for a sweep, above
      return;
    }
    ClientResponse page =
        pending.query() instanceof ClientQuery.ListInstances l
            ? state.mergeList(l, records, more)
            : state.mergeEntityList((ClientQuery.ListEntities) pending.query(), records, more);
    if (page == null) {
      scan(listId, pending.query(), records.getLast().key());
      return;
    }
    lists.remove(listId);
    whenDurable(() -> pending.replyTo().reply(page));
    afterInput();
  }

  /** The store could not be read for a list: answered as unavailable, which the client retries. */
  public void onScanFailed(long listId, Throwable cause) {
    Sweep sweep = sweeps.get(listId);
    if (sweep != null && phase != Phase.STOPPED) {
      sweepFailed(listId, sweep, cause);
      return;
    }
    PendingList pending = lists.remove(listId);
    if (pending == null || phase == Phase.STOPPED) {
      return;
    }
    pending
        .replyTo()
        .reply(
            new ClientResponse.Rejected(
                ClientResponse.Reason.STORE_UNAVAILABLE,
                "partition "
                    + partitionId
                    + " could not read its instances from the instance store: "
                    + cause));
  }

  // ---------------------------------------------------------------- purge sweeps

  private void onPurgeSweep(HostInput.PurgeSweep p) {
    ClientResponse answered = sweepAnswers.get(p.requestId());
    if (answered != null) {
      p.replyTo().reply(answered);
      return;
    }
    Long running = sweepOfRequest.get(p.requestId());
    if (running != null) {
      sweeps.get(running).replyTo = p.replyTo(); // a retry: the sweep answers it instead
      return;
    }
    if (p.filter().matchesNothing()) {
      p.replyTo().reply(new ClientResponse.PurgeProgress(0, null));
      return;
    }
    long id = nextListId++;
    sweeps.put(
        id,
        new Sweep(p.filter(), p.requestId(), p.replyTo(), p.afterId(), ports.clock().nanoTime()));
    sweepOfRequest.put(p.requestId(), id);
  }

  /** Retention: a sweep of the instances that ended longer ago than the retention, if none runs. */
  private void startRetentionSweep() {
    if (retentionSweep != null || !settings.retentionOn()) {
      return;
    }
    long id = nextListId++;
    PurgeFilter filter =
        PurgeFilter.endedBefore(ports.clock().now().minus(settings.retentionCompleted()));
    sweeps.put(id, new Sweep(filter, null, null, null, ports.clock().nanoTime()));
    retentionSweep = id;
  }

  /**
   * Moves every sweep on that can: reads its next batch, or logs the batch read. Runs only while
   * the host runs, so that a sweep's events never hold back a checkpoint's quiescent point.
   */
  private void advanceSweeps() {
    for (Map.Entry<Long, Sweep> e : List.copyOf(sweeps.entrySet())) {
      long id = e.getKey();
      Sweep sweep = e.getValue();
      while (phase == Phase.RUNNING
          && (sweep.step == Sweep.Step.READY || sweep.step == Sweep.Step.READ)) {
        if (sweep.step == Sweep.Step.READY && storeHoldsOthers) {
          sweep.step = Sweep.Step.READING;
          String after = sweep.scanAfter != null ? sweep.scanAfter : sweep.cursor;
          scanForSweep(id, sweep, after == null ? null : StoredRecord.instanceKey(after));
        } else {
          takeBatch(id, sweep);
        }
      }
    }
    flush();
  }

  /**
   * Merges what the store read (nothing, when memory holds every instance) with memory, and logs
   * the ended instances of the batch as one event. Memory is checked now, as the event is applied:
   * an instance that a start replaced since the store's read has not ended and is not named.
   */
  private void scanForSweep(long id, Sweep sweep, String afterKey) {
    sweep.readNumber = lastCheckpointSeqNr;
    sweep.readAfterKey = afterKey;
    ports
        .journal()
        .scanRecords(
            id,
            lastCheckpointSeqNr,
            StoredRecord.instanceKey(""),
            afterKey,
            settings.purgeBatchSize(),
            PartitionState.purgeFilter(sweep.filter));
  }

  private void takeBatch(long id, Sweep sweep) {
    List<StoredRecord> stored = sweep.step == Sweep.Step.READ ? sweep.read : List.of();
    boolean storeMore = sweep.step == Sweep.Step.READ && sweep.readMore;
    sweep.read = List.of();
    PartitionState.PurgeBatch batch =
        state.purgeBatch(sweep.filter, sweep.cursor, settings.purgeBatchSize(), stored, storeMore);
    if (batch == null) {
      // Every instance the store read is newer in memory, or gone: read on after the last.
      sweep.scanAfter = ((InstanceState) stored.getLast().value()).instanceId();
      sweep.step = Sweep.Step.READY;
      return;
    }
    sweep.scanAfter = null;
    List<String> ids = batch.instanceIds();
    if (!ids.isEmpty()) {
      append(new PartitionEvent.InstancesPurged(ids, ports.clock().now()));
      sweep.purged += ids.size();
      ports.metrics().instancesPurged(ids.size(), sweep.requestId == null);
      sweep.cursor = ids.getLast();
    }
    sweep.step = Sweep.Step.WRITING;
    boolean more = batch.more() && !ids.isEmpty();
    whenDurable(
        () -> {
          if (sweeps.get(id) != sweep) {
            return;
          }
          boolean answerNow =
              sweep.requestId != null
                  && ports.clock().nanoTime() - sweep.startedNanos >= SWEEP_ANSWER_AFTER.toNanos();
          if (!more || answerNow) {
            endSweep(
                id,
                sweep,
                new ClientResponse.PurgeProgress(sweep.purged, more ? sweep.cursor : null));
          } else {
            sweep.step = Sweep.Step.READY;
          }
        });
  }

  private void endSweep(long id, Sweep sweep, ClientResponse answer) {
    sweeps.remove(id);
    if (sweep.requestId == null) {
      retentionSweep = null;
      if (sweep.purged > 0) {
        ports
            .log()
            .info(
                () ->
                    "partition "
                        + partitionId
                        + " purged "
                        + sweep.purged
                        + " instances that ended before "
                        + sweep.filter.endedBefore()
                        + " (netherite.retention.completed)");
      }
      return;
    }
    sweepOfRequest.remove(sweep.requestId);
    if (!(answer instanceof ClientResponse.Rejected)) {
      sweepAnswers.put(sweep.requestId, answer);
      if (sweepAnswers.size() > SWEEP_ANSWERS_KEPT) {
        sweepAnswers.remove(sweepAnswers.keySet().iterator().next());
      }
    }
    sweep.replyTo.reply(answer);
  }

  /**
   * The store could not be read: a client's sweep is answered as unavailable (it retries; what was
   * purged stays purged), retention tries again at its next check.
   */
  private void sweepFailed(long id, Sweep sweep, Throwable cause) {
    if (sweep.requestId == null) {
      ports
          .log()
          .warn(
              "partition "
                  + partitionId
                  + " could not read its instances from the instance store for retention; it"
                  + " tries again at the next check: "
                  + cause);
    }
    endSweep(
        id,
        sweep,
        new ClientResponse.Rejected(
            ClientResponse.Reason.STORE_UNAVAILABLE,
            "partition "
                + partitionId
                + " could not read its instances from the instance store to purge them ("
                + cause
                + "); "
                + sweep.purged
                + " were purged before. Retry: purging again is harmless."));
    afterInput();
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

  private void onDeliver(PartitionLink.Deliver d, StepId dependsOn) {
    // Drop what was applied already, so duplicates cost no journal space; the state machine checks
    // again.
    long applied = state.dedup().lastApplied(d.origin());
    long last = Math.max(applied, receivedUpTo.getOrDefault(d.origin(), 0L));
    List<PartitionMessage> messages = DedupVector.following(last, d.firstSeq(), d.messages());
    if (messages.size() < d.messages().size()) {
      ports
          .metrics()
          .deliveryDropped(d.messages().size() - messages.size(), d.firstSeq() <= last + 1);
    }
    if (messages.isEmpty()) {
      // A duplicate or a gap: tell the sender where this partition is.
      whenDurable(() -> sendAck(d.origin(), applied));
      return;
    }
    if (dependsOn != null && !speculation.dependsOn(d.origin(), dependsOn)) {
      append(new PartitionEvent.DependsOn(d.origin(), dependsOn, ports.clock().now()));
      speculation.depend(
          state.incarnations().now(), d.origin(), dependsOn, ports.clock().nanoTime());
    }
    PartitionEvent.MessagesReceived received =
        new PartitionEvent.MessagesReceived(d.origin(), last + 1, messages, ports.clock().now());
    // Messages too many for one write: take a prefix that fits; the sender resends the rest, which
    // is then next in its channel.
    while (received.messages().size() > 1
        && ports.journal().sizeOf(received) > settings.maxBatchBytes()) {
      received =
          new PartitionEvent.MessagesReceived(
              received.origin(),
              received.firstSeq(),
              received.messages().subList(0, received.messages().size() / 2),
              received.timestamp());
    }
    append(received);
    if (!buffer.isEmpty()
        && buffer.getLast() instanceof PartitionEvent.MessagesReceived recorded
        && recorded.origin() == d.origin()) {
      receivedUpTo.put(d.origin(), recorded.firstSeq() + recorded.messages().size() - 1);
    }
  }

  private void onStepFinished(HostInput.StepFinished s) {
    OrchestrationRun run = s.run();
    run.markIdle();
    ports.metrics().stepLatency(ports.clock().nanoTime() - run.dispatchedNanos());
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
      case RESEND -> {
        recordAcks(); // first, so that what was acknowledged is not resent
        resendUnacknowledged();
      }
      case COMMIT_DUE -> linger.timerFired();
      case RETENTION -> startRetentionSweep();
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
    if (rollbackFrom != null) {
      return; // the host stops once the marker is written; nothing more is recorded
    }
    if (!acksToRecord.isEmpty()) {
      recordAcks();
    }
    long size = ports.journal().sizeOf(event);
    String refusal = faults.poisonedCount() == 0 ? null : faults.poisoned(keyOf(event));
    if (size > settings.maxBatchBytes() || refusal != null) {
      PartitionEvent substitute = substitute(event, size, refusal);
      if (substitute == null) {
        return; // a refused client request, answered
      }
      if (substitute != event) {
        event = substitute;
        size = ports.journal().sizeOf(event);
      }
    }
    lastActivity = event.timestamp();
    buffer.add(event);
    bufferSizes.add(size);
    if (pipelined) {
      runEffects(state.apply(event), false);
    }
  }

  /**
   * Records the acknowledgements received since the last event, one per destination. They ride
   * along with the next event this partition records (or the next resend tick) instead of making a
   * write of their own: nothing waits for them, and one lost in a crash only makes the outbox
   * resend what the receiver drops as a duplicate. About half the writes of a Bank transfer were
   * acknowledgements alone, each holding the journal while the transfer's next events waited.
   */
  private void recordAcks() {
    List<Map.Entry<Integer, Long>> acks = new ArrayList<>(acksToRecord.entrySet());
    acksToRecord.clear();
    for (Map.Entry<Integer, Long> ack : acks) {
      if (ack.getValue() > state.outbox().acknowledged(ack.getKey())) {
        append(
            new PartitionEvent.DeliveryAcknowledged(
                ack.getKey(), ack.getValue(), ports.clock().now()));
      }
    }
  }

  /** Runs {@code action} once everything appended so far is durable. */
  private void whenDurable(Runnable action) {
    if (global) {
      // What leaves the engine waits for commit, not only for durability here.
      speculation.whenCommitted(state.incarnations().now(), action);
      return;
    }
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
    if (rollbackFrom != null || writeInFlight || buffer.isEmpty() || !ports.journal().mayWrite()) {
      updateBackpressure();
      return;
    }
    int n = Math.min(buffer.size(), faults.isolating() ? 1 : settings.maxBatchEvents());
    long bytes = bufferSizes.get(0);
    for (int k = 1; k < n; k++) {
      bytes += bufferSizes.get(k);
      if (bytes > settings.maxBatchBytes()) {
        n = k; // cut at the byte cap: the rest goes into the next write
        break;
      }
    }
    List<PartitionEvent> events = new ArrayList<>(buffer.subList(0, n));
    long sent = 0;
    for (int k = 0; k < n; k++) {
      sent += bufferSizes.get(k);
    }
    buffer.subList(0, n).clear();
    bufferSizes.subList(0, n).clear();
    StepId applied = state.incarnations().now();
    inFlightLast = new StepId(applied.incarnation(), applied.position() - buffer.size());
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
    inFlightBytes = sent;
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
    if (!ports.journal().mayWrite()) {
      // Stored, but perhaps after another host took the partition over, whose fence then deletes
      // it: nothing may act on it (replies, messages, completions). The next host's recovery
      // tells.
      ports
          .log()
          .warn(
              "partition "
                  + partitionId
                  + " heard its write at seqNr "
                  + ports.journal().lastSequenceNr()
                  + " complete after its right to write ended; it stops without acting on it");
      stopNow();
      return;
    }
    if (voidInFlight) {
      ports
          .log()
          .info(
              () ->
                  "partition "
                      + partitionId
                      + " took back its speculative steps from "
                      + rollbackFrom
                      + "; restarting from the journal");
      stopNow();
      return;
    }
    if (rollbackFrom != null) {
      writeInFlight = false;
      inFlight = List.of();
      writeVoid();
      return;
    }
    List<PartitionEvent> written = inFlight;
    if (faults.isolating()) {
      faults.isolatedWriteSucceeded();
    }
    writeInFlight = false;
    inFlight = List.of();
    lastWriteNanos = ports.clock().nanoTime() - writeStartedNanos;
    ports.metrics().journalWriteLatency(lastWriteNanos);
    eventsSinceCheckpoint += written.size();
    bytesSinceCheckpoint += inFlightBytes;
    inFlightBytes = 0;
    List<Runnable> callbacks = inFlightCallbacks;
    inFlightCallbacks = new ArrayList<>();
    if (!pipelined) {
      for (PartitionEvent e : written) {
        runEffects(state.apply(e), true);
      }
    }
    if (global) {
      durableStep = inFlightLast;
    }
    callbacks.forEach(Runnable::run);
    if (global) {
      if (advanceCommit()) {
        return;
      }
    }
    if (phase == Phase.RUNNING
        && (eventsSinceCheckpoint >= checkpointDueAt
            || bytesSinceCheckpoint >= checkpointBytesDueAt)) {
      beginCheckpoint();
    }
    flush();
    if (checkpointing() && atCheckpointPoint()) {
      captureCheckpoint();
    }
    afterInput();
  }

  /**
   * The write in flight failed, or the store was unavailable; it may or may not be stored. Events
   * applied in memory but not written are lost with this host, and the durable prefix is recovered
   * by a new one. Nothing is learned about the events: the same write may succeed later.
   */
  public void onWriteFailed(Throwable cause, long seqNr) {
    if (!ports.journal().mayWrite()) {
      // Expected after a pause that outlasted the right to write (the driver counts the pause
      // towards the write's timeout); the partition's next host recovers the log.
      ports
          .log()
          .warn(
              "partition "
                  + partitionId
                  + " could not write at seqNr "
                  + seqNr
                  + " after its right to write ended ("
                  + cause
                  + "); it stops");
      stopNow();
      return;
    }
    // At INFO, without the stack trace: a store outage fails the writes of every partition at once,
    // and the owner reports the outage itself, once.
    ports
        .log()
        .info(
            () ->
                "partition "
                    + partitionId
                    + " could not write to its commit log at seqNr "
                    + seqNr
                    + " ("
                    + cause
                    + "); restarting from the journal");
    stopNow();
  }

  /**
   * The journal could not serialize the write in flight: it is not stored but was applied in
   * memory, so continuing would diverge from the log. Serializing it again would fail again: a
   * refusal ({@link #onWriteRefused}).
   */
  public void onWriteRejected(Throwable cause, long seqNr) {
    onWriteRefused(cause, seqNr);
  }

  /**
   * The store refused the write in flight for what it holds (too large, invalid), so the same
   * events would be refused again: it is not stored, and the host stops as after any failed write.
   * The next host learns from {@link CommitLogFaults} which event to replace (this batch held one
   * event) or to look for by writing one event at a time (it held several).
   */
  public void onWriteRefused(Throwable cause, long seqNr) {
    if (phase == Phase.STOPPED) {
      return;
    }
    List<PartitionEvent> refused = inFlight;
    String reason = String.valueOf(cause);
    String key = refused.size() == 1 ? keyOf(refused.get(0)) : null;
    if (key != null) {
      faults.poison(key, reason);
      ports
          .log()
          .error(
              "partition "
                  + partitionId
                  + ": the commit log refused "
                  + describe(refused.get(0))
                  + " at seqNr "
                  + seqNr
                  + " ("
                  + reason
                  + "); restarting, and "
                  + consequence(refused.get(0))
                  + " when it comes again, so that the partition's other instances go on",
              null);
    } else if (refused.size() > 1) {
      faults.isolate(refused.size());
      ports
          .log()
          .error(
              "partition "
                  + partitionId
                  + ": the commit log refused a batch of "
                  + refused.size()
                  + " events at seqNr "
                  + seqNr
                  + " ("
                  + reason
                  + "); restarting, and writing one event at a time to find the one it refuses",
              null);
    } else {
      ports
          .log()
          .error(
              "partition "
                  + partitionId
                  + ": the commit log refused an event that cannot be replaced by a failure ("
                  + (refused.isEmpty() ? "none" : refused.get(0).getClass().getSimpleName())
                  + ") at seqNr "
                  + seqNr
                  + "; restarting from the journal",
              cause);
    }
    stopNow();
  }

  // ---------------------------------------------------------------- poison pills

  /**
   * What identifies an event across restarts: the work that produced it produces it again, with the
   * same key, after recovery. Null for events that cannot be replaced by a failure.
   */
  static String keyOf(PartitionEvent event) {
    return switch (event) {
      case PartitionEvent.ClientRequestReceived c -> "request " + c.requestId();
      case PartitionEvent.StepCompleted s ->
          "step " + s.instanceId() + " " + s.executionId() + " " + s.stepNumber();
      case PartitionEvent.ActivityCompleted a ->
          "activity " + a.instanceId() + " " + a.executionId() + " " + a.taskId();
      case PartitionEvent.EntityBatchCompleted b ->
          "entity batch " + b.entityId() + " " + b.batchNumber();
      default -> null;
    };
  }

  private static String describe(PartitionEvent event) {
    return switch (event) {
      case PartitionEvent.ClientRequestReceived c ->
          "client request " + c.requestId() + " (" + describe(c.request()) + ")";
      case PartitionEvent.StepCompleted s ->
          "the result of step " + s.stepNumber() + " of instance '" + s.instanceId() + "'";
      case PartitionEvent.ActivityCompleted a ->
          "the result of activity call " + a.taskId() + " of instance '" + a.instanceId() + "'";
      case PartitionEvent.EntityBatchCompleted b ->
          "the result of operation batch " + b.batchNumber() + " of entity '" + b.entityId() + "'";
      default -> "an event of type " + event.getClass().getSimpleName();
    };
  }

  private static String describe(ClientRequest request) {
    String target =
        switch (request) {
          case ClientRequest.StartOrchestration s -> s.instanceId();
          case ClientRequest.RaiseEvent r -> r.instanceId();
          case ClientRequest.Terminate t -> t.instanceId();
          case ClientRequest.Suspend t -> t.instanceId();
          case ClientRequest.Resume t -> t.instanceId();
          case ClientRequest.Purge t -> t.instanceId();
          case ClientRequest.SignalEntity e -> e.entityId();
        };
    return request.getClass().getSimpleName() + " for '" + target + "'";
  }

  private static String consequence(PartitionEvent event) {
    return switch (event) {
      case PartitionEvent.ClientRequestReceived c -> "the request is refused";
      case PartitionEvent.StepCompleted s -> "instance '" + s.instanceId() + "' fails";
      case PartitionEvent.ActivityCompleted a ->
          "activity call " + a.taskId() + " of instance '" + a.instanceId() + "' fails";
      case PartitionEvent.EntityBatchCompleted b ->
          "the operations of that batch of entity '" + b.entityId() + "' fail";
      default -> "the partition restarts";
    };
  }

  /**
   * The event to append in place of {@code event}, which is larger than a write may be ({@code
   * refusal} null) or was refused by the store before: the failure of the work that produced it.
   * Null for a client request, which is answered with a refusal and not recorded; {@code event}
   * itself when it cannot be replaced (it goes to the store alone).
   */
  private PartitionEvent substitute(PartitionEvent event, long size, String refusal) {
    String message =
        refusal == null
            ? capitalized(describe(event))
                + " takes "
                + PayloadLimits.size(size)
                + " in the commit log, above the limit of "
                + PayloadLimits.size(settings.maxBatchBytes())
                + " per journal write (netherite.commit-log.max-batch-bytes). Keep large data"
                + " outside the workflow (store it and pass a reference), or raise the limit,"
                + " keeping it well below the store's limit per request (16 MiB for Cassandra by"
                + " default)."
            : "The commit log refused to store "
                + describe(event)
                + " ("
                + refusal
                + "), so it was failed instead, and partition "
                + partitionId
                + " went on with its other instances.";
    FailureDetails failure =
        FailureDetails.of(
            refusal == null
                ? PayloadTooLargeException.class.getName()
                : IllegalStateException.class.getName(),
            message);
    if (refusal == null) {
      ports.log().warn("partition " + partitionId + ": " + message);
    }
    return switch (event) {
      case PartitionEvent.ClientRequestReceived c -> {
        HostInput.ReplyChannel to = replyTo.remove(c.requestId());
        if (to != null) {
          to.reply(new ClientResponse.Rejected(ClientResponse.Reason.INVALID_STATE, message));
        }
        yield null;
      }
      case PartitionEvent.StepCompleted s -> {
        cache.discard(s.instanceId()); // its run took actions that are not recorded
        yield new PartitionEvent.StepCompleted(
            s.instanceId(),
            s.executionId(),
            s.stepNumber(),
            new StepResult(List.of(), false, null, new StepResult.Failed(failure)),
            s.timestamp());
      }
      case PartitionEvent.ActivityCompleted a ->
          new PartitionEvent.ActivityCompleted(
              a.instanceId(), a.executionId(), a.taskId(), null, failure, a.timestamp());
      case PartitionEvent.EntityBatchCompleted b -> {
        EntityRecord entity = state.entity(b.entityId());
        List<EntityBatchResult.Outcome> failed = new ArrayList<>(b.result().outcomes().size());
        for (int k = 0; k < b.result().outcomes().size(); k++) {
          failed.add(new EntityBatchResult.Outcome(null, failure));
        }
        yield new PartitionEvent.EntityBatchCompleted(
            b.entityId(),
            b.batchNumber(),
            new EntityBatchResult(entity == null ? null : entity.state(), failed, List.of()),
            b.timestamp());
      }
      default -> event;
    };
  }

  private static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
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
    recordAcks();
    flush();
    if (atCheckpointPoint()) {
      captureCheckpoint();
    }
  }

  /**
   * Nothing in flight, nothing buffered, and, in the global mode, everything applied committed: a
   * checkpoint holds only committed events, so that no Voided marker can ever reach behind it.
   */
  private boolean atCheckpointPoint() {
    return !writeInFlight
        && buffer.isEmpty()
        && (!global
            || (incarnationDurable
                && !state.incarnations().now().isAfter(speculation.committed())));
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
    checkpointStartedNanos = ports.clock().nanoTime();
    ports.metrics().checkpoint();
    List<StoredRecord> changes = new ArrayList<>();
    PartitionCheckpoint wide = state.captureCheckpoint(ports.journal().lastSequenceNr(), changes);
    eventsInCheckpoint = eventsSinceCheckpoint;
    eventsSinceCheckpoint = 0;
    checkpointDueAt = settings.checkpointAfterEvents();
    bytesInCheckpoint = bytesSinceCheckpoint;
    bytesSinceCheckpoint = 0;
    checkpointBytesDueAt = settings.checkpointAfterBytes();
    ports.journal().saveCheckpoint(new Checkpoint(wide, changes));
    if (phase == Phase.CHECKPOINTING) {
      phase = Phase.RUNNING;
    }
  }

  /** The checkpoint saved by the last {@link PartitionPorts.Journal#saveCheckpoint} is stored. */
  public void onCheckpointSaved(long seqNr) {
    if (phase == Phase.STOPPED || !checkpointInFlight || rollbackFrom != null) {
      return;
    }
    ports.metrics().checkpointSaved(ports.clock().nanoTime() - checkpointStartedNanos);
    state.checkpointCommitted();
    if (lists.isEmpty() && sweeps.isEmpty()) {
      evict();
    }
    eventsInCheckpoint = 0;
    bytesInCheckpoint = 0;
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
    bytesSinceCheckpoint += bytesInCheckpoint;
    bytesInCheckpoint = 0;
    checkpointBytesDueAt = bytesSinceCheckpoint + settings.checkpointAfterBytes();
    eventsAtFailedCheckpoint = eventsSinceCheckpoint;
    state.checkpointAbandoned();
    ports.metrics().checkpointFailed();
    ports
        .log()
        .warn(
            "partition "
                + partitionId
                + " checkpoint failed, next attempt after "
                + settings.checkpointAfterEvents()
                + " more events (or "
                + settings.checkpointAfterBytes()
                + " journal bytes) or when idle: "
                + cause);
    endCheckpoint(false);
  }

  /**
   * Lets records leave memory after a committed checkpoint: ended instances beyond {@code
   * netherite.resident-ended-instances}, then, while this partition is over its share of the node's
   * {@link RecordBudget}, more ended ones and idle records that have not ended (recorded, since
   * their input is parked from now on). Idle records stay in memory in {@code persist-first} mode,
   * where input already recorded is applied only once durable, after the eviction.
   */
  private void evict() {
    PartitionState.Eviction e =
        state.evict(
            settings.residentEndedInstances(),
            settings.recordBudget().share(),
            pipelined && phase == Phase.RUNNING,
            pinnedRecords());
    if (e.ended() > 0) {
      storeHoldsOthers = true;
    }
    if (!e.idle().isEmpty()) {
      storeHoldsOthers = true;
      append(new PartitionEvent.RecordsEvicted(e.idle(), ports.clock().now()));
      ports.metrics().recordsEvicted(e.idle().size());
    }
  }

  /**
   * The records that must stay in memory at an eviction: those being read back, and in {@code
   * persist-first} mode those that client requests recorded but not yet applied need ({@link
   * PartitionState#instanceNeeded}). Such a request was let through because its record was in
   * memory; it is applied only once its batch is durable, perhaps after this eviction, and must
   * then still meet the record, as its replay does (which reads the record back first).
   */
  private Set<String> pinnedRecords() {
    if (pipelined) {
      return loading; // applied when recorded: the request has met its record already
    }
    Set<String> pinned = new HashSet<>(loading);
    for (List<PartitionEvent> events : List.of(inFlight, buffer)) {
      for (PartitionEvent e : events) {
        if (e instanceof PartitionEvent.ClientRequestReceived c) {
          String id = PartitionState.instanceNeeded(c.request());
          if (id != null) {
            pinned.add(StoredRecord.instanceKey(id));
          }
        }
      }
    }
    return pinned;
  }

  private void endCheckpoint(boolean saved) {
    checkpointInFlight = false;
    if (phase == Phase.HANDING_OFF) {
      if (!finalCheckpointInFlight) {
        // A checkpoint begun before the hand-off ended; the final one holds what came after it.
        if (eventsSinceCheckpoint == 0 && atCheckpointPoint()) {
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
    if (eventsSinceCheckpoint == 0 && atCheckpointPoint() && !checkpointInFlight) {
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
    leaveBudget();
    stash.clear();
    stashedExternal = 0;
    ports.stop().run();
  }

  private void leaveBudget() {
    if (inBudget) {
      inBudget = false;
      settings.recordBudget().left();
    }
  }

  /** The owner has stopped the host (or is about to): release cached executions. */
  public void stopped() {
    phase = Phase.STOPPED;
    leaveBudget();
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
        case Effect.AfterDurable after when global -> afterCommit(after);
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
      case Effect.LoadRecord l -> requestLoad(l.key());
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
    run.markDispatched(ports.clock().nanoTime());
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

  /** Sends what is durable and not yet sent to {@code destination}; returns how many messages. */
  private int sendOutbox(int destination) {
    Outbox outbox = state.outbox();
    long durable = durableOutbox.getOrDefault(destination, 0L);
    long sent = Math.max(sentUpTo.getOrDefault(destination, 0L), outbox.acknowledged(destination));
    int count = 0;
    while (sent < durable) {
      List<Outbox.Entry> entries =
          outbox.entries(destination, sent, durable, settings.maxMessagesPerDelivery());
      if (entries.isEmpty()) {
        break;
      }
      List<PartitionMessage> messages = new ArrayList<>(entries.size());
      entries.forEach(e -> messages.add(e.message()));
      StepId tag = null;
      CommitInfo commit = null;
      if (global) {
        // Sent now, from the step just applied (a resend: from a later one, which is safe and makes
        // no cycle: the receiver's steps that this one depends on were sent before the receiver
        // took
        // this message): the receiver depends on it until this partition commits it.
        StepId now = state.incarnations().now();
        tag = now.isAfter(speculation.committed()) ? now : null;
        commit = commitInfo();
        if (tag != null) {
          speculation.sentTo(destination, tag);
        }
      }
      ports
          .transport()
          .send(
              destination,
              new PartitionLink.Deliver(partitionId, entries.get(0).seq(), messages, tag, commit));
      sent = entries.get(entries.size() - 1).seq();
      count += messages.size();
    }
    sentUpTo.put(destination, sent);
    lastSent.put(destination, ports.clock().now());
    return count;
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
            pipelined && !(global && incarnationDurable)
                ? durableOutbox.getOrDefault(destination, 0L)
                : state.outbox().lastSeq(destination),
            Math::max);
        int resent = sendOutbox(destination);
        if (resent > 0) {
          ports.metrics().resent(resent);
        }
      }
    }
  }

  // ---------------------------------------------------------------- the global mode

  /**
   * Recovery is done: the recovered log suffix may still depend on steps of other partitions, so
   * they are asked again; a new incarnation begins, whose first event is durable before anything is
   * sent. The other partitions then hear how far the previous one survived.
   */
  private void startIncarnation() {
    speculation = new Speculation(recoveredCommitted);
    recoveredDependencies.forEach(
        d -> speculation.dependRecovered(d.at(), d.origin(), d.step(), ports.clock().nanoTime()));
    recoveredDependencies.clear();
    durableStep = state.incarnations().now();
    speculation.advance(durableStep);
    long incarnation =
        Math.max(
            ports.journal().lastSequenceNr() + 1, state.incarnations().now().incarnation() + 1);
    append(new PartitionEvent.IncarnationStarted(incarnation, ports.clock().now()));
    bufferCallbacks.add(
        () -> {
          incarnationDurable = true;
          List<Runnable> waiting = new ArrayList<>(afterIncarnation);
          afterIncarnation.clear();
          waiting.forEach(Runnable::run);
          CommitInfo commit = commitInfo();
          for (int p = 0; p < settings.partitionCount(); p++) {
            if (p != partitionId) {
              ports.transport().send(p, new PartitionLink.Committed(partitionId, commit));
            }
          }
          askPendingOrigins();
        });
  }

  /** What this partition has committed, for the others. */
  private CommitInfo commitInfo() {
    return CommitInfo.of(
        state.incarnations().now().incarnation(),
        speculation.committed(),
        state.incarnations().ends(),
        state.incarnations().endsFrom());
  }

  /**
   * An effect that leaves the partition. Messages to other partitions leave at once (once this
   * incarnation's name is durable); everything else waits for the commit of the step just applied.
   */
  private void afterCommit(Effect.AfterDurable effect) {
    if (effect instanceof Effect.OutboxReady) {
      if (incarnationDurable) {
        runAfterDurable(effect);
      } else {
        afterIncarnation.add(() -> runAfterDurable(effect));
      }
      return;
    }
    speculation.whenCommitted(state.incarnations().now(), () -> runAfterDurable(effect));
  }

  /**
   * A delivery in the global mode. What the sender says it committed comes first (it may show that
   * this partition consumed a step it lost). Messages from a step the sender lost are refused: the
   * sender resends what survived. Messages from a step not known committed are applied at once,
   * after a recorded dependency on it.
   */
  private void onSpeculativeDeliver(PartitionLink.Deliver d) {
    if (d.commit() != null && heardFrom(d.origin(), d.commit())) {
      return;
    }
    StepId tag = d.dependsOn();
    if (tag != null) {
      switch (speculation.fate(d.origin(), tag)) {
        case LOST -> {
          ports.metrics().deliveryDropped(d.messages().size(), false);
          return;
        }
        case COMMITTED -> tag = null;
        case PENDING -> {
          if (confirmedOnly.contains(d.origin())) {
            List<PartitionLink.Deliver> waiting =
                held.computeIfAbsent(d.origin(), k -> new ArrayList<>());
            if (waiting.size() < HELD_PER_ORIGIN) {
              waiting.add(d); // beyond: dropped, and resent by the origin
            }
            ports.transport().send(d.origin(), new PartitionLink.AskCommitted(partitionId));
            return;
          }
        }
      }
    }
    onDeliver(d, tag);
  }

  /**
   * Takes what {@code origin} says it committed. An origin that was too slow to confirm is heard
   * from again: its held messages are taken in order, as they would have been. Returns true if this
   * partition is now taking back its speculative suffix.
   */
  private boolean heardFrom(int origin, CommitInfo commit) {
    if (!speculation.learn(origin, commit)) {
      return false;
    }
    if (advanceCommit()) {
      return true;
    }
    if (confirmedOnly.remove(origin)) {
      List<PartitionLink.Deliver> waiting = held.remove(origin);
      if (waiting != null) {
        // Ahead of whatever waits in the stash (they are older), taken when the host runs.
        for (int k = waiting.size() - 1; k >= 0; k--) {
          stash.addFirst(waiting.get(k));
          stashedExternal++;
        }
      }
    }
    return false;
  }

  private void onCommitLink(PartitionLink link) {
    if (speculation == null || phase == Phase.STOPPED || rollbackFrom != null) {
      return; // recovering: every origin is asked again once it is done
    }
    switch (link) {
      case PartitionLink.Committed c -> {
        if (fromKnownPartition(c.from(), c)) {
          heardFrom(c.from(), c.commit());
        }
      }
      case PartitionLink.AskCommitted a -> {
        if (fromKnownPartition(a.from(), a) && incarnationDurable) {
          ports.transport().send(a.from(), new PartitionLink.Committed(partitionId, commitInfo()));
        }
      }
      default -> {}
    }
  }

  /**
   * Moves the commit on to what is durable and confirmed, runs what waited for it, and tells the
   * partitions that consumed our speculative messages. Returns true if a step this partition
   * consumed turned out lost: it is then taking back its speculative suffix.
   */
  private boolean advanceCommit() {
    if (speculation == null || rollbackFrom != null || phase == Phase.STOPPED) {
      return rollbackFrom != null;
    }
    StepId before = speculation.committed();
    StepId lost = speculation.advance(durableStep);
    if (lost != null) {
      rollBack(lost, "it consumed a step another partition lost");
      return true;
    }
    if (speculation.committed().isAfter(before)) {
      pushCommitted();
      if (checkpointing() && atCheckpointPoint()) {
        captureCheckpoint();
      }
    }
    return false;
  }

  private void pushCommitted() {
    if (!incarnationDurable) {
      return;
    }
    List<Integer> tell = speculation.consumersToTell();
    if (tell.isEmpty()) {
      return;
    }
    CommitInfo commit = commitInfo();
    for (int destination : tell) {
      ports.transport().send(destination, new PartitionLink.Committed(partitionId, commit));
    }
  }

  private void askPendingOrigins() {
    for (int origin : speculation.pendingOrigins()) {
      ports.transport().send(origin, new PartitionLink.AskCommitted(partitionId));
    }
  }

  /**
   * At every resend tick: asks again the origins this partition still waits for (their answers may
   * have been lost), tells its consumers again, and takes back what has waited longer than {@code
   * netherite.global.max-unconfirmed} for one origin (a dead or cut-off node), so that its commit
   * does not stall; the origin's messages come again when it is back. Returns true if it took back.
   */
  private boolean checkUnconfirmed() {
    if (speculation == null || rollbackFrom != null || !incarnationDurable) {
      return false;
    }
    Speculation.Dependency oldest = speculation.oldestLivePending();
    if (oldest != null
        && ports.clock().nanoTime() - oldest.sinceNanos() > settings.maxUnconfirmed().toNanos()) {
      slowOrigin = oldest.origin();
      rollBack(
          oldest.at(),
          "partition "
              + oldest.origin()
              + " did not confirm its step "
              + oldest.step()
              + " within netherite.global.max-unconfirmed ("
              + settings.maxUnconfirmed()
              + ")");
      return true;
    }
    askPendingOrigins();
    speculation
        .consumersToRemind()
        .forEach(
            destination ->
                ports
                    .transport()
                    .send(destination, new PartitionLink.Committed(partitionId, commitInfo())));
    return false;
  }

  /**
   * Takes back every step from {@code from} on, and the events not yet written: none of them is
   * committed, so nothing of them left the engine. Clients waiting on this partition are told to
   * retry (their requests may be among them); a marker in the journal takes the steps back for
   * every later recovery; then the host stops and a new one recovers what is left. Messages it
   * consumed are not acknowledged (that waits for commit), so their senders resend them.
   */
  private void rollBack(StepId from, String why) {
    if (rollbackFrom != null || phase == Phase.STOPPED) {
      return;
    }
    StepId voidFrom = from;
    if (!buffer.isEmpty()) {
      StepId applied = state.incarnations().now();
      StepId firstUnwritten =
          new StepId(applied.incarnation(), applied.position() - buffer.size() + 1);
      if (firstUnwritten.compareTo(voidFrom) < 0) {
        voidFrom = firstUnwritten;
      }
    }
    rollbackFrom = voidFrom;
    rollbackAnswer =
        new ClientResponse.Rejected(
            ClientResponse.Reason.ROLLED_BACK,
            "Partition "
                + partitionId
                + " took back speculative work that this request may have been part of ("
                + why
                + "); nothing of it remains. Retry it with the same request id.");
    ports.metrics().rolledBack();
    ports
        .log()
        .warn(
            "partition "
                + partitionId
                + " takes back its speculative steps from "
                + voidFrom
                + " ("
                + why
                + "); clients waiting on it retry");
    ClientResponse retry = rollbackAnswer;
    replyTo.values().forEach(r -> r.reply(retry));
    replyTo.clear();
    completionWaiters.values().forEach(ws -> ws.forEach(w -> w.reply(retry)));
    completionWaiters.clear();
    buffer.clear();
    bufferSizes.clear();
    bufferCallbacks = new ArrayList<>();
    for (HostInput waiting : stash) {
      if (waiting.replyChannel() != null) {
        waiting.replyChannel().reply(retry); // never taken: retried, it reaches the next host
      }
    }
    stash.clear();
    stashedExternal = 0;
    if (!writeInFlight) {
      writeVoid();
    }
  }

  private void writeVoid() {
    if (!ports.journal().mayWrite()) {
      stopNow();
      return;
    }
    PartitionEvent marker =
        new PartitionEvent.Voided(rollbackFrom, slowOrigin, ports.clock().now());
    writeInFlight = true;
    voidInFlight = true;
    inFlight = List.of(marker);
    inFlightCallbacks = new ArrayList<>();
    ports.metrics().journalWrite(1);
    ports.journal().write(new EventBatch(List.of(marker)));
  }

  private void sendAck(int origin, long upTo) {
    ports.transport().send(origin, new PartitionLink.Ack(partitionId, upTo));
  }
}
