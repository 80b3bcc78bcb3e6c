package dev.netherite.runtime.internal;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.host.Checkpoint;
import dev.netherite.engine.host.CommitLogFaults;
import dev.netherite.engine.host.HostDiagnostics;
import dev.netherite.engine.host.HostInput;
import dev.netherite.engine.host.HostSettings;
import dev.netherite.engine.host.HostTimer;
import dev.netherite.engine.host.PartitionHost;
import dev.netherite.engine.host.PartitionLink;
import dev.netherite.engine.host.PartitionPorts;
import dev.netherite.engine.host.PersistenceMode;
import dev.netherite.engine.host.RecordBudget;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.PartitionCheckpoint;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.StoredRecord;
import dev.netherite.persistence.internal.CassandraInstanceStore;
import dev.netherite.runtime.DeliveryFaults;
import dev.netherite.runtime.RuntimeSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * INTERNAL API
 *
 * <p>The Pekko adapter of one partition's {@link PartitionHost}: it implements the host's ports
 * over Pekko Persistence (the journal and snapshot store), Cluster Sharding (the other partitions),
 * the node's executors (steps, activities, entity batches) and actor timers, and turns every
 * message into a call on the host. It decides nothing itself. A classic persistent actor because
 * pipelining needs {@code persistAsync} (typed persistence stashes during writes).
 */
final class PartitionActor extends AbstractPersistentActorWithTimers {

  /**
   * Config path of the dispatcher that partitions and their journal plugin run on (see
   * reference.conf).
   */
  static final String DISPATCHER = "netherite.partition-dispatcher";

  // One precise timer thread for the node: Pekko's scheduler ticks every 10 ms, too coarse for the
  // 1-3 ms commit linger.
  private static final ScheduledExecutorService PRECISE_TIMER = newPreciseTimer();

  private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
  private final int partitionId;
  private final NodeServices node;
  private final ActorRef self = getSelf();
  private final PartitionHost host;
  private final PartitionLease lease;
  private final Serialization serialization;
  private final Map<HostTimer, LocalSignal.ToHost> timerSignals = new EnumMap<>(HostTimer.class);

  /** When this incarnation began, so before its recovery read the journal. */
  private final long startedNanos = System.nanoTime();

  private ScheduledFuture<?> commitDue;

  static Props props(int partitionId, NodeServices node, CommitLogFaults faults) {
    return Props.create(PartitionActor.class, () -> new PartitionActor(partitionId, node, faults));
  }

  private PartitionActor(int partitionId, NodeServices node, CommitLogFaults faults) {
    this.partitionId = partitionId;
    this.node = node;
    this.serialization = SerializationExtension.get(getContext().getSystem());
    for (HostTimer t : HostTimer.values()) {
      timerSignals.put(t, new LocalSignal.ToHost(new HostInput.TimerFired(t)));
    }
    this.host =
        new PartitionHost(
            partitionId,
            hostSettings(node.settings(), node.recordBudget()),
            new PartitionPorts(
                new Journal(),
                this::send,
                new Work(),
                new SystemClock(),
                new Timers(),
                new Log(),
                new Metrics(),
                () -> getContext().stop(self)),
            faults);
    // Before recovery: a partition reads its log only once no other host may still write it.
    this.lease =
        PartitionLease.acquire(
            getContext().getSystem(),
            node.settings().taskHub(),
            partitionId,
            persistenceId(),
            self,
            node.storeHealth());
  }

  static HostSettings hostSettings(RuntimeSettings s, RecordBudget recordBudget) {
    return new HostSettings(
        s.partitionCount(),
        switch (s.persistenceMode()) {
          case LOCAL -> PersistenceMode.LOCAL;
          case GLOBAL -> PersistenceMode.GLOBAL;
          case PERSIST_FIRST -> PersistenceMode.PERSIST_FIRST;
        },
        s.maxBatchEvents(),
        s.maxPendingEvents(),
        s.commitLogMaxLinger(),
        s.checkpointAfterEvents(),
        s.checkpointAfterBytes(),
        s.checkpointAfterIdle(),
        s.deleteCoveredEvents(),
        s.instanceCacheSize(),
        s.requestLogCapacity(),
        s.entityMaxBatchSize(),
        s.resendAfter(),
        s.maxMessagesPerDelivery(),
        s.maxBatchBytes(),
        s.residentEndedInstances(),
        s.purgeBatchSize(),
        s.retentionCompleted(),
        s.retentionCheckInterval(),
        recordBudget,
        s.globalMaxUnconfirmed());
  }

