package dev.netherite.engine.host;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.StoredRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Ports for the host tests that step one {@link PartitionHost} by hand: nothing happens on its own.
 * Every write, checkpoint, read, message and wake-up the host asks for is recorded, and completes
 * only when the test says so, so that a test chooses exactly what happens between a request and its
 * answer. Several hosts may share one {@code TestPorts}, as the hosts of one partition share its
 * journal one after another.
 */
public final class TestPorts {
  final RecordingJournal journal;
  final List<PartitionLink> sent = new ArrayList<>();
  final ManualClock clock;
  final RecordingTimers timers = new RecordingTimers();
  final RecordingLog log;

  /** How often a host asked to be stopped. */
  int stops;

  /**
   * An error logged or a stop fails the test at once, where it happens: for tests in which the host
   * must run on throughout.
   */
  private final boolean strict;

  private TestPorts(Builder builder) {
    this.journal = new RecordingJournal(builder);
    this.clock = new ManualClock(builder.start);
    this.log = new RecordingLog(builder.strict);
    this.strict = builder.strict;
  }

  static Builder builder() {
    return new Builder();
  }

  static final class Builder {
    private Instant start = Instant.EPOCH;
    private boolean strict;
    private boolean readsRecords;
    private boolean scansRecords;
    private ToLongFunction<PartitionEvent> sizes;

    /** The clock's time until the test moves it (the epoch unless given). */
    Builder startingAt(Instant start) {
      this.start = start;
      return this;
    }

    /** See {@link TestPorts#strict}. */
    Builder strict() {
      this.strict = true;
      return this;
    }

    /**
     * The host may read single records ({@link RecordingJournal#recordLoads}); otherwise a read
     * fails the test, since the host read what it should have held.
     */
    Builder readsRecords() {
      this.readsRecords = true;
      return this;
    }

    /** The host may scan the records ({@link RecordingJournal#scans}); otherwise a scan fails. */
    Builder scansRecords() {
      this.scansRecords = true;
      return this;
    }

    /** A journal event's size in bytes, so that a test chooses sizes exactly. */
    Builder sizes(ToLongFunction<PartitionEvent> sizes) {
      this.sizes = sizes;
      return this;
    }

    TestPorts build() {
      return new TestPorts(this);
    }
  }

  /** A host of partition 0 over these ports. */
  PartitionHost host(HostSettings settings) {
    return new PartitionHost(0, settings, ports());
  }

  /** As {@link #host(HostSettings)}, sharing what earlier hosts learned of refused writes. */
  PartitionHost host(HostSettings settings, CommitLogFaults faults) {
    return new PartitionHost(0, settings, ports(), faults);
  }

  PartitionPorts ports() {
    return new PartitionPorts(
        journal,
        (destination, message) -> sent.add(message),
        NO_ORCHESTRATIONS,
        clock,
        timers,
        log,
        new NoMetrics(),
        () -> {
          if (strict) {
            throw new AssertionError("the host stopped");
          }
          stops++;
        });
  }

  /** Settings for {@code mode}; see {@link SettingsBuilder}. */
  static SettingsBuilder settings(PersistenceMode mode) {
    return new SettingsBuilder(mode);
  }

  /**
   * Host settings by name, so that a test states only what it depends on: one partition, small
   * caches and logs, no linger, no checkpoint by event count unless asked, defaults for the rest.
   */
  static final class SettingsBuilder {
    private final PersistenceMode mode;
    private int partitionCount = 1;
    private long checkpointAfterEvents = 1_000_000;
    private long checkpointAfterBytes = HostSettings.DEFAULT_CHECKPOINT_AFTER_BYTES;
    private Duration checkpointAfterIdle = Duration.ofSeconds(30);
    private boolean deleteCoveredEvents = true;
    private long maxBatchBytes = HostSettings.DEFAULT_MAX_BATCH_BYTES;
    private int residentEndedInstances = HostSettings.DEFAULT_RESIDENT_ENDED_INSTANCES;
    private int purgeBatchSize = HostSettings.DEFAULT_PURGE_BATCH_SIZE;
    private Duration retentionCompleted;
    private Duration retentionCheckInterval = HostSettings.DEFAULT_RETENTION_CHECK_INTERVAL;

    private SettingsBuilder(PersistenceMode mode) {
      this.mode = mode;
    }

    SettingsBuilder partitionCount(int partitionCount) {
      this.partitionCount = partitionCount;
      return this;
    }

    SettingsBuilder checkpointAfterEvents(long events) {
      this.checkpointAfterEvents = events;
      return this;
    }

    SettingsBuilder checkpointAfterBytes(long bytes) {
      this.checkpointAfterBytes = bytes;
      return this;
    }

    SettingsBuilder checkpointAfterIdle(Duration idle) {
      this.checkpointAfterIdle = idle;
      return this;
    }

