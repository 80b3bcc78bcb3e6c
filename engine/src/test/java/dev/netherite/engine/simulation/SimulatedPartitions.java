package dev.netherite.engine.simulation;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.activity.ActivityExecutor;
import dev.netherite.engine.entity.EntityExecutor;
import dev.netherite.engine.host.HostInput;
import dev.netherite.engine.host.HostSettings;
import dev.netherite.engine.host.HostTimer;
import dev.netherite.engine.host.PartitionHost;
import dev.netherite.engine.host.PartitionLink;
import dev.netherite.engine.host.PartitionPorts;
import dev.netherite.engine.host.PersistenceMode;
import dev.netherite.engine.host.RecordBudget;
import dev.netherite.engine.host.TestPorts;
import dev.netherite.engine.orchestration.OrchestrationExecutor;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.EntityRecord;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.Incarnations;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.PartitionCheckpoint;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.PurgeFilter;
import dev.netherite.engine.partition.StepId;
import dev.netherite.engine.partition.StepResult;
import dev.netherite.engine.partition.StoredRecord;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Test harness: runs {@code N} real {@link PartitionHost}s, the class the runtime's partition actor
 * runs, on the test's thread, with every port implemented by a seeded fake, all driven by one
 * seeded {@link Random}. No host logic is copied here: the harness only plays the world.
 *
 * <ul>
 *   <li><b>Journal.</b> Each partition has a durable list of batches, a checkpoint and a fake
 *       instance store. A write completes as a piece of pending work; {@link #failNextWrite} makes
 *       it fail, and a failed write may have been stored or not (the host cannot know which). A
 *       checkpoint is captured as the events the live state had applied when it was asked for (so
 *       one taken with events in flight or buffered is recovered as exactly the corrupt state it
 *       is, and the harness also fails at once if it is not at the quiescent point), labelled with
 *       the durable sequence number. Its records are then written as rows labelled with that
 *       number, a few at a time, each a piece of pending work, while the host runs on; then its
 *       snapshot commits it. Recovery = that snapshot, each record's newest row at or below its
 *       number, plus the batches after its label, as Pekko Persistence does.
 *   <li><b>Crash.</b> {@link #crash} discards the host and all its local work; a write in flight
 *       was stored or not, at random; a new host recovers at once. {@link #handOff} asks the host
 *       to hand over (final checkpoint, stop); a stopped host (hand-off, failed write) is started
 *       again, recovering from storage, {@link #restartAfter} later. A stopped partition drops what
 *       it is sent, as the runtime does while a partition is down.
 *   <li><b>Steps.</b> A real {@link OrchestrationExecutor} (virtual threads, which the harness's
 *       thread itself runs); the harness waits for each step's result and feeds it back later as
 *       pending work.
 *   <li><b>Activities and entity batches</b> run synchronously, some time after they were started.
 *   <li><b>Time</b> is a simulated clock: it moves only when a test advances it or when nothing is
 *       left to do but wait for the next timer, restart or client retry. The host's timers are
 *       fired when their time has come.
 *   <li><b>Network.</b> Deliveries, acknowledgements, client requests and replies go through a
 *       simulated network that loses, duplicates and reorders them with the configured rates;
 *       clients retry requests, with the same request id, after {@code clientRetryAfter}.
 * </ul>
 *
 * <p>Pending work is executed in a random order, so one seed gives one interleaving; orchestration
 * threads do not add nondeterminism since every step is awaited synchronously.
 */
public final class SimulatedPartitions implements AutoCloseable {
  public static final Instant START_TIME = Instant.parse("2030-01-01T00:00:00Z");
  public static final Set<RuntimeStatus> NOT_ENDED =
      Set.copyOf(EnumSet.of(RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED));
  private static final long STEP_TIMEOUT_SECONDS = 10;

  private final int partitionCount;
  private final PartitionPlacement placement;
  private final Random random;
  private final DataConverter converter = new TestDataConverter();
  private final Node[] nodes;
  private final List<Work> pending = new ArrayList<>();

  /**
   * Activities started while {@link #runActivities} is off; {@link #completeActivity} answers them.
   */
  private final List<RunActivity> parkedActivities = new ArrayList<>();

  private final BlockingQueue<StepReport> stepReports = new LinkedBlockingQueue<>();

  /**
   * The orchestration threads: virtual threads whose scheduler is this queue, which the test's
   * thread runs whenever it waits for a step, so that a step costs no hand-off between threads
   * (null: the JDK does not let the harness pick the scheduler; then they run on the JDK's).
   */
  private final Queue<Runnable> readyThreads = new ConcurrentLinkedQueue<>();

  private final ThreadFactory stepThreads = virtualThreadsScheduledBy(readyThreads::add);
  private Workflows workflows;
  private int entityBatchesRun;
  private OrchestrationExecutor executor;
  private Instant now = START_TIME;

  // Settings; change them between actions at will (host settings apply to hosts started later).
  private double dropRate;
  private double duplicateRate;
  private int cacheCapacity = 64;
  private int residentEndedInstances = 0;
  private int purgeBatchSize = HostSettings.DEFAULT_PURGE_BATCH_SIZE;
  private Duration retention;
  private Duration retentionCheckInterval = HostSettings.DEFAULT_RETENTION_CHECK_INTERVAL;
  private RecordBudget recordBudget = RecordBudget.UNLIMITED;
  private int requestLogCapacity = 1000;
  private int maxMessagesPerDelivery = 4;
  private Duration resendAfter = Duration.ofMillis(500);
  private Duration clientRetryAfter = Duration.ofSeconds(2);
  private Duration restartAfter = Duration.ofMillis(200);
  private Duration maxUnconfirmed = HostSettings.DEFAULT_MAX_UNCONFIRMED;
  private PersistenceMode mode = PersistenceMode.LOCAL;
  private int maxBatchEvents = 16;
  private int maxPendingEvents = 400;
  private Duration maxLinger = Duration.ZERO;
  private long checkpointAfterEvents = 60;
  private Duration checkpointAfterIdle = Duration.ofSeconds(2);
  private boolean runActivities = true;

  // Clients: requests by id, in submission order.
  private final Map<String, ClientCall> calls = new LinkedHashMap<>();
  private long requestCounter;

  // Observations.
  private final Map<String, Integer> endedCount = new TreeMap<>();
  private final Map<String, InstanceView> endedViews = new TreeMap<>();
  private final Map<String, Integer> activityRuns = new TreeMap<>();
  private int loads;
  private int stepsRun;
  private int crashes;
  private int handOffs;
  private int failedWrites;
  private int failedCheckpoints;
  private int checkpoints;
  private int restarts;
  private int crashesWhileRowsWritten;
  private int recordLoads;
  private int recordsEvicted;
  private int rowsWrittenWithInputGoingOn;
  private long actions;
  private int dropped;
  private int duplicated;
  private int rolledBackAnswers;
  private int rollbacks;
  private int slowOriginRollbacks;

  public SimulatedPartitions(int partitionCount, Workflows workflows, long seed) {
    this.partitionCount = partitionCount;
    this.placement = new PartitionPlacement(partitionCount);
    this.random = new Random(seed);
    this.workflows = workflows;
    this.executor = new OrchestrationExecutor(workflows, converter, stepThreadFactory());
    this.nodes = new Node[partitionCount];
    for (int p = 0; p < partitionCount; p++) {
      nodes[p] = new Node(p);
    }
  }

  // ---------------------------------------------------------------- settings

  /**
   * Losses and duplicates of network messages (deliveries, acks, client requests and replies), 0 to
   * 1.
   */
  public SimulatedPartitions faults(double dropRate, double duplicateRate) {
    this.dropRate = dropRate;
    this.duplicateRate = duplicateRate;
    return this;
  }

  /**
   * The capacity of each partition's instance cache. Restarts every partition (losing nothing but
   * cached executions when nothing is in flight): call it before the run.
   */
  /** Ended instances each partition keeps in memory once they are in the store (0: none). */
  /**
   * The memory budget the partitions share, as a node's do (0: every idle record leaves memory
   * after each checkpoint), for hosts started from now on.
   */
  public SimulatedPartitions recordBudget(long bytes) {
    this.recordBudget = new RecordBudget(bytes);
    return this;
  }

  public SimulatedPartitions residentEndedInstances(int keep) {
    this.residentEndedInstances = keep;
    return this;
  }

  /** Instances in one batch of a purge sweep, for partitions started from now on. */
  public SimulatedPartitions purgeBatchSize(int size) {
    this.purgeBatchSize = size;
    return this;
  }

  /**
   * Retention for partitions started from now on: ended instances older than {@code completed} are
   * purged, checked every {@code checkInterval} (null: off).
   */
  public SimulatedPartitions retention(Duration completed, Duration checkInterval) {
    this.retention = completed;
    this.retentionCheckInterval = checkInterval;
    return this;
  }

  public SimulatedPartitions cacheCapacity(int capacity) {
    this.cacheCapacity = capacity;
    restartAll();
    return this;
  }

  /** Restarts every running partition, so that settings changed since apply to all of them. */
  private void restartAll() {
    for (Node n : nodes) {
      if (n.host != null) {
        n.storeOrDropInFlight();
        recover(n);
      }
    }
  }

  /** Whether started activities run; when off they stay pending (see {@link #completeActivity}). */
  public SimulatedPartitions runActivities(boolean run) {
    this.runActivities = run;
    return this;
  }

  public SimulatedPartitions resendAfter(Duration d) {
    this.resendAfter = d;
    return this;
  }

  public SimulatedPartitions clientRetryAfter(Duration d) {
    this.clientRetryAfter = d;
    return this;
  }

  public SimulatedPartitions maxMessagesPerDelivery(int max) {
    this.maxMessagesPerDelivery = max;
    return this;
  }

  /**
   * The commit log of every partition: persistence mode, events per write, unwritten events before
   * backpressure, the commit linger, and events between checkpoints. Restarts every partition: the
   * first hosts, started with the defaults, must not go on in another mode next to the new ones
   * (the harness fails at once when a speculative delivery reaches a host of another mode); call it
   * before the run.
   */
  public SimulatedPartitions commitLog(
      PersistenceMode mode,
      int maxBatchEvents,
      int maxPendingEvents,
      Duration maxLinger,
      long checkpointAfterEvents) {
    this.mode = mode;
    this.maxBatchEvents = maxBatchEvents;
    this.maxPendingEvents = maxPendingEvents;
    this.maxLinger = maxLinger;
    this.checkpointAfterEvents = checkpointAfterEvents;
    restartAll();
    return this;
  }

  /** How long a stopped partition (hand-off, failed write) stays down before it starts again. */
  public SimulatedPartitions restartAfter(Duration d) {
    this.restartAfter = d;
    return this;
  }

  /**
   * Deploys other code: the executor is replaced and every cached run is discarded, so that the
   * next step of each instance replays its history with the new code.
   */
  public void deploy(Workflows newWorkflows) {
    this.workflows = newWorkflows;
    this.executor = new OrchestrationExecutor(newWorkflows, converter, stepThreadFactory());
    for (Node n : nodes) {
      if (n.host != null) {
        n.host.discardCachedRuns();
      }
    }
  }

  public Random random() {
    return random;
  }

  public DataConverter converter() {
    return converter;
  }

  public int partitionCount() {
    return partitionCount;
  }

  public int partitionOf(String id) {
    return placement.partitionOf(id);
  }

  private HostSettings hostSettings() {
    return new HostSettings(
        partitionCount,
        mode,
        maxBatchEvents,
        maxPendingEvents,
        maxLinger,
        checkpointAfterEvents,
        HostSettings.DEFAULT_CHECKPOINT_AFTER_BYTES,
        checkpointAfterIdle,
        true,
        cacheCapacity,
        requestLogCapacity,
        PartitionState.DEFAULT_ENTITY_BATCH_LIMIT,
        resendAfter,
        maxMessagesPerDelivery,
        HostSettings.DEFAULT_MAX_BATCH_BYTES,
        residentEndedInstances,
        purgeBatchSize,
        retention,
        retentionCheckInterval,
        recordBudget,
        maxUnconfirmed);
  }

  /**
   * Global mode: how long a partition started from now on waits for another to confirm a step it
   * consumed before it takes back what depends on it.
   */
  public SimulatedPartitions maxUnconfirmed(Duration d) {
    this.maxUnconfirmed = d;
    return this;
  }

  /** Global mode: rollbacks because an origin confirmed too late (Voided markers naming one). */
  public int slowOriginRollbacks() {
    return slowOriginRollbacks;
  }

  // ---------------------------------------------------------------- clock

  public Instant now() {
    return now;
  }

  public void advanceClock(Duration d) {
    now = now.plus(d);
  }

  // ---------------------------------------------------------------- clients

  /** Starts an instance through the network (retried until answered). Returns the request id. */
  public String start(String instanceId, String orchestrationName, Object input) {
    return submit(startRequest(instanceId, orchestrationName, input, null));
  }

  public ClientRequest.StartOrchestration startRequest(
      String instanceId, String orchestrationName, Object input, Instant scheduledStart) {
    return new ClientRequest.StartOrchestration(
        instanceId, orchestrationName, converter.serialize(input), scheduledStart, NOT_ENDED);
  }

  public String raiseEvent(String instanceId, String eventName, Object payload) {
    return submit(
        new ClientRequest.RaiseEvent(instanceId, eventName, converter.serialize(payload)));
  }

  /**
   * Sends a client request through the network; the client retries it with the same id until it is
   * answered.
   */
  public String submit(ClientRequest request) {
    ClientCall call = newCall(request);
    send(new ClientSend(call.requestId, request));
    return call.requestId;
  }

  /**
   * Hands a client request to its partition at once, bypassing the network: for tests that need
   * requests applied in a given order. The reply still waits for durability.
   */
  public String submitNow(ClientRequest request) {
    ClientCall call = newCall(request);
    Node n = nodes[placement.partitionOf(request.targetId())];
    if (n.host == null) {
      throw new IllegalStateException("partition " + n.id + " is down");
    }
    n.host.input(clientCommand(n, call.requestId, request));
    return call.requestId;
  }

  /** Sends a request again with the id of an earlier one, as a client that timed out does. */
  public void resubmit(String requestId) {
    send(calls.get(requestId).send());
  }

  /**
   * Asks a partition, through the network, for a purge sweep (retried with the same id until
   * answered, as the runtime's client does). Returns the request id; the answer is a {@link
   * ClientResponse.PurgeProgress}.
   */
  public String purgeSweep(int partition, PurgeFilter filter, String afterId) {
    ClientCall call = new ClientCall("req-" + (++requestCounter), null);
    call.sweep = new SweepSend(call.requestId, partition, filter, afterId);
    call.sentAt = now;
    calls.put(call.requestId, call);
    send(call.sweep);
    return call.requestId;
  }

  private ClientCall newCall(ClientRequest request) {
    ClientCall call = new ClientCall("req-" + (++requestCounter), request);
    call.sentAt = now;
    calls.put(call.requestId, call);
    return call;
  }

  private HostInput.ClientCommand clientCommand(Node n, String requestId, ClientRequest request) {
    return new HostInput.ClientCommand(
        requestId,
        request,
        response -> {
          noteRelease(n, requestId, response);
          send(new ClientReply(requestId, response));
        });
  }

  /** The first answer a client got for the request, or null. */
  public ClientResponse response(String requestId) {
    ClientCall call = calls.get(requestId);
    return call == null ? null : call.response;
  }

  /** Every answer that reached the client for this request id, duplicates included. */
  public List<ClientResponse> responses(String requestId) {
    return List.copyOf(calls.get(requestId).replies);
  }

  /**
   * The instance's status with its history: from memory, or, for an ended instance that left it,
   * from the committed version in the store (as the host reads it back).
   */
  public InstanceView status(String instanceId) {
    int p = placement.partitionOf(instanceId);
    PartitionState live = state(p);
    ClientQuery.GetStatus query = new ClientQuery.GetStatus(instanceId, true);
    InstanceView v = ((ClientResponse.Status) live.query(query)).view();
    Node n = nodes[p];
    if (v != null || !live.mayBeStored(instanceId) || n.checkpoint == null) {
      return v;
    }
    StoredRecord r = observedRecords(n).get(StoredRecord.instanceKey(instanceId));
    if (r == null) {
      return null;
    }
    PartitionState holder = new PartitionState(p, partitionCount, 1);
    holder.restoreRecord(r);
    return ((ClientResponse.Status) holder.query(query)).view();
  }

  /** The entity as its partition holds it, in memory or in the store. */
  public EntityRecord entity(String entityId) {
    int p = placement.partitionOf(entityId);
    PartitionState live = state(p);
    EntityRecord e = live.entity(entityId);
    Node n = nodes[p];
    if (e != null || n.checkpoint == null) {
      return e;
    }
    StoredRecord r = observedRecords(n).get(StoredRecord.entityKey(entityId));
    return r == null ? null : (EntityRecord) r.value();
  }

  public <T> T output(String instanceId, Class<T> type) {
    InstanceView v = status(instanceId);
    return v == null ? null : converter.deserialize(v.output(), type);
  }

  public <T> T customStatus(String instanceId, Class<T> type) {
    InstanceView v = status(instanceId);
    return v == null ? null : converter.deserialize(v.customStatus(), type);
  }

  // ---------------------------------------------------------------- running

  /**
   * Runs due timers, restarts and client retries, then one piece of pending work chosen at random.
   * Returns false when there was nothing to do at the current time.
   */
  public boolean runOnce() {
    onClockTick();
    if (pending.isEmpty()) {
      return false;
    }
    int k = random.nextInt(pending.size());
    Work w = pending.get(k);
    pending.set(k, pending.get(pending.size() - 1));
    pending.remove(pending.size() - 1);
    actions++;
    execute(w);
    return true;
  }

  /** Runs everything that can run without moving the clock. */
  public void drain() {
    long limit = actions + 1_000_000;
    while (runOnce()) {
      if (actions > limit) {
        throw new AssertionError("drain did not finish within 1000000 actions; " + summary());
      }
    }
  }

  /** Runs until nothing is pending and nothing waits on the clock (timers, restarts, retries). */
  public void settle() {
    settle(1_000_000);
  }

  public void settle(long maxActions) {
    long limit = actions + maxActions;
    for (long waits = 0; ; waits++) {
      while (runOnce()) {
        if (actions > limit) {
          throw new AssertionError(
              "settle did not finish within " + maxActions + " actions; " + summary());
        }
      }
      if (!advanceToNextDeadline()) {
        return;
      }
      if (actions > limit || waits > maxActions) {
        throw new AssertionError(
            "settle did not finish within " + maxActions + " actions; " + summary());
      }
    }
  }

  /** Moves the clock to the next deadline; false when there is none. */
  private boolean advanceToNextDeadline() {
    Instant next = nextDeadline();
    if (next == null) {
      return false;
    }
    now = next.isAfter(now) ? next : now.plusMillis(1);
    return true;
  }

  /**
   * Runs until {@code condition} holds, moving the clock to the next deadline when idle. Fails
   * after {@code maxActions} actions or when nothing is left to do.
   */
  public void runUntil(BooleanSupplier condition, long maxActions) {
    long limit = actions + maxActions;
    while (!condition.getAsBoolean()) {
      if (actions > limit) {
        throw new AssertionError(
            "condition not reached within " + maxActions + " actions; " + summary());
      }
      if (!runOnce() && !advanceToNextDeadline()) {
        throw new AssertionError("condition not reached and nothing left to do; " + summary());
      }
    }
  }

  /**
   * Whether nothing is pending, every partition runs with its log durable and nothing waiting, and
   * every outbox is acknowledged.
   */
  public boolean quiescent() {
    if (!pending.isEmpty()) {
      return false;
    }
    for (Node n : nodes) {
      if (n.host == null
          || n.host.phase() != PartitionHost.Phase.RUNNING
          || n.host.writeInFlight()
          || !n.host.unwrittenEvents().isEmpty()
          || n.host.stashedInputs() > 0
          || n.host.state().outbox().unacknowledgedCount() > 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether every partition runs (none is down or recovering) with everything it applied durable,
   * so that {@link #status} reads state that a crash cannot take back: a recovering partition has
   * not replayed its log yet, and in local mode a running one applies events before they are
   * durable.
   */
  public boolean allDurable() {
    for (Node n : nodes) {
      if (n.host == null
          || n.host.phase() == PartitionHost.Phase.RECOVERING
          || n.host.writeInFlight()
          || !n.host.unwrittenEvents().isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The earliest time at which something waits on the clock: a host's timer that has work to do, a
   * restart, a client retry; null when none. The periodic idle-checkpoint tick is not a deadline
   * (it would never let the clock rest); it fires when the clock passes it.
   */
  public Instant nextDeadline() {
    Instant next = null;
    for (Node n : nodes) {
      if (n.host == null) {
        next = min(next, n.restartAt);
        continue;
      }
      for (Map.Entry<HostTimer, Instant> t : n.timerDue.entrySet()) {
        boolean matters =
            switch (t.getKey()) {
              case TIMER_DUE, COMMIT_DUE -> true;
              case RESEND ->
                  n.host.state().outbox().unacknowledgedCount() > 0 || n.host.awaitsConfirmation();
              case CHECKPOINT_IF_IDLE, RETENTION -> false;
            };
        if (matters) {
          next = min(next, t.getValue());
        }
      }
    }
    for (ClientCall c : calls.values()) {
      if (c.response == null) {
        next = min(next, c.sentAt.plus(clientRetryAfter));
      }
    }
    return next;
  }

  private static Instant min(Instant a, Instant b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return a.isBefore(b) ? a : b;
  }

  private void onClockTick() {
    for (Node n : nodes) {
      if (n.host == null) {
        if (n.restartAt != null && !n.restartAt.isAfter(now)) {
          restarts++;
          recover(n);
        }
        continue;
      }
      for (HostTimer timer : HostTimer.values()) {
        Instant due = n.timerDue.get(timer);
        if (due == null || due.isAfter(now) || n.host == null) {
          continue;
        }
        Duration interval = n.timerInterval.get(timer);
        if (interval == null) {
          n.timerDue.remove(timer);
        } else {
          n.timerDue.put(timer, now.plus(interval));
        }
        n.host.input(new HostInput.TimerFired(timer));
      }
    }
    for (ClientCall c : calls.values()) {
      if (c.response == null && !now.isBefore(c.sentAt.plus(clientRetryAfter))) {
        c.sentAt = now;
        send(c.send());
      }
    }
  }

  // ---------------------------------------------------------------- faults

  /**
   * Crashes a partition: its host and all its local work are lost, a write in flight was stored or
   * not, and a new host recovers from storage at once.
   */
  public void crash(int partition) {
    Node n = nodes[partition];
    crashes++;
    n.storeOrDropInFlight();
    recover(n);
  }

  /** Asks a partition to hand over, as Cluster Sharding does when it moves the partition. */
  public void handOff(int partition) {
    Node n = nodes[partition];
    if (n.host != null) {
      handOffs++;
      n.host.handOff();
    }
  }

  /** The partition's next journal write (or the one in flight) fails. */
  public void failNextWrite(int partition) {
    nodes[partition].failNextWrite = true;
  }

  /** The partition's next checkpoint (or the one being saved) fails. */
  public void failNextCheckpoint(int partition) {
    nodes[partition].failNextCheckpoint = true;
  }

  /** A fresh state with {@code log} applied, effects discarded, as recovery does. */
  public PartitionState rebuild(int partition, List<PartitionEvent> log) {
    return fold(partition, log, effects -> {});
  }

  /**
   * Applies {@code log} to a fresh state, handing each event's effects to {@code effects}. Records
   * that leave memory are kept aside and come back where the log says they were read back.
   */
  private PartitionState fold(
      int partition, List<PartitionEvent> log, java.util.function.Consumer<List<Effect>> effects) {
    PartitionState fresh = new PartitionState(partition, partitionCount, requestLogCapacity);
    Map<String, StoredRecord> aside = new HashMap<>();
    // What a Voided marker took back never happened (recovery skips it too).
    for (PartitionEvent e : Incarnations.surviving(StepId.ORIGIN, log)) {
      if (e instanceof PartitionEvent.RecordsEvicted ev) {
        for (String key : ev.keys()) {
          StoredRecord r = fresh.record(key);
          if (r.value() != null) {
            aside.put(key, r);
          }
        }
      } else if (e instanceof PartitionEvent.RecordsLoaded l) {
        for (String key : l.keys()) {
          StoredRecord r = aside.remove(key);
          if (r != null && fresh.isEvicted(key)) {
            fresh.restoreRecord(r);
          }
        }
      }
      effects.accept(fresh.apply(e));
    }
    return fresh;
  }

  /** Starts a new host for the node, recovering from its checkpoint and the batches after it. */
  private void recover(Node n) {
    n.incarnation++;
    if (n.host != null) {
      n.host.stopped();
    }
    int partition = n.id;
    pending.removeIf(w -> w instanceof LocalWork l && l.partition() == partition);
    parkedActivities.removeIf(a -> a.partition() == partition);
    n.timerDue.clear();
    n.timerInterval.clear();
    n.restartAt = null;
    n.inFlight = null;
    if (n.saving != null) {
      if (n.writtenDuringCheckpoint) {
        crashesWhileRowsWritten++;
      }
      endSaving(n);
    }
    PartitionHost host = new PartitionHost(partition, hostSettings(), portsOf(n, n.incarnation));
    n.host = host;
    n.hostMode = mode;
    n.lastHost = host;
    long from = 0;
    if (n.checkpoint != null) {
      PartitionCheckpoint wide =
          rebuild(partition, n.checkpoint.content())
              .captureCheckpoint(n.checkpoint.seqNr(), new ArrayList<>());
      host.restoreCheckpoint(wide, n.checkpoint.seqNr());
      from = n.checkpoint.seqNr();
    }
    for (long seqNr = from + 1; seqNr <= n.journal.size(); seqNr++) {
      if (seqNr > n.deletedUpTo) {
        host.replay(n.journal.get((int) seqNr - 1));
      }
    }
    host.recoveryCompleted();
  }

  // ---------------------------------------------------------------- observations

  /** The partition's live state (the last host's, while the partition is down). */
  public PartitionState state(int partition) {
    return nodes[partition].lastHost.state();
  }

  /** Every event of the partition: durable, then in flight and buffered. */
  public List<PartitionEvent> log(int partition) {
    List<PartitionEvent> all = new ArrayList<>(durableLog(partition));
    Node n = nodes[partition];
    if (n.host != null) {
      all.addAll(n.host.unwrittenEvents());
    }
    return all;
  }

  /**
   * Every event written durably to the partition's journal that recovery keeps, in order: in the
   * global mode a Voided marker takes back the events before it from its step on.
   */
  public List<PartitionEvent> durableLog(int partition) {
    List<PartitionEvent> all = new ArrayList<>();
    nodes[partition].journal.forEach(b -> all.addAll(b.events()));
    return Incarnations.surviving(StepId.ORIGIN, all);
  }

  /**
   * How many times the end of each instance was made visible (InstanceEnded released after
   * durability).
   */
  public Map<String, Integer> endedCount() {
    return endedCount;
  }

  /**
   * Whether the instance's end was announced, or its partition's live state has it ended (the end
   * may not be durable yet: settle the simulation before relying on it).
   */
  public boolean hasEnded(String instanceId) {
    if (endedCount.containsKey(instanceId)) {
      return true;
    }
    InstanceView v = status(instanceId);
    return v != null && v.status().isTerminal();
  }

  public InstanceView endedView(String instanceId) {
    return endedViews.get(instanceId);
  }

  /** How many times each activity ran, by activity name. */
  public int activityRuns(String activityName) {
    return activityRuns.getOrDefault(activityName, 0);
  }

  /**
   * For each instance, how many times an execution of it was created (a first step dispatched with
   * its {@code ExecutionStarted}), counted by replaying every partition's durable log into a fresh
   * state.
   */
  public Map<String, Integer> creationsInDurableLogs() {
    Map<String, Integer> creations = new TreeMap<>();
    for (int p = 0; p < partitionCount; p++) {
      fold(
          p,
          durableLog(p),
          effects -> {
            for (Effect effect : effects) {
              if (effect instanceof Effect.RunStep s
                  && s.newEvents().stream()
                      .anyMatch(h -> h instanceof HistoryEvent.ExecutionStarted)) {
                creations.merge(s.instanceId(), 1, Integer::sum);
              }
            }
          });
    }
    return creations;
  }

  /** Orchestration runs loaded by the executor (each load replays the history it is given). */
  public int loads() {
    return loads;
  }

  public int entityBatchesRun() {
    return entityBatchesRun;
  }

  public int stepsRun() {
    return stepsRun;
  }

  public int crashes() {
    return crashes;
  }

  /**
   * Hand-offs asked for, writes and checkpoints failed, checkpoints stored, restarts after a stop.
   */
  public String storageSummary() {
    return String.format(
        "mode=%s handOffs=%d failedWrites=%d failedCheckpoints=%d checkpoints=%d restarts=%d"
            + " crashesWhileRecordsWritten=%d recordWritesWithInputGoingOn=%d recordLoads=%d"
            + " idleRecordsEvicted=%d rollbacks=%d rolledBackAnswers=%d",
        mode,
        handOffs,
        failedWrites,
        failedCheckpoints,
        checkpoints,
        restarts,
        crashesWhileRowsWritten,
        rowsWrittenWithInputGoingOn,
        recordLoads,
        recordsEvicted,
        rollbacks,
        rolledBackAnswers);
  }

  /** In the global mode: how many times a partition took back its speculative suffix. */
  public int rollbacks() {
    return rollbacks;
  }

  /** Idle records (instances that have not ended, entities) that left memory. */
  public int recordsEvicted() {
    return recordsEvicted;
  }

  /** Ended instances read back from the store because a request needed them. */
  public int recordLoads() {
    return recordLoads;
  }

  /**
   * Restarts (crashes, stops) of a partition while its checkpoint's records were being written and
   * batches written after the checkpoint's capture were durable.
   */
  public int crashesWhileRecordsWritten() {
    return crashesWhileRowsWritten;
  }

  /**
   * Whether the partition's checkpoint is being written, with rows still to write, and some of its
   * rows were written after batches written after its capture were durable: a crash now counts in
   * {@link #crashesWhileRecordsWritten()}.
   */
  public boolean writingCheckpointWithLaterBatchesDurable(int partition) {
    Node n = nodes[partition];
    return n.host != null
        && n.saving != null
        && !n.savingLeft.isEmpty()
        && n.writtenDuringCheckpoint;
  }

  public int checkpoints() {
    return checkpoints;
  }

  public long actions() {
    return actions;
  }

  /** Network messages lost and duplicated so far. */
  public int dropped() {
    return dropped;
  }

  public int duplicated() {
    return duplicated;
  }

  public String summary() {
    StringBuilder out = new StringBuilder();
    out.append("now=")
        .append(now)
        .append(" actions=")
        .append(actions)
        .append(" pending=")
        .append(pending.size())
        .append(" steps=")
        .append(stepsRun)
        .append(" loads=")
        .append(loads)
        .append(" crashes=")
        .append(crashes)
        .append(" dropped=")
        .append(dropped)
        .append(" duplicated=")
        .append(duplicated)
        .append(' ')
        .append(storageSummary());
    for (Node n : nodes) {
      PartitionHost h = n.lastHost;
      out.append(" | p")
          .append(n.id)
          .append(' ')
          .append(n.host == null ? "DOWN" : h.phase())
          .append(" journal=")
          .append(n.journal.size())
          .append(" unwritten=")
          .append(h.unwrittenEvents().size())
          .append(" stashed=")
          .append(h.stashedInputs())
          .append(" unacked=")
          .append(h.state().outbox().unacknowledgedCount())
          .append(" statuses=")
          .append(h.state().statusCounts());
    }
    return out.toString();
  }

  /**
   * Activity calls parked while {@link #runActivities} is off, as (instance id, task id, activity
   * name).
   */
  public List<Effect.StartActivity> parkedActivities() {
    return parkedActivities.stream().map(RunActivity::call).toList();
  }

  /** Completes an activity call by hand (see {@link #runActivities}). */
  public void completeActivity(
      String instanceId, int taskId, Object result, FailureDetails failure) {
    Node n = nodes[placement.partitionOf(instanceId)];
    String executionId = n.host.state().instance(instanceId).executionId();
    parkedActivities.removeIf(
        a -> a.call().instanceId().equals(instanceId) && a.call().taskId() == taskId);
    n.host.input(
        new HostInput.ActivityFinished(
            instanceId, executionId, taskId, converter.serialize(result), failure));
  }

  /**
   * A batch reaches the partition's journal. A Voided marker in it must not take back a step that
   * released an answer to a client (checked at once, so that a violation fails where it happens).
   */
  private void store(Node n, EventBatch batch) {
    for (PartitionEvent e : batch.events()) {
      if (e instanceof PartitionEvent.Voided v) {
        if (v.slowOrigin() >= 0) {
          slowOriginRollbacks++;
        }
        for (Release r : releases) {
          if (r.partition() == n.id && r.step().compareTo(v.from()) >= 0) {
            throw new AssertionError(
                "partition "
                    + n.id
                    + " takes back its steps from "
                    + v.from()
                    + ", but step "
                    + r.step()
                    + " released "
                    + r.response()
                    + " to request "
                    + r.requestId()
                    + "; "
                    + summary());
          }
        }
      }
    }
    n.journal.add(batch);
  }

  /** An answer a client may receive, released by the commit of a step of {@code partition}. */
  private record Release(int partition, StepId step, String requestId, ClientResponse response) {}

  private final List<Release> releases = new ArrayList<>();

  private void noteRelease(Node n, String requestId, ClientResponse response) {
    StepId step = n.host == null ? null : n.host.releasingStep();
    if (step != null) {
      releases.add(new Release(n.id, step, requestId, response));
    }
  }

  /**
   * In the global mode: every answer released to a client was released by a step that the
   * partition's log still holds: no recovery took back what a client was told.
   */
  public void assertNoReleasedAnswerTakenBack() {
    Map<Integer, Map<Long, Long>> survived = new HashMap<>();
    for (Release r : releases) {
      Map<Long, Long> ends = survived.computeIfAbsent(r.partition(), this::survivingSteps);
      Long end = ends.get(r.step().incarnation());
      if (end == null || end < r.step().position()) {
        throw new AssertionError(
            "partition "
                + r.partition()
                + " released "
                + r.response()
                + " to request "
                + r.requestId()
                + " at step "
                + r.step()
                + ", which its log no longer holds (incarnation "
                + r.step().incarnation()
                + " survived to "
                + end
                + "); "
                + summary());
      }
    }
  }

  /** Answers released by commit so far (global mode). */
  public int releasedAnswers() {
    return releases.size();
  }

  /** For each incarnation of the partition, the position of its last event its log keeps. */
  private Map<Long, Long> survivingSteps(int partition) {
    Map<Long, Long> ends = new HashMap<>();
    long incarnation = 0;
    long position = 0;
    for (PartitionEvent e : durableLog(partition)) {
      switch (e) {
        case PartitionEvent.Voided v -> {
          continue;
        }
        case PartitionEvent.IncarnationStarted s -> {
          incarnation = s.incarnation();
          position = 1;
        }
        default -> position++;
      }
      ends.put(incarnation, position);
    }
    return ends;
  }

  @Override
  public void close() {
    try {
      if (mode == PersistenceMode.GLOBAL) {
        assertNoReleasedAnswerTakenBack();
      }
    } finally {
      for (Node n : nodes) {
        if (n.host != null) {
          n.host.stopped();
        }
      }
      pending.clear();
      if (stepThreads != null) {
        runReadyThreads(); // the discarded runs unwind and end
      }
    }
  }

  // ---------------------------------------------------------------- one partition's world

  /** A checkpoint: the events its state had applied, labelled with a journal sequence number. */
  private record StoredCheckpoint(long seqNr, List<PartitionEvent> content) {}

  /**
   * One row of the fake instance store: the record as of the events its checkpoint had applied
   * (rebuilt when read), or a deletion ({@code content} null).
   */
  private record RecordRow(List<PartitionEvent> content) {}

  private final class Node {
    final int id;

    // Storage: survives crashes. Sequence number n is journal.get(n - 1).
    final List<EventBatch> journal = new ArrayList<>();
    long deletedUpTo;
    StoredCheckpoint checkpoint;

    // The instance store: for each record key, its rows by checkpoint number.
    final Map<String, TreeMap<Long, RecordRow>> records = new TreeMap<>();
    // Bumped at every change of the rows, so that the harness's cached reads of them stay current.
    long recordsVersion;
    Map<String, StoredRecord> observed;
    long observedVersion;
    StoredCheckpoint observedCheckpoint;
    // States rebuilt from checkpoint contents (which never change), for the harness's reads only.
    final Map<List<PartitionEvent>, PartitionState> rebuiltContents = new IdentityHashMap<>();
    // The checkpoint being saved: its number, its records, what its state had applied when it was
    // captured, and the records not written yet.
    dev.netherite.engine.host.Checkpoint saving;
    List<PartitionEvent> savingContent;
    List<StoredRecord> savingLeft;
    long journalAtCapture;
    boolean writtenDuringCheckpoint;

    // The running incarnation; host is null while the partition is down.
    int incarnation;
    PartitionHost host;
    PersistenceMode hostMode;
    PartitionHost lastHost;
    EventBatch inFlight;
    boolean failNextWrite;
    boolean failNextCheckpoint;
    Instant restartAt;
    final Map<HostTimer, Instant> timerDue = new EnumMap<>(HostTimer.class);
    final Map<HostTimer, Duration> timerInterval = new EnumMap<>(HostTimer.class);

    Node(int id) {
      this.id = id;
      recover(this);
    }

    /** A crash with a write in flight: the journal may have stored it, or not. */
    void storeOrDropInFlight() {
      if (inFlight != null && random.nextBoolean()) {
        store(this, inFlight);
      }
      inFlight = null;
    }

    /** The events the live state has applied: what serializing it would capture. */
    List<PartitionEvent> appliedEvents() {
      List<PartitionEvent> applied = new ArrayList<>();
      journal.forEach(b -> applied.addAll(b.events()));
      if (mode != PersistenceMode.PERSIST_FIRST) {
        applied.addAll(host.unwrittenEvents());
      }
      return applied;
    }
  }

  private static void endSaving(Node n) {
    n.saving = null;
    n.savingContent = null;
    n.savingLeft = null;
    n.writtenDuringCheckpoint = false;
  }

  /**
   * Writes rows of the saving checkpoint. Each row must be of a record its content's state holds
   * (checked here for every row, rather than only for the rows reads happen to take).
   */
  private void writeRows(
      Node n, long number, List<StoredRecord> rows, List<PartitionEvent> content) {
    n.recordsVersion++;
    for (StoredRecord r : rows) {
      if (!r.deleted() && rebuiltContent(n, content).record(r.key()).deleted()) {
        throw noSuchRecord(r.key());
      }
      n.records
          .computeIfAbsent(r.key(), k -> new TreeMap<>())
          .put(number, new RecordRow(r.deleted() ? null : content));
    }
  }

  /**
   * After a commit, as the Cassandra store does: the rows a written record supersedes (below the
   * number) and every row of a deleted record go.
   */
  private static void collectGarbage(Node n, dev.netherite.engine.host.Checkpoint saved) {
    n.recordsVersion++;
    for (StoredRecord r : saved.records()) {
      if (!r.superseding()) {
        continue; // the store holds no earlier row of it
      }
      TreeMap<Long, RecordRow> rows = n.records.get(r.key());
      if (rows == null) {
        continue;
      }
      rows.headMap(saved.number(), r.deleted()).clear();
      if (rows.isEmpty()) {
        n.records.remove(r.key());
      }
    }
  }

  /**
   * The newest row at or below {@code number} of each record whose key {@code keys} takes, in key
   * order, rebuilt from what its state applied. The records are fresh objects, since the host that
   * reads them back changes them.
   */
  private List<StoredRecord> loadRecords(
      Node n, long number, java.util.function.Predicate<String> keys) {
    Map<List<PartitionEvent>, PartitionState> fresh = new IdentityHashMap<>();
    return loadRecords(n, number, keys, (m, c) -> fresh.computeIfAbsent(c, k -> rebuild(m.id, k)));
  }

  /** The state rebuilt from a checkpoint's content, shared by the harness's own reads only. */
  private PartitionState rebuiltContent(Node n, List<PartitionEvent> content) {
    if (n.rebuiltContents.size() > 32 && !n.rebuiltContents.containsKey(content)) {
      n.rebuiltContents.clear(); // contents no row refers to any more go
    }
    return n.rebuiltContents.computeIfAbsent(content, c -> rebuild(n.id, c));
  }

  /**
   * The committed records as the harness's own reads ({@link #status}, {@link #entity}) see them,
   * loaded once per version of the store and committed number, from states rebuilt once per
   * checkpoint content: the chaos loop asks for them after every action, and rebuilding a whole log
   * each time is what the simulation would otherwise spend its time on. These objects are only
   * read, never handed to a host.
   */
  private Map<String, StoredRecord> observedRecords(Node n) {
    long number = n.checkpoint.seqNr();
    if (n.observed == null
        || n.observedVersion != n.recordsVersion
        || n.observedCheckpoint != n.checkpoint) {
      Map<String, StoredRecord> observed = new HashMap<>();
      for (StoredRecord r : loadRecords(n, number, key -> true, this::rebuiltContent)) {
        observed.put(r.key(), r);
      }
      n.observed = observed;
      n.observedVersion = n.recordsVersion;
      n.observedCheckpoint = n.checkpoint;
    }
    return n.observed;
  }

  private List<StoredRecord> loadRecords(
      Node n,
      long number,
      java.util.function.Predicate<String> keys,
      java.util.function.BiFunction<Node, List<PartitionEvent>, PartitionState> rebuilt) {
    List<StoredRecord> loaded = new ArrayList<>();
    n.records.forEach(
        (key, rows) -> {
          if (!keys.test(key)) {
            return;
          }
          Map.Entry<Long, RecordRow> row = rows.floorEntry(number);
          if (row != null && row.getValue().content() != null) {
            PartitionState at = rebuilt.apply(n, row.getValue().content());
            StoredRecord r = at.record(key);
            if (r.deleted()) {
              throw noSuchRecord(key);
            }
            loaded.add(r);
          }
        });
    return loaded;
  }

  private static IllegalStateException noSuchRecord(String key) {
    return new IllegalStateException("a stored row of a record that did not exist: " + key);
  }

  /** The ports of one incarnation of one partition; calls from a stale incarnation do nothing. */
  private PartitionPorts portsOf(Node n, int incarnation) {
    Supplier<Boolean> live = () -> n.incarnation == incarnation;
    PartitionPorts.Journal journal =
        new PartitionPorts.Journal() {
          @Override
          public void write(EventBatch batch) {
            if (live.get()) {
              n.inFlight = batch;
              pending.add(new WriteDone(n.id, incarnation));
            }
          }

          @Override
          public void saveCheckpoint(dev.netherite.engine.host.Checkpoint checkpoint) {
            if (live.get()) {
              if (n.saving != null) {
                throw new AssertionError(
                    "partition " + n.id + " began a checkpoint while one was being saved");
              }
              if (checkpoint.number() != n.journal.size() || n.host.writeInFlight()) {
                throw new AssertionError(
                    "partition "
                        + n.id
                        + " captured a checkpoint that is not at its quiescent point: number="
                        + checkpoint.number()
                        + " durable="
                        + n.journal.size()
                        + " writeInFlight="
                        + n.host.writeInFlight());
              }
              // Captured now, at the quiescent point: what the state had applied is what its
              // serialization holds. The rows are written one piece of work at a time, in any
              // order, while the host runs on; then the snapshot.
              n.saving = checkpoint;
              n.savingContent = n.appliedEvents();
              n.savingLeft = new ArrayList<>(checkpoint.records());
              Collections.shuffle(n.savingLeft, random);
              n.journalAtCapture = n.journal.size();
              pending.add(new CheckpointRowsWrite(n.id, incarnation));
            }
          }

          @Override
          public void loadRecords(long number, List<String> keys) {
            if (live.get()) {
              pending.add(new RecordsLoad(n.id, incarnation, number, List.copyOf(keys)));
            }
          }

          @Override
          public void loadRecord(long number, String key) {
            if (live.get()) {
              recordLoads++;
              pending.add(new RecordLoad(n.id, incarnation, number, key));
            }
          }

          @Override
          public void scanRecords(
              long listId,
              long number,
              String keyPrefix,
              String afterKey,
              int limit,
              java.util.function.Predicate<StoredRecord> filter) {
            if (live.get()) {
              pending.add(
                  new InstancesScan(
                      n.id, incarnation, listId, number, keyPrefix, afterKey, limit, filter));
            }
          }

          @Override
          public void deleteUpTo(long seqNr) {
            if (live.get()) {
              n.deletedUpTo = Math.max(n.deletedUpTo, seqNr);
            }
          }

          @Override
          public long lastSequenceNr() {
            return n.journal.size();
          }
        };
    PartitionPorts.LocalWork work =
        new PartitionPorts.LocalWork() {
          @Override
          public OrchestrationRun loadRun(
              String instanceId,
              String executionId,
              String orchestrationName,
              List<HistoryEvent> history) {
            loads++;
            return executor.load(
                instanceId,
                executionId,
                orchestrationName,
                history,
                (r, stepNumber, result) -> stepReports.add(new StepReport(r, stepNumber, result)));
          }

          @Override
          public void step(
              OrchestrationRun run,
              long stepNumber,
              Instant stepTime,
              List<HistoryEvent> newEvents) {
            stepsRun++;
            run.step(stepNumber, stepTime, newEvents);
            StepReport report = awaitReport(run, stepNumber);
            if (live.get()) {
              pending.add(new StepDone(n.id, incarnation, run, stepNumber, report.result()));
            }
          }

          @Override
          public void startActivity(Effect.StartActivity activity) {
            if (live.get()) {
              pending.add(new RunActivity(n.id, incarnation, activity));
            }
          }

          @Override
          public void cancelActivities(String instanceId) {}

          @Override
          public void startEntityBatch(Effect.RunEntityBatch batch) {
            if (live.get()) {
              pending.add(new RunEntityBatch(n.id, incarnation, batch));
            }
          }
        };
    PartitionPorts.Clock clock =
        new PartitionPorts.Clock() {
          @Override
          public Instant now() {
            return now;
          }

          @Override
          public long nanoTime() {
            return Duration.between(START_TIME, now).toNanos();
          }
        };
    PartitionPorts.Timers timers =
        new PartitionPorts.Timers() {
          @Override
          public void startSingle(HostTimer timer, Duration delay) {
            if (live.get()) {
              n.timerDue.put(timer, now.plus(delay));
              n.timerInterval.remove(timer);
            }
          }

          @Override
          public void startPeriodic(HostTimer timer, Duration interval) {
            if (live.get()) {
              n.timerDue.put(timer, now.plus(interval));
              n.timerInterval.put(timer, interval);
            }
          }

          @Override
          public void cancel(HostTimer timer) {
            if (live.get()) {
              n.timerDue.remove(timer);
              n.timerInterval.remove(timer);
            }
          }
        };
    PartitionPorts.Log log =
        new PartitionPorts.Log() {
          @Override
          public void info(Supplier<String> message) {}

          @Override
          public void warn(String message) {}

          @Override
          public void error(String message, Throwable cause) {}
        };
    PartitionPorts.Metrics metrics =
        new TestPorts.NoMetrics() {
          @Override
          public void rolledBack() {
            if (live.get()) {
              rollbacks++;
            }
          }

          @Override
          public void recordsEvicted(int records) {
            if (live.get()) {
              recordsEvicted += records;
            }
          }

          @Override
          public void instanceEnded(InstanceView view) {
            if (live.get()) {
              endedCount.merge(view.instanceId(), 1, Integer::sum);
              endedViews.put(view.instanceId(), view);
            }
          }
        };
    Runnable stop =
        () -> {
          if (live.get()) {
            // Down until restartAt; everything of this incarnation dies with it.
            n.incarnation++;
            if (n.saving != null) {
              if (n.writtenDuringCheckpoint) {
                crashesWhileRowsWritten++;
              }
              endSaving(n);
            }
            n.host.stopped();
            n.host = null;
            n.inFlight = null;
            n.restartAt = now.plus(restartAfter);
            pending.removeIf(w -> w instanceof LocalWork l && l.partition() == n.id);
            parkedActivities.removeIf(a -> a.partition() == n.id);
          }
        };
    return new PartitionPorts(
        journal,
        (destination, link) -> {
          if (live.get()) {
            send(new Link(destination, link));
          }
        },
        work,
        clock,
        timers,
        log,
        metrics,
        stop);
  }

  private StepReport awaitReport(OrchestrationRun run, long stepNumber) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP_TIMEOUT_SECONDS);
    while (true) {
      long left = deadline - System.nanoTime();
      StepReport report;
      if (stepThreads != null) {
        // Only this thread runs the orchestration threads: once none is ready, none will report.
        runReadyThreads();
        report = stepReports.poll();
      } else {
        try {
          report = left <= 0 ? null : stepReports.poll(left, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted while waiting for a step", e);
        }
      }
      if (report == null) {
        throw new AssertionError(
            (stepThreads != null
                    ? "step's thread parked without reporting"
                    : "step did not report within " + STEP_TIMEOUT_SECONDS + "s")
                + ": instance="
                + run.instanceId()
                + " step="
                + stepNumber
                + " execution="
                + run.executionId());
      }
      if (report.run() == run && report.stepNumber() == stepNumber) {
        return report;
      }
      // A report of a run that was discarded in the middle of a step: nobody takes it, as in the
      // runtime.
    }
  }

  private ThreadFactory stepThreadFactory() {
    return stepThreads != null ? stepThreads : Thread.ofVirtual().factory();
  }

  /** Runs the orchestration threads that are ready, each until it parks or ends. */
  private void runReadyThreads() {
    for (Runnable r; (r = readyThreads.poll()) != null; ) {
      r.run();
    }
  }

  /**
   * Virtual threads that {@code scheduler} runs, through the JDK's constructor for that (the one
   * its own tests use; needs {@code --add-opens java.base/java.lang}, which the build passes), or
   * null when this JDK has none. The threads are the same as the JDK's default ones but for which
   * carrier mounts them.
   */
  private static ThreadFactory virtualThreadsScheduledBy(Executor scheduler) {
    try {
      java.lang.reflect.Constructor<?> builder =
          Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder")
              .getDeclaredConstructor(Executor.class);
      builder.setAccessible(true);
      return ((Thread.Builder.OfVirtual) builder.newInstance(scheduler)).factory();
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- work and the network

  private sealed interface Work {}

  /** Work that belongs to one incarnation of a partition and dies with it. */
  private sealed interface LocalWork extends Work {
    int partition();

    int incarnation();
  }

  private record WriteDone(int partition, int incarnation) implements LocalWork {}

  /** Writes some of the saving checkpoint's rows; the snapshot once none are left. */
  private record CheckpointRowsWrite(int partition, int incarnation) implements LocalWork {}

  private record RecordsLoad(int partition, int incarnation, long number, List<String> keys)
      implements LocalWork {}

  private record RecordLoad(int partition, int incarnation, long number, String key)
      implements LocalWork {}

  private record InstancesScan(
      int partition,
      int incarnation,
      long listId,
      long number,
      String keyPrefix,
      String afterKey,
      int limit,
      java.util.function.Predicate<StoredRecord> filter)
      implements LocalWork {}

  private record StepDone(
      int partition, int incarnation, OrchestrationRun run, long stepNumber, StepResult result)
      implements LocalWork {}

  private record RunActivity(int partition, int incarnation, Effect.StartActivity call)
      implements LocalWork {}

  private record RunEntityBatch(int partition, int incarnation, Effect.RunEntityBatch batch)
      implements LocalWork {}

  private record Link(int destination, PartitionLink message) implements Work {}

  private record ClientSend(String requestId, ClientRequest request) implements Work {}

  private record SweepSend(String requestId, int partition, PurgeFilter filter, String afterId)
      implements Work {}

  private record ClientReply(String requestId, ClientResponse response) implements Work {}

  private record StepReport(OrchestrationRun run, long stepNumber, StepResult result) {}

  private static final class ClientCall {
    final String requestId;
    final ClientRequest request;
    SweepSend sweep; // or a purge sweep
    Instant sentAt;
    ClientResponse response;
    final List<ClientResponse> replies = new ArrayList<>();

    ClientCall(String requestId, ClientRequest request) {
      this.requestId = requestId;
      this.request = request;
    }

    Work send() {
      return sweep != null ? sweep : new ClientSend(requestId, request);
    }
  }

  private void send(Work message) {
    if (dropRate > 0 && random.nextDouble() < dropRate) {
      dropped++;
      return;
    }
    pending.add(message);
    if (duplicateRate > 0 && random.nextDouble() < duplicateRate) {
      duplicated++;
      pending.add(message);
    }
  }

  private void execute(Work w) {
    if (w instanceof LocalWork l) {
      Node n = nodes[l.partition()];
      if (n.host == null || n.incarnation != l.incarnation()) {
        return;
      }
      executeLocal(n, l);
      return;
    }
    switch (w) {
      case Link l -> {
        Node n = nodes[l.destination()];
        if (n.host != null) {
          if (l.message() instanceof PartitionLink.Deliver d
              && d.dependsOn() != null
              && n.hostMode != PersistenceMode.GLOBAL) {
            // A host that does not speculate applies it as if committed and cannot take it back
            // when its origin loses the step: the harness must run every partition in one mode.
            throw new IllegalStateException(
                "partition "
                    + n.id
                    + " runs in mode "
                    + n.hostMode
                    + " and got a speculative delivery from partition "
                    + d.origin()
                    + ": the simulation runs its partitions in different persistence modes");
          }
          n.host.input(l.message());
        }
      }
      case ClientSend c -> {
        Node n = nodes[placement.partitionOf(c.request().targetId())];
        if (n.host != null) {
          n.host.input(clientCommand(n, c.requestId(), c.request()));
        }
      }
      case SweepSend s -> {
        Node n = nodes[s.partition()];
        if (n.host != null) {
          n.host.input(
              new HostInput.PurgeSweep(
                  s.requestId(),
                  s.filter(),
                  s.afterId(),
                  response -> {
                    noteRelease(n, s.requestId(), response);
                    send(new ClientReply(s.requestId(), response));
                  }));
        }
      }
      case ClientReply r -> {
        ClientCall call = calls.get(r.requestId());
        if (r.response() instanceof ClientResponse.Rejected rj
            && rj.reason() == ClientResponse.Reason.ROLLED_BACK) {
          rolledBackAnswers++;
          if (call != null && call.response == null) {
            call.sentAt = now.minus(clientRetryAfter); // retried at once, with the same id
          }
          return;
        }
        if (call != null) {
          call.replies.add(r.response());
          if (call.response == null) {
            call.response = r.response();
          }
        }
      }
      default -> throw new IllegalStateException("unexpected work " + w);
    }
  }

  private void executeLocal(Node n, LocalWork w) {
    PartitionHost host = n.host;
    switch (w) {
      case WriteDone d -> {
        EventBatch batch = n.inFlight;
        n.inFlight = null;
        if (n.failNextWrite) {
          n.failNextWrite = false;
          failedWrites++;
          // The journal may have stored the batch although it reports the write as failed.
          if (random.nextBoolean()) {
            store(n, batch);
          }
          host.onWriteFailed(new IOException("simulated journal failure"), n.journal.size() + 1);
        } else {
          store(n, batch);
          host.onWritten();
        }
      }
      case CheckpointRowsWrite c -> {
        dev.netherite.engine.host.Checkpoint saving = n.saving;
        List<PartitionEvent> content = n.savingContent;
        if (n.journal.size() > n.journalAtCapture) {
          n.writtenDuringCheckpoint = true;
        }
        if (n.failNextCheckpoint) {
          n.failNextCheckpoint = false;
          failedCheckpoints++;
          // The rows written so far stay and the snapshot is not written: the store now holds
          // rows above the committed number, which no reader may take as current.
          if (random.nextBoolean()) {
            endSaving(n);
            host.onCheckpointFailed(new IOException("simulated checkpoint failure"));
          } else {
            crashes++;
            recover(n);
          }
          return;
        }
        int k = Math.min(n.savingLeft.size(), 1 + random.nextInt(3));
        writeRows(n, saving.number(), n.savingLeft.subList(0, k), content);
        n.savingLeft.subList(0, k).clear();
        if (!n.savingLeft.isEmpty()) {
          if (n.writtenDuringCheckpoint) {
            rowsWrittenWithInputGoingOn++;
          }
          pending.add(c);
          return;
        }
        checkpoints++;
        n.checkpoint = new StoredCheckpoint(saving.number(), content);
        collectGarbage(n, saving);
        endSaving(n);
        host.onCheckpointSaved(saving.number());
      }
      case RecordsLoad l -> {
        java.util.Set<String> wanted = new java.util.HashSet<>(l.keys());
        host.onRecordsLoaded(loadRecords(n, l.number(), wanted::contains));
      }
      case RecordLoad l ->
          host.onRecordLoaded(
              l.key(),
              loadRecords(n, l.number(), l.key()::equals).stream().findFirst().orElse(null));
      case InstancesScan scan -> {
        List<StoredRecord> matching =
            loadRecords(
                    n,
                    scan.number(),
                    key ->
                        key.startsWith(scan.keyPrefix())
                            && (scan.afterKey() == null || key.compareTo(scan.afterKey()) > 0))
                .stream()
                .filter(scan.filter())
                .sorted(java.util.Comparator.comparing(StoredRecord::key))
                .toList();
        host.onRecordsScanned(
            scan.listId(),
            matching.subList(0, Math.min(scan.limit(), matching.size())),
            matching.size() > scan.limit());
      }
      case StepDone s ->
          host.input(new HostInput.StepFinished(s.run(), s.stepNumber(), s.result()));
      case RunActivity a -> {
        if (!runActivities) {
          parkedActivities.add(a);
          return;
        }
        Effect.StartActivity call = a.call();
        activityRuns.merge(call.activityName(), 1, Integer::sum);
        ActivityExecutor.Outcome outcome =
            new ActivityExecutor(workflows, converter)
                .run(call.instanceId(), call.taskId(), call.activityName(), call.input());
        host.input(
            new HostInput.ActivityFinished(
                call.instanceId(),
                call.executionId(),
                call.taskId(),
                outcome.result(),
                outcome.failure()));
      }
      case RunEntityBatch b -> {
        entityBatchesRun++;
        EntityBatchResult result = new EntityExecutor(workflows, converter).run(b.batch());
        host.input(
            new HostInput.EntityBatchFinished(
                b.batch().entityId(), b.batch().batchNumber(), result));
      }
    }
  }
}