  @Override
  public String persistenceId() {
    return node.persistenceId(partitionId);
  }

  // ---------------------------------------------------------------- recovering

  @Override
  public Receive createReceiveRecover() {
    return receiveBuilder()
        .match(SnapshotOffer.class, this::restore)
        .match(EventBatch.class, host::replay)
        .match(
            RecoveryCompleted.class,
            done -> {
              node.storeHealth().available(startedNanos);
              lease.fence(persistenceId(), lastSequenceNr());
              host.recoveryCompleted();
              node.runsHere(partitionId, self);
            })
        .build();
  }

  private void restore(SnapshotOffer offer) {
    long seqNr = offer.metadata().sequenceNr();
    switch (offer.snapshot()) {
      case PartitionCheckpoint c -> host.restoreCheckpoint(c, seqNr);
      case PartitionState whole -> host.restoreCheckpoint(whole, seqNr);
      default ->
          throw new IllegalStateException(
              "partition "
                  + partitionId
                  + " found a snapshot it cannot read: type="
                  + offer.snapshot().getClass().getName());
    }
  }

  // ---------------------------------------------------------------- running

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(SaveSnapshotSuccess.class, this::onSnapshotSaved)
        .match(
            SaveSnapshotFailure.class,
            f -> {
              saving = null;
              node.metrics().recordCheckpointFailure();
              host.onCheckpointFailed(f.cause());
            })
        .match(LocalSignal.RecordsWritten.class, this::onRecordsWritten)
        .match(
            LocalSignal.RecordsLoaded.class,
            l -> {
              if (l.failure() != null) {
                host.onRecordsLoadFailed(l.failure());
              } else {
                host.onRecordsLoaded(l.records());
              }
            })
        .match(
            LocalSignal.RecordLoaded.class,
            l -> {
              if (l.failure() != null) {
                host.onRecordsLoadFailed(l.failure());
              } else {
                host.onRecordLoaded(l.key(), l.record());
              }
            })
        .match(
            LocalSignal.InstancesScanned.class,
            l -> {
              if (l.failure() != null) {
                host.onScanFailed(l.listId(), l.failure());
              } else {
                host.onRecordsScanned(l.listId(), l.records(), l.more());
              }
            })
        .match(LocalSignal.ToHost.class, s -> host.input(s.input()))
        .match(PartitionCommand.ClientCommand.class, c -> host.input(clientCommand(c)))
        .match(
            PartitionCommand.QueryCommand.class,
            q -> host.input(new HostInput.Query(q.query(), q.replyTo()::tell)))
        .match(
            PartitionCommand.PurgeSweep.class,
            p ->
                host.input(
                    new HostInput.PurgeSweep(
                        p.requestId(), p.filter(), p.afterId(), p.replyTo()::tell)))
        .match(
            PartitionCommand.AwaitCompletion.class,
            a -> host.input(new HostInput.AwaitCompletion(a.instanceId(), a.replyTo()::tell)))
        .match(
            PartitionCommand.Deliver.class,
            d ->
                host.input(
                    new PartitionLink.Deliver(
                        d.origin(), d.firstSeq(), d.messages(), d.dependsOn(), d.commit())))
        .match(
            PartitionCommand.Ack.class, a -> host.input(new PartitionLink.Ack(a.from(), a.upTo())))
        .match(
            PartitionCommand.Committed.class,
            c -> host.input(new PartitionLink.Committed(c.from(), c.commit())))
        .match(
            PartitionCommand.AskCommitted.class,
            a -> host.input(new PartitionLink.AskCommitted(a.from())))
        .match(PartitionCommand.Wake.class, w -> {})
        .matchEquals(
            PartitionCommand.HandOff.INSTANCE,
            h -> {
              node.stoppedHere(partitionId, self); // from now on through the region, which buffers
              host.handOff();
            })
        .match(PartitionCommand.Inspect.class, i -> i.replyTo().tell(report()))
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
        .build();
  }

  /** What operators see of this partition; answered at once, in any phase. */
  private PartitionReport report() {
    HostDiagnostics d = host.diagnostics();
    PartitionState state = host.state();
    return new PartitionReport(
        partitionId,
        org.apache.pekko.cluster.Cluster.get(getContext().getSystem()).selfAddress().toString(),
        state.instanceCount(),
        new HashMap<>(state.statusCounts()),
        state.entityCount(),
        state.entityBacklog(),
        d.bufferedEvents(),
        d.inFlightEvents(),
        d.writeInFlightNanos() < 0 ? -1 : d.writeInFlightNanos() / 1_000_000,
        d.lastWriteNanos() < 0 ? -1 : d.lastWriteNanos() / 1_000_000,
        lastSequenceNr(),
        d.pendingReplies(),
        d.completionWaiters(),
        state.outbox().unacknowledgedCount(),
        state.timers().size(),
        d.eventsSinceCheckpoint(),
        d.lastCheckpointSeqNr(),
        d.lastCheckpointAt(),
        d.recoveryNanos() < 0 ? -1 : d.recoveryNanos() / 1_000_000,
        d.lastEventAt(),
        d.phase() == PartitionHost.Phase.CHECKPOINTING,
        d.backpressured(),
        d.phase() == PartitionHost.Phase.HANDING_OFF);
  }

  private static HostInput clientCommand(PartitionCommand.ClientCommand c) {
    return new HostInput.ClientCommand(c.requestId(), c.request(), c.replyTo()::tell);
  }

  /**
   * Pekko stops the actor after this. Not passed on to the default, which logs every failure with
   * its stack trace: an unavailable store is reported once per outage ({@link StoreHealth}), and a
   * refusal by the host, naming the event.
   */
  @Override
  public void onPersistFailure(Throwable cause, Object event, long seqNr) {
    boolean unavailable = StoreHealth.meansUnavailable(cause);
    if (unavailable) {
      node.storeHealth().unavailable(cause);
    }
    if (unavailable || !lease.permitsWrite()) {
      // After the right to write ended, a failure says nothing about the events either: the host
      // stops, and the partition's next host recovers the log.
      host.onWriteFailed(cause, seqNr);
    } else {
      host.onWriteRefused(cause, seqNr);
    }
  }

  /**
   * Pekko stops the actor after this, and the supervisor starts it again. Its default logs an ERROR
   * with the stack trace, for every partition at every retry while the store is down.
   */
  @Override
  public void onRecoveryFailure(Throwable cause, scala.Option<Object> event) {
    if (StoreHealth.meansUnavailable(cause)) {
      node.storeHealth().unavailable(cause);
    } else {
      log.error(
          cause,
          "partition {} could not recover from its journal and checkpoint at seqNr {}",
          partitionId,
          lastSequenceNr());
    }
  }

  @Override
  public void onPersistRejected(Throwable cause, Object event, long seqNr) {
    host.onWriteRejected(cause, seqNr);
  }

  @Override
  public void postStop() throws Exception {
    node.stoppedHere(partitionId, self);
    lease.release();
    if (commitDue != null) {
      commitDue.cancel(false);
    }
    host.stopped();
    node.activities().cancelPartition(partitionId); // dispatched again wherever it recovers
    super.postStop();
  }

  /**
   * The checkpoint being saved: its number, a copy of its partition-wide state taken when it was
   * captured, and its records' rows, kept to collect what they supersede.
   */
  private record Saving(
      long number,
      PartitionCheckpoint partitionWide,
      List<CassandraInstanceStore.RecordRow> rows) {}

  private Saving saving;

  /** The number the next snapshot is labelled with; see {@link #snapshotSequenceNr()}. */
  private long snapshotNumber = -1;

  /**
   * A snapshot is labelled with the number of the checkpoint it commits, not with the journal's
   * last sequence number when it is written: the host writes batches while the checkpoint's records
   * are written, and those must be replayed after it.
   */
  @Override
  public long snapshotSequenceNr() {
    return snapshotNumber >= 0 ? snapshotNumber : lastSequenceNr();
  }

  private void onRecordsWritten(LocalSignal.RecordsWritten w) {
    if (w.attempt() != saving) {
      return;
    }
    if (w.failure() != null) {
      saving = null;
      node.metrics().recordCheckpointFailure();
      host.onCheckpointFailed(w.failure());
    } else {
      // The commit point: until this snapshot is stored, the rows just written are above the
      // committed checkpoint's number and no reader takes them.
      snapshotNumber = saving.number();
      saveSnapshot(saving.partitionWide());
    }
  }

  private void onSnapshotSaved(SaveSnapshotSuccess s) {
    Saving saved = saving;
    saving = null;
    if (saved != null) {
      node.instanceStore()
          .collectGarbage(partitionId, saved.number(), saved.rows())
          .whenComplete(
              (done, error) -> {
                if (error != null) {
                  log.debug(
                      "partition {} could not remove superseded records (they are never read): {}",
                      partitionId,
                      error.toString());
                }
              });
    }
    host.onCheckpointSaved(s.metadata().sequenceNr());
  }

  private void tellSelf(HostInput input) {
    self.tell(new LocalSignal.ToHost(input), ActorRef.noSender());
  }

  // ---------------------------------------------------------------- ports

  private final class Journal implements PartitionPorts.Journal {
    @Override
    public void write(EventBatch batch) {
      long sent = System.nanoTime();
      persistAsync(
          batch,
          b -> {
            node.storeHealth().available(sent);
            host.onWritten();
          });
    }

    /** The event's bytes in the journal: what the serializer bound to it writes. */
    @Override
    public long sizeOf(PartitionEvent event) {
      try {
        return serialization.findSerializerFor(event).toBinary(event).length;
      } catch (RuntimeException e) {
        return 0; // not serializable: the write is rejected, and the host isolates it
      }
    }

    @Override
    public void saveCheckpoint(Checkpoint checkpoint) {
      // Serialized here, at the host's quiescent point (the host runs on as soon as this returns);
      // written off this thread, snapshot last.
      List<CassandraInstanceStore.RecordRow> rows;
      PartitionCheckpoint partitionWide;
      try {
        rows = node.instanceStore().serialize(checkpoint.records());
        partitionWide = node.instanceStore().copyOf(checkpoint.partitionWide());
      } catch (RuntimeException e) {
        // Reported as a message: a port never calls back into the host before it returns.
        Saving failed = new Saving(checkpoint.number(), checkpoint.partitionWide(), List.of());
        saving = failed;
        self.tell(new LocalSignal.RecordsWritten(failed, e), ActorRef.noSender());
        return;
      }
      Saving attempt = new Saving(checkpoint.number(), partitionWide, rows);
      saving = attempt;
      node.instanceStore()
          .write(partitionId, checkpoint.number(), rows)
          .whenComplete(
              (done, error) ->
                  self.tell(new LocalSignal.RecordsWritten(attempt, error), ActorRef.noSender()));
    }

    @Override
    public void loadRecords(long number, List<String> keys) {
      node.instanceStore()
          .loadSome(partitionId, List.copyOf(keys), number)
          .whenComplete(
              (records, error) ->
                  self.tell(new LocalSignal.RecordsLoaded(records, error), ActorRef.noSender()));
    }

    @Override
    public void loadRecord(long number, String key) {
      dev.netherite.persistence.StorageMetrics.global().recordInstanceRecordRead();
      node.instanceStore()
          .loadOne(partitionId, key, number)
          .whenComplete(
              (record, error) ->
                  self.tell(
                      new LocalSignal.RecordLoaded(
                          key, error == null ? record.orElse(null) : null, error),
                      ActorRef.noSender()));
    }

    @Override
    public void scanRecords(
        long listId,
        long number,
        String keyPrefix,
        String afterKey,
        int limit,
        java.util.function.Predicate<StoredRecord> filter) {
      node.instanceStore()
          .scan(partitionId, number, afterKey, keyPrefix, limit, filter)
          .whenComplete(
              (page, error) ->
                  self.tell(
                      error == null
                          ? new LocalSignal.InstancesScanned(
                              listId, page.records(), page.more(), null)
                          : new LocalSignal.InstancesScanned(listId, List.of(), false, error),
                      ActorRef.noSender()));
    }

    @Override
    public void deleteUpTo(long seqNr) {
      deleteMessages(seqNr);
      deleteSnapshots(SnapshotSelectionCriteria.create(seqNr - 1, Long.MAX_VALUE));
    }

    @Override
    public long lastSequenceNr() {
      return PartitionActor.this.lastSequenceNr();
    }

    @Override
    public boolean mayWrite() {
      return lease.permitsWrite();
    }
  }

  private void send(int destination, PartitionLink link) {
    PartitionCommand command =
        switch (link) {
          case PartitionLink.Deliver d ->
              new PartitionCommand.Deliver(
                  d.origin(), d.firstSeq(), d.messages(), d.dependsOn(), d.commit());
          case PartitionLink.Ack a -> new PartitionCommand.Ack(a.from(), a.upTo());
          case PartitionLink.Committed c -> new PartitionCommand.Committed(c.from(), c.commit());
          case PartitionLink.AskCommitted a -> new PartitionCommand.AskCommitted(a.from());
        };
    DeliveryFaults.Fate fate = node.faults().fateOf(command);
    if (fate == DeliveryFaults.Fate.DROP) {
      return;
    }
    node.tellPartition(destination, command);
    if (fate == DeliveryFaults.Fate.DUPLICATE) {
      node.tellPartition(destination, command);
    }
  }

  private final class Work implements PartitionPorts.LocalWork {
    @Override
    public OrchestrationRun loadRun(
        String instanceId,
        String executionId,
        String orchestrationName,
        List<HistoryEvent> history) {
      return node.executor()
          .load(
              instanceId,
              executionId,
              orchestrationName,
              history,
              (run, stepNumber, result) ->
                  tellSelf(new HostInput.StepFinished(run, stepNumber, result)));
    }

    @Override
    public void step(
        OrchestrationRun run, long stepNumber, Instant stepTime, List<HistoryEvent> newEvents) {
      run.step(stepNumber, stepTime, newEvents);
    }

    @Override
    public void startActivity(Effect.StartActivity a) {
      node.activities()
          .submit(
              new ActivityWorkers.Call(
                  partitionId, a.instanceId(), a.taskId(), a.activityName(), a.input()),
              outcome ->
                  tellSelf(
                      new HostInput.ActivityFinished(
                          a.instanceId(),
                          a.executionId(),
                          a.taskId(),
                          outcome.result(),
                          outcome.failure())));
    }

    @Override
    public void cancelActivities(String instanceId) {
      node.activities().cancelInstance(instanceId);
    }

    @Override
    public void startEntityBatch(Effect.RunEntityBatch b) {
      Thread.ofVirtual()
          .name("netherite-entity-" + partitionId)
          .start(
              () ->
                  tellSelf(
                      new HostInput.EntityBatchFinished(
                          b.entityId(), b.batchNumber(), node.entities().run(b))));
    }
  }

  private static final class SystemClock implements PartitionPorts.Clock {
    @Override
    public Instant now() {
      return Instant.now();
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }
  }

  private final class Timers implements PartitionPorts.Timers {
    @Override
    public void startSingle(HostTimer timer, Duration delay) {
      if (timer == HostTimer.COMMIT_DUE) {
        cancel(timer);
        LocalSignal.ToHost signal = timerSignals.get(timer);
        commitDue =
            PRECISE_TIMER.schedule(
                () -> self.tell(signal, ActorRef.noSender()),
                delay.toNanos(),
                TimeUnit.NANOSECONDS);
      } else {
        timers().startSingleTimer(timer, timerSignals.get(timer), delay);
      }
    }

    @Override
    public void startPeriodic(HostTimer timer, Duration interval) {
      timers().startTimerWithFixedDelay(timer, timerSignals.get(timer), interval);
    }

    @Override
    public void cancel(HostTimer timer) {
      if (timer == HostTimer.COMMIT_DUE) {
        if (commitDue != null) {
          commitDue.cancel(false);
          commitDue = null;
        }
      } else {
        timers().cancel(timer);
      }
    }
  }

  private final class Log implements PartitionPorts.Log {
    @Override
    public void info(Supplier<String> message) {
      if (log.isInfoEnabled()) {
        log.info(message.get());
      }
    }

    @Override
    public void warn(String message) {
      log.warning(message);
    }

    @Override
    public void error(String message, Throwable cause) {
      log.error(cause, message);
    }
  }

  private final class Metrics implements PartitionPorts.Metrics {
    private final RuntimeMetrics.PartitionCounters counters =
        RuntimeMetrics.global().partition(partitionId);

    @Override
    public void journalWrite(int events) {
      node.metrics().recordJournalWrite(events);
    }

    @Override
    public void journalWriteLatency(long nanos) {
      node.metrics().recordJournalWriteLatency(nanos);
    }

    @Override
    public void checkpoint() {
      node.metrics().recordSnapshot();
    }

    @Override
    public void stepLatency(long nanos) {
      counters.stepLatency(nanos);
    }

    @Override
    public void deliveryDropped(int messages, boolean duplicate) {
      counters.deliveryDropped(messages, duplicate);
    }

    @Override
    public void resent(int messages) {
      counters.resent(messages);
    }

    @Override
    public void recovered(long nanos) {
      counters.recovered(nanos);
    }

    @Override
    public void instancesPurged(int instances, boolean byRetention) {
      counters.instancesPurged(instances, byRetention);
    }

    @Override
    public void checkpointSaved(long nanos) {
      counters.checkpointDuration(nanos);
    }

    @Override
    public void checkpointFailed() {
      counters.checkpointFailed();
    }

    @Override
    public void rolledBack() {
      counters.rolledBack();
    }
  }

  private static ScheduledExecutorService newPreciseTimer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "netherite-commit-linger");
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }
}