    SettingsBuilder keepCoveredEvents() {
      this.deleteCoveredEvents = false;
      return this;
    }

    SettingsBuilder maxBatchBytes(long bytes) {
      this.maxBatchBytes = bytes;
      return this;
    }

    SettingsBuilder residentEndedInstances(int instances) {
      this.residentEndedInstances = instances;
      return this;
    }

    SettingsBuilder purgeBatchSize(int size) {
      this.purgeBatchSize = size;
      return this;
    }

    SettingsBuilder retentionCompleted(Duration retention) {
      this.retentionCompleted = retention;
      return this;
    }

    SettingsBuilder retentionCheckInterval(Duration interval) {
      this.retentionCheckInterval = interval;
      return this;
    }

    HostSettings build() {
      return new HostSettings(
          partitionCount,
          mode,
          2000,
          20_000,
          Duration.ZERO,
          checkpointAfterEvents,
          checkpointAfterBytes,
          checkpointAfterIdle,
          deleteCoveredEvents,
          10,
          100,
          100,
          Duration.ofSeconds(1),
          10,
          maxBatchBytes,
          residentEndedInstances,
          purgeBatchSize,
          retentionCompleted,
          retentionCheckInterval,
          RecordBudget.UNLIMITED,
          HostSettings.DEFAULT_MAX_UNCONFIRMED);
    }
  }

  /**
   * A journal and instance store that answer only when the test says: a write stays in flight until
   * {@link #complete} or {@link #fail}, a checkpoint is being stored until {@link
   * #commitCheckpoint}, reads and scans wait in their queues for the test to answer them.
   */
  static final class RecordingJournal implements PartitionPorts.Journal {
    /** Every batch the host asked to write, in order, whatever became of it. */
    final List<EventBatch> writes = new ArrayList<>();

    /** The batches the test completed: the log a new host would recover. */
    final List<EventBatch> durable = new ArrayList<>();

    /** The write the host waits for, or null. */
    EventBatch inFlight;

    /** Every checkpoint the host began, in order. */
    final List<Checkpoint> checkpoints = new ArrayList<>();

    /** The checkpoint being stored, or null. */
    Checkpoint saving;

    /** The stored rows of the committed checkpoints: key, then checkpoint number, then deleted. */
    final Map<String, TreeMap<Long, Boolean>> rows = new TreeMap<>();

    /** The keys of the single records the host asked for, oldest first. */
    final ArrayDeque<String> recordLoads = new ArrayDeque<>();

    final ArrayDeque<Scan> scans = new ArrayDeque<>();

    /** What the host asked to delete up to, in order. */
    final List<Long> deletions = new ArrayList<>();

    private final boolean readsRecords;
    private final boolean scansRecords;
    private final ToLongFunction<PartitionEvent> sizes;

    private RecordingJournal(Builder builder) {
      this.readsRecords = builder.readsRecords;
      this.scansRecords = builder.scansRecords;
      this.sizes = builder.sizes;
    }

    record Scan(
        long listId,
        long number,
        String keyPrefix,
        String afterKey,
        int limit,
        Predicate<StoredRecord> filter) {}

    @Override
    public void write(EventBatch batch) {
      writes.add(batch);
      inFlight = batch;
    }

    @Override
    public long sizeOf(PartitionEvent event) {
      return sizes == null ? PartitionPorts.Journal.super.sizeOf(event) : sizes.applyAsLong(event);
    }

    @Override
    public void saveCheckpoint(Checkpoint checkpoint) {
      checkpoints.add(checkpoint);
      saving = checkpoint;
    }

    @Override
    public void loadRecords(long number, List<String> keys) {
      throw new AssertionError("nothing to load: the host starts empty");
    }

    @Override
    public void loadRecord(long number, String key) {
      if (!readsRecords) {
        throw new AssertionError("nothing to load: no instance left memory, key=" + key);
      }
      recordLoads.add(key);
    }

    @Override
    public void scanRecords(
        long listId,
        long number,
        String keyPrefix,
        String afterKey,
        int limit,
        Predicate<StoredRecord> filter) {
      if (!scansRecords) {
        throw new AssertionError("nothing to scan: no instance left memory");
      }
      scans.add(new Scan(listId, number, keyPrefix, afterKey, limit, filter));
    }

    @Override
    public void deleteUpTo(long seqNr) {
      deletions.add(seqNr);
    }

    /** The durable batches: a checkpoint is labelled with their number. */
    @Override
    public long lastSequenceNr() {
      return durable.size();
    }

    /** The write in flight is durable. */
    void complete(PartitionHost host) {
      if (inFlight == null) {
        throw new AssertionError("no write in flight");
      }
      durable.add(inFlight);
      inFlight = null;
      host.onWritten();
    }

    /** Completes writes until none is in flight. */
    void completeAll(PartitionHost host) {
      while (inFlight != null) {
        complete(host);
      }
    }

