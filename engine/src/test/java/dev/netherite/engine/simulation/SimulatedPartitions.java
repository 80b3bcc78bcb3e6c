package dev.netherite.engine.simulation;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.activity.ActivityExecutor;
import dev.netherite.engine.entity.EntityExecutor;
import dev.netherite.engine.orchestration.InstanceCache;
import dev.netherite.engine.orchestration.OrchestrationExecutor;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.Outbox;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.StepResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Test harness: hosts {@code N} {@link PartitionState}s on the test's thread, the way the partition
 * actor of {@code sharding/} hosts one, with everything around them simulated and driven by one
 * seeded {@link Random}.
 *
 * <ul>
 *   <li><b>Commit log.</b> Each partition has a log of events. An event is applied at once
 *       (pipelining) and its {@link Effect.Immediate} effects run at once; its {@link
 *       Effect.AfterDurable} effects (client replies, {@code OutboxReady}, {@code
 *       AcknowledgeOrigin}, {@code InstanceEnded}) are released only when the simulated write that
 *       covers the event completes. At most one write is in flight per partition; what is appended
 *       meanwhile goes into the next one (group commit).
 *   <li><b>Crash.</b> {@link #crash} discards the log's non-durable suffix, every deferred effect
 *       and every piece of local work in flight (steps, activities, writes), replays the durable
 *       log into a fresh state with all effects discarded, and runs {@link
 *       PartitionState#recoveryEffects()}.
 *   <li><b>Steps.</b> A real {@link OrchestrationExecutor} (virtual threads) with an {@link
 *       InstanceCache} per partition: a cached run continues when it can, otherwise one is loaded
 *       from the history. The harness waits for the step's result (with a timeout) and later feeds
 *       it back as a {@code StepCompleted} event.
 *   <li><b>Activities</b> run synchronously from the {@link Workflows} registry, some time after
 *       they were started.
 *   <li><b>Time</b> is a simulated clock: it moves only when a test advances it or when nothing is
 *       left to do but wait for the next timer, resend or client retry.
 *   <li><b>Network.</b> Outbox deliveries, acknowledgements, client requests and replies go through
 *       a simulated network that loses, duplicates and reorders them with the configured rates.
 *       Senders resend unacknowledged durable outbox entries after {@code resendAfter}; clients
 *       retry requests, with the same request id, after {@code clientRetryAfter}.
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
  private final Host[] hosts;
  private final List<Work> pending = new ArrayList<>();

  /**
   * Activities started while {@link #runActivities} is off; {@link #completeActivity} answers them.
   */
  private final List<RunActivity> parkedActivities = new ArrayList<>();

  private final BlockingQueue<StepReport> stepReports = new LinkedBlockingQueue<>();
  private Workflows workflows;
  private int entityBatchesRun;
  private OrchestrationExecutor executor;
  private Instant now = START_TIME;

  // Settings; change them between actions at will.
  private double dropRate;
  private double duplicateRate;
  private int cacheCapacity = 64;
  private int requestLogCapacity = 1000;
  private int maxMessagesPerDelivery = 4;
  private Duration resendAfter = Duration.ofMillis(500);
  private Duration clientRetryAfter = Duration.ofSeconds(2);
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
  private long actions;
  private int dropped;
  private int duplicated;

  public SimulatedPartitions(int partitionCount, Workflows workflows, long seed) {
    this.partitionCount = partitionCount;
    this.placement = new PartitionPlacement(partitionCount);
    this.random = new Random(seed);
    this.workflows = workflows;
    this.executor = new OrchestrationExecutor(workflows, converter, Thread.ofVirtual().factory());
    this.hosts = new Host[partitionCount];
    for (int p = 0; p < partitionCount; p++) {
      hosts[p] = new Host(p);
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

  /** The capacity of each partition's instance cache; applies to caches created after the call. */
  public SimulatedPartitions cacheCapacity(int capacity) {
    this.cacheCapacity = capacity;
    for (Host h : hosts) {
      h.cache.discardAll();
      h.cache = new InstanceCache(capacity);
    }
    return this;
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
   * Deploys other code: the executor is replaced and every cached run is discarded, so that the
   * next step of each instance replays its history with the new code.
   */
  public void deploy(Workflows newWorkflows) {
    this.workflows = newWorkflows;
    this.executor =
        new OrchestrationExecutor(newWorkflows, converter, Thread.ofVirtual().factory());
    for (Host h : hosts) {
      h.cache.discardAll();
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
   * Appends a client request to its partition's log at once, bypassing the network: for tests that
   * need requests applied in a given order. The reply still waits for durability.
   */
  public String submitNow(ClientRequest request) {
    ClientCall call = newCall(request);
    Host h = hosts[placement.partitionOf(request.targetId())];
    append(h, new PartitionEvent.ClientRequestReceived(call.requestId, request, now));
    return call.requestId;
  }

  /** Sends a request again with the id of an earlier one, as a client that timed out does. */
  public void resubmit(String requestId) {
    ClientCall call = calls.get(requestId);
    send(new ClientSend(call.requestId, call.request));
  }

  private ClientCall newCall(ClientRequest request) {
    ClientCall call = new ClientCall("req-" + (++requestCounter), request);
    call.sentAt = now;
    calls.put(call.requestId, call);
    return call;
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

  /** The instance as its partition's live state has it, with history; null if there is none. */
  public InstanceView status(String instanceId) {
    ClientResponse r = host(instanceId).state.query(new ClientQuery.GetStatus(instanceId, true));
    return ((ClientResponse.Status) r).view();
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
   * Runs due timers, resends and client retries, then one piece of pending work chosen at random.
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

  /** Runs until nothing is pending and nothing waits on the clock (timers, resends, retries). */
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

  /** Whether nothing is pending, every log is durable and every outbox is acknowledged. */
  public boolean quiescent() {
    if (!pending.isEmpty()) {
      return false;
    }
    for (Host h : hosts) {
      if (h.durable != h.log.size()
          || h.writeInFlight
          || h.state.outbox().unacknowledgedCount() > 0) {
        return false;
      }
    }
    return true;
  }

  /** The earliest time at which a timer, a resend or a client retry is due; null when none. */
  public Instant nextDeadline() {
    Instant next = null;
    for (Host h : hosts) {
      next = min(next, h.state.timers().nextDue());
      for (int destination : h.state.outbox().pendingDestinations()) {
        Instant last = h.lastSent.get(destination);
        next = min(next, last == null ? now : last.plus(resendAfter));
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
    for (Host h : hosts) {
      Instant due = h.state.timers().nextDue();
      if (due != null && !due.isAfter(now)) {
        append(h, new PartitionEvent.TimersFired(now));
      }
    }
    for (Host h : hosts) {
      for (int destination : h.state.outbox().pendingDestinations()) {
        Instant last = h.lastSent.get(destination);
        if (last == null || !now.isBefore(last.plus(resendAfter))) {
          // As the actor: resend from the first unacknowledged entry, only what is known durable.
          h.sentUpTo.put(destination, h.state.outbox().acknowledged(destination));
          sendOutbox(h, destination);
        }
      }
    }
    for (ClientCall c : calls.values()) {
      if (c.response == null && !now.isBefore(c.sentAt.plus(clientRetryAfter))) {
        c.sentAt = now;
        send(new ClientSend(c.requestId, c.request));
      }
    }
  }

  // ---------------------------------------------------------------- crashes

  /**
   * Crashes a partition: its non-durable log suffix and all its local work are lost; it recovers at
   * once.
   */
  public void crash(int partition) {
    Host h = hosts[partition];
    crashes++;
    h.incarnation++;
    h.log = new ArrayList<>(h.log.subList(0, h.durable));
    h.writeInFlight = false;
    h.deferred.clear();
    h.cache.discardAll();
    h.cache = new InstanceCache(cacheCapacity);
    pending.removeIf(w -> w instanceof LocalWork l && l.partition() == partition);
    parkedActivities.removeIf(a -> a.partition() == partition);
    h.durableOutbox.clear();
    h.sentUpTo.clear();
    h.lastSent.clear();
    h.state = rebuild(partition, h.log);
    runEffects(h, h.state.recoveryEffects(), true);
  }

  /** A fresh state with {@code log} applied, effects discarded, as recovery does. */
  public PartitionState rebuild(int partition, List<PartitionEvent> log) {
    PartitionState fresh = new PartitionState(partition, partitionCount, requestLogCapacity);
    for (PartitionEvent e : log) {
      fresh.apply(e);
    }
    return fresh;
  }

  // ---------------------------------------------------------------- observations

  public PartitionState state(int partition) {
    return hosts[partition].state;
  }

  public List<PartitionEvent> log(int partition) {
    return List.copyOf(hosts[partition].log);
  }

  public List<PartitionEvent> durableLog(int partition) {
    Host h = hosts[partition];
    return List.copyOf(h.log.subList(0, h.durable));
  }

  /**
   * How many times the end of each instance was made visible (InstanceEnded released after
   * durability).
   */
  public Map<String, Integer> endedCount() {
    return endedCount;
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
      PartitionState fresh = new PartitionState(p, partitionCount, requestLogCapacity);
      for (PartitionEvent e : durableLog(p)) {
        for (Effect effect : fresh.apply(e)) {
          if (effect instanceof Effect.RunStep s
              && s.newEvents().stream().anyMatch(h -> h instanceof HistoryEvent.ExecutionStarted)) {
            creations.merge(s.instanceId(), 1, Integer::sum);
          }
        }
      }
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
        .append(duplicated);
    for (Host h : hosts) {
      out.append(" | p")
          .append(h.id)
          .append(" log=")
          .append(h.log.size())
          .append(" durable=")
          .append(h.durable)
          .append(" unacked=")
          .append(h.state.outbox().unacknowledgedCount())
          .append(" statuses=")
          .append(h.state.statusCounts());
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
    Host h = host(instanceId);
    String executionId = h.state.instance(instanceId).executionId();
    parkedActivities.removeIf(
        a -> a.call().instanceId().equals(instanceId) && a.call().taskId() == taskId);
    append(
        h,
        new PartitionEvent.ActivityCompleted(
            instanceId, executionId, taskId, converter.serialize(result), failure, now));
  }

  @Override
  public void close() {
    for (Host h : hosts) {
      h.cache.discardAll();
    }
    pending.clear();
  }

  private Host host(String instanceId) {
    return hosts[placement.partitionOf(instanceId)];
  }

  // ---------------------------------------------------------------- the host of one partition

  private final class Host {
    final int id;
    int incarnation;
    PartitionState state;
    List<PartitionEvent> log = new ArrayList<>();
    int durable;
    boolean writeInFlight;

    /**
     * Effects and callbacks that wait until {@code durable >= required}, in the order they were
     * registered.
     */
    final ArrayDeque<Deferred> deferred = new ArrayDeque<>();

    InstanceCache cache;
    final Map<Integer, Long> durableOutbox = new HashMap<>();
    final Map<Integer, Long> sentUpTo = new HashMap<>();
    final Map<Integer, Instant> lastSent = new HashMap<>();

    Host(int id) {
      this.id = id;
      this.state = new PartitionState(id, partitionCount, requestLogCapacity);
      this.cache = new InstanceCache(cacheCapacity);
    }
  }

  private record Deferred(int required, Runnable action) {}

  private void append(Host h, PartitionEvent event) {
    h.log.add(event);
    List<Effect> effects = h.state.apply(event);
    runEffects(h, effects, false);
    flush(h);
  }

  private void whenDurable(Host h, Runnable action) {
    if (h.durable >= h.log.size()) {
      action.run();
    } else {
      h.deferred.add(new Deferred(h.log.size(), action));
    }
  }

  private void flush(Host h) {
    if (!h.writeInFlight && h.durable < h.log.size()) {
      h.writeInFlight = true;
      pending.add(new WriteDone(h.id, h.incarnation, h.log.size()));
    }
  }

  private void runEffects(Host h, List<Effect> effects, boolean durable) {
    for (Effect effect : effects) {
      switch (effect) {
        case Effect.Immediate immediate -> runImmediate(h, immediate);
        case Effect.AfterDurable after -> {
          if (durable) {
            runAfterDurable(h, after);
          } else {
            h.deferred.add(new Deferred(h.log.size(), () -> runAfterDurable(h, after)));
          }
        }
      }
    }
  }

  private void runImmediate(Host h, Effect.Immediate effect) {
    switch (effect) {
      case Effect.RunStep s -> runStep(h, s);
      case Effect.StartActivity a -> pending.add(new RunActivity(h.id, h.incarnation, a));
      case Effect.RunEntityBatch b -> pending.add(new RunEntityBatch(h.id, h.incarnation, b));
      case Effect.TimersChanged t -> {} // the clock tick polls the timer table
      case Effect.DiscardExecutor d -> h.cache.discard(d.instanceId());
    }
  }

  private void runStep(Host h, Effect.RunStep s) {
    OrchestrationRun run = h.cache.get(s.instanceId());
    if (run == null || !run.canContinueWith(s.executionId(), s.stepNumber())) {
      if (run != null) {
        h.cache.discard(s.instanceId());
      }
      loads++;
      run =
          executor.load(
              s.instanceId(),
              s.executionId(),
              s.orchestrationName(),
              s.history().subList(0, s.historySize()),
              (r, stepNumber, result) -> stepReports.add(new StepReport(r, stepNumber, result)));
      h.cache.put(run);
    }
    stepsRun++;
    run.step(s.stepNumber(), s.stepTime(), s.newEvents());
    StepReport report = awaitReport(run, s);
    pending.add(new StepDone(h.id, h.incarnation, run, s.stepNumber(), report.result()));
  }

  private StepReport awaitReport(OrchestrationRun run, Effect.RunStep s) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP_TIMEOUT_SECONDS);
    while (true) {
      long left = deadline - System.nanoTime();
      StepReport report;
      try {
        report = left <= 0 ? null : stepReports.poll(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for a step", e);
      }
      if (report == null) {
        throw new AssertionError(
            "step did not report within "
                + STEP_TIMEOUT_SECONDS
                + "s: instance="
                + s.instanceId()
                + " step="
                + s.stepNumber()
                + " execution="
                + s.executionId());
      }
      if (report.run() == run && report.stepNumber() == s.stepNumber()) {
        return report;
      }
      // A report of a run that was discarded in the middle of a step: nobody takes it, as in the
      // actor.
    }
  }

  private void runAfterDurable(Host h, Effect.AfterDurable effect) {
    switch (effect) {
      case Effect.ReplyToClient r -> send(new ClientReply(r.requestId(), r.response()));
      case Effect.OutboxReady o -> {
        h.durableOutbox.merge(o.destination(), o.upToSeq(), Math::max);
        sendOutbox(h, o.destination());
      }
      case Effect.AcknowledgeOrigin a -> send(new Ack(h.id, a.origin(), a.upTo()));
      case Effect.InstanceEnded e -> {
        endedCount.merge(e.view().instanceId(), 1, Integer::sum);
        endedViews.put(e.view().instanceId(), e.view());
      }
    }
  }

  private void sendOutbox(Host h, int destination) {
    Outbox outbox = h.state.outbox();
    long durable = h.durableOutbox.getOrDefault(destination, 0L);
    long sent =
        Math.max(h.sentUpTo.getOrDefault(destination, 0L), outbox.acknowledged(destination));
    while (sent < durable) {
      List<Outbox.Entry> entries =
          outbox.entries(destination, sent, durable, maxMessagesPerDelivery);
      if (entries.isEmpty()) {
        break;
      }
      List<PartitionMessage> messages = new ArrayList<>(entries.size());
      entries.forEach(e -> messages.add(e.message()));
      send(new Deliver(h.id, destination, entries.get(0).seq(), messages));
      sent = entries.get(entries.size() - 1).seq();
    }
    h.sentUpTo.put(destination, sent);
    h.lastSent.put(destination, now);
  }

  // ---------------------------------------------------------------- work and the network

  private sealed interface Work {}

  /** Work that belongs to one incarnation of a partition and dies with it. */
  private sealed interface LocalWork extends Work {
    int partition();
  }

  private record WriteDone(int partition, int incarnation, int upTo) implements LocalWork {}

  private record StepDone(
      int partition, int incarnation, OrchestrationRun run, long stepNumber, StepResult result)
      implements LocalWork {}

  private record RunActivity(int partition, int incarnation, Effect.StartActivity call)
      implements LocalWork {}

  private record RunEntityBatch(int partition, int incarnation, Effect.RunEntityBatch batch)
      implements LocalWork {}

  private record Deliver(int from, int to, long firstSeq, List<PartitionMessage> messages)
      implements Work {}

  private record Ack(int from, int to, long upTo) implements Work {}

  private record ClientSend(String requestId, ClientRequest request) implements Work {}

  private record ClientReply(String requestId, ClientResponse response) implements Work {}

  private record StepReport(OrchestrationRun run, long stepNumber, StepResult result) {}

  private static final class ClientCall {
    final String requestId;
    final ClientRequest request;
    Instant sentAt;
    ClientResponse response;
    final List<ClientResponse> replies = new ArrayList<>();

    ClientCall(String requestId, ClientRequest request) {
      this.requestId = requestId;
      this.request = request;
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
    switch (w) {
      case WriteDone d -> {
        Host h = hosts[d.partition()];
        if (h.incarnation != d.incarnation()) {
          return;
        }
        h.writeInFlight = false;
        h.durable = d.upTo();
        while (!h.deferred.isEmpty() && h.deferred.peekFirst().required() <= h.durable) {
          h.deferred.pollFirst().action().run();
        }
        flush(h);
      }
      case StepDone s -> {
        Host h = hosts[s.partition()];
        if (h.incarnation != s.incarnation()) {
          return;
        }
        OrchestrationRun run = s.run();
        run.markIdle();
        if (s.result().outcome() != null && h.cache.get(run.instanceId()) == run) {
          h.cache.discard(run.instanceId());
        }
        append(
            h,
            new PartitionEvent.StepCompleted(
                run.instanceId(), run.executionId(), s.stepNumber(), s.result(), now));
      }
      case RunActivity a -> {
        Host h = hosts[a.partition()];
        if (h.incarnation != a.incarnation()) {
          return;
        }
        if (!runActivities) {
          parkedActivities.add(a);
          return;
        }
        Effect.StartActivity call = a.call();
        activityRuns.merge(call.activityName(), 1, Integer::sum);
        ActivityExecutor.Outcome outcome =
            new ActivityExecutor(workflows, converter)
                .run(call.instanceId(), call.taskId(), call.activityName(), call.input());
        append(
            h,
            new PartitionEvent.ActivityCompleted(
                call.instanceId(),
                call.executionId(),
                call.taskId(),
                outcome.result(),
                outcome.failure(),
                now));
      }
      case RunEntityBatch b -> {
        Host h = hosts[b.partition()];
        if (h.incarnation != b.incarnation()) {
          return;
        }
        entityBatchesRun++;
        EntityBatchResult result = new EntityExecutor(workflows, converter).run(b.batch());
        append(
            h,
            new PartitionEvent.EntityBatchCompleted(
                b.batch().entityId(), b.batch().batchNumber(), result, now));
      }
      case Deliver d -> onDeliver(hosts[d.to()], d);
      case Ack a -> {
        Host h = hosts[a.to()];
        if (a.upTo() > h.state.outbox().acknowledged(a.from())) {
          append(h, new PartitionEvent.DeliveryAcknowledged(a.from(), a.upTo(), now));
        }
      }
      case ClientSend c ->
          append(
              hosts[placement.partitionOf(c.request().targetId())],
              new PartitionEvent.ClientRequestReceived(c.requestId(), c.request(), now));
      case ClientReply r -> {
        ClientCall call = calls.get(r.requestId());
        if (call != null) {
          call.replies.add(r.response());
          if (call.response == null) {
            call.response = r.response();
          }
        }
      }
    }
  }

  /**
   * As the actor: drop what was applied already and answer duplicates and gaps with an
   * acknowledgement once durable. Half of the deliveries skip this filter, so that the state
   * machine's own dedup is exercised as well.
   */
  private void onDeliver(Host h, Deliver d) {
    if (random.nextBoolean()) {
      append(h, new PartitionEvent.MessagesReceived(d.from(), d.firstSeq(), d.messages(), now));
      return;
    }
    List<PartitionMessage> messages =
        h.state.dedup().applicable(d.from(), d.firstSeq(), d.messages());
    long applied = h.state.dedup().lastApplied(d.from());
    if (messages.isEmpty()) {
      whenDurable(h, () -> send(new Ack(h.id, d.from(), applied)));
      return;
    }
    append(h, new PartitionEvent.MessagesReceived(d.from(), applied + 1, messages, now));
  }
}