    /** The write in flight failed (the store was unavailable); it is not durable. */
    void fail(PartitionHost host, Throwable cause) {
      inFlight = null;
      host.onWriteFailed(cause, durable.size() + 1);
    }

    /** The store refused the write in flight, and would again; it is not durable. */
    void refuse(PartitionHost host, Throwable cause) {
      inFlight = null;
      host.onWriteRefused(cause, durable.size() + 1);
    }

    /** The checkpoint being stored is committed: its rows are stored. */
    void commitCheckpoint(PartitionHost host) {
      Checkpoint c = saving;
      if (c == null) {
        throw new AssertionError("no checkpoint is being stored");
      }
      saving = null;
      for (StoredRecord r : c.records()) {
        rows.computeIfAbsent(r.key(), k -> new TreeMap<>()).put(c.number(), r.deleted());
      }
      host.onCheckpointSaved(c.number());
    }

    /**
     * A record as of checkpoint {@code number}, as the instance store reads it: its newest row at
     * or below the number, rebuilt from the log up to that row's checkpoint; null if deleted.
     */
    StoredRecord read(String key, long number) {
      Map.Entry<Long, Boolean> row = rows.get(key).floorEntry(number);
      if (row == null || row.getValue()) {
        return null;
      }
      return rebuilt(row.getKey()).record(key);
    }

    /** The state of partition 0 of 1 after the first {@code batches} durable batches. */
    PartitionState rebuilt(long batches) {
      PartitionState at = new PartitionState(0, 1, 100);
      for (int k = 0; k < batches; k++) {
        durable.get(k).events().forEach(at::apply);
      }
      return at;
    }

    /** The events of type {@code type} in every batch the host asked to write, in order. */
    <T extends PartitionEvent> List<T> written(Class<T> type) {
      List<T> found = new ArrayList<>();
      for (EventBatch b : writes) {
        for (PartitionEvent e : b.events()) {
          if (type.isInstance(e)) {
            found.add(type.cast(e));
          }
        }
      }
      return found;
    }
  }

  /** A clock that stands still until the test moves it; its monotonic time starts at zero. */
  static final class ManualClock implements PartitionPorts.Clock {
    private final Instant start;
    private Instant now;

    ManualClock(Instant start) {
      this.start = start;
      this.now = start;
    }

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public Instant now() {
      return now;
    }

    @Override
    public long nanoTime() {
      return Duration.between(start, now).toNanos();
    }
  }

  /** Timers that never fire by themselves: the test fires them as {@link HostInput.TimerFired}. */
  static final class RecordingTimers implements PartitionPorts.Timers {
    /** Every single wake-up started, in order. */
    final List<HostTimer> singles = new ArrayList<>();

    /** The last interval each periodic timer was started with. */
    final Map<HostTimer, Duration> periodic = new EnumMap<>(HostTimer.class);

    @Override
    public void startSingle(HostTimer timer, Duration delay) {
      singles.add(timer);
    }

    @Override
    public void startPeriodic(HostTimer timer, Duration interval) {
      periodic.put(timer, interval);
    }

    @Override
    public void cancel(HostTimer timer) {}
  }

  static final class RecordingLog implements PartitionPorts.Log {
    final List<String> infos = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();
    final List<String> errors = new ArrayList<>();
    private final boolean strict;

    private RecordingLog(boolean strict) {
      this.strict = strict;
    }

    @Override
    public void info(Supplier<String> message) {
      infos.add(message.get());
    }

    @Override
    public void warn(String message) {
      warnings.add(message);
    }

    @Override
    public void error(String message, Throwable cause) {
      if (strict) {
        throw new AssertionError(message, cause);
      }
      errors.add(message);
    }
  }

  /** Counts nothing; public for the simulation, which overrides only the counters it checks. */
  public static class NoMetrics implements PartitionPorts.Metrics {
    @Override
    public void journalWrite(int events) {}

    @Override
    public void journalWriteLatency(long nanos) {}

    @Override
    public void checkpoint() {}
  }

  /** The hosts under test run no orchestration code; the work they start is dropped. */
  private static final PartitionPorts.LocalWork NO_ORCHESTRATIONS =
      new PartitionPorts.LocalWork() {
        @Override
        public OrchestrationRun loadRun(
            String instanceId,
            String executionId,
            String orchestrationName,
            List<HistoryEvent> history) {
          throw new AssertionError(
              "no orchestration runs here: instances wait for their scheduled start");
        }

        @Override
        public void step(
            OrchestrationRun run,
            long stepNumber,
            Instant stepTime,
            List<HistoryEvent> newEvents) {}

        @Override
        public void startActivity(Effect.StartActivity activity) {}

        @Override
        public void cancelActivities(String instanceId) {}

        @Override
        public void startEntityBatch(Effect.RunEntityBatch batch) {}
      };
}
