package dev.netherite.management.internal;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.persistence.StorageMetrics;
import dev.netherite.runtime.internal.RuntimeMetrics;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.SummaryWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;

/**
 * INTERNAL API
 *
 * <p>The node's metrics in Prometheus text format, with the Prometheus Java client (a registry of
 * its own, so that several runtimes in one JVM do not collide). Storage counters come from {@link
 * StorageMetrics} (the counters the partitions keep anyway, and an observer that fills the
 * histograms); per-partition gauges come from the partitions' reports, asked once per scrape of the
 * partitions this node hosts. Nothing is added to a partition's hot path beyond those counters.
 */
public final class MetricsExporter implements AutoCloseable {
  public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final PartitionInspector inspector;
  private final StorageMetrics storage = StorageMetrics.global();
  private final StorageMetrics.Observer observer;
  private final RuntimeMetrics runtimeMetrics = RuntimeMetrics.global();
  private final RuntimeMetrics.Observer latencies;

  /** The reports of the scrape being written; the gauges' callbacks read them. */
  private volatile List<PartitionInspector.PartitionView> scraped = List.of();

  public MetricsExporter(PartitionInspector inspector) {
    this.inspector = inspector;
    storageCounter(
        "netherite_journal_writes",
        "Journal writes (one per group-committed batch).",
        StorageMetrics.Snapshot::journalWrites);
    storageCounter(
        "netherite_journal_events",
        "Events written to the journal.",
        StorageMetrics.Snapshot::eventsWritten);
    storageCounter(
        "netherite_journal_bytes",
        "Bytes serialized for the journal.",
        StorageMetrics.Snapshot::journalBytes);
    storageCounter(
        "netherite_checkpoints",
        "Checkpoints (snapshots) started.",
        StorageMetrics.Snapshot::snapshotsWritten);
    storageCounter(
        "netherite_checkpoint_bytes",
        "Bytes serialized for checkpoints.",
        StorageMetrics.Snapshot::snapshotBytes);
    Histogram writeLatency =
        Histogram.builder()
            .name("netherite_journal_write_latency_seconds")
            .help("Time from handing a batch to the journal to its write being acknowledged.")
            .unit(Unit.SECONDS)
            .classicOnly()
            .classicUpperBounds(
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
            .register(registry);
    Histogram eventsPerWrite =
        Histogram.builder()
            .name("netherite_journal_write_events")
            .help("Events per journal write.")
            .classicOnly()
            .classicUpperBounds(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
            .register(registry);
    Histogram bytesPerWrite =
        Histogram.builder()
            .name("netherite_journal_write_bytes")
            .help("Serialized bytes per journal write.")
            .unit(Unit.BYTES)
            .classicOnly()
            .classicExponentialUpperBounds(256, 4, 9)
            .register(registry);
    Histogram checkpointSize =
        Histogram.builder()
            .name("netherite_checkpoint_size_bytes")
            .help("Serialized size of a checkpoint (deflated state).")
            .classicOnly()
            .classicExponentialUpperBounds(1024, 4, 9)
            .register(registry);
    observer =
        new StorageMetrics.Observer() {
          @Override
          public void journalWrite(int events) {
            eventsPerWrite.observe(events);
          }

          @Override
          public void journalWriteLatency(long nanos) {
            writeLatency.observe(nanos / 1e9);
          }

          @Override
          public void journalBytes(int bytes) {
            bytesPerWrite.observe(bytes);
          }

          @Override
          public void snapshotBytes(int bytes) {
            checkpointSize.observe(bytes);
          }
        };
    storage.addObserver(observer);

    Histogram stepLatency =
        latencyHistogram(
            "netherite_step_latency_seconds",
            "Time from a partition handing an orchestration step to its run to the step's result"
                + " reaching the partition (waiting for a thread, the orchestration's code, the way"
                + " back).",
            0.0001,
            0.00025,
            0.0005,
            0.001,
            0.0025,
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            1,
            5);
    Histogram activityLatency =
        latencyHistogram(
            "netherite_activity_latency_seconds",
            "Time from an activity's submission to its result (waiting for a slot, then running).",
            0.0005,
            0.001,
            0.0025,
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            1,
            5,
            30,
            120);
    Histogram checkpointDuration =
        latencyHistogram(
            "netherite_checkpoint_duration_seconds",
            "Time from handing a checkpoint to the snapshot store to its being stored.",
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            0.5,
            1,
            2.5,
            5,
            10,
            30);
    latencies =
        new RuntimeMetrics.Observer() {
          @Override
          public void stepLatency(long nanos) {
            stepLatency.observe(nanos / 1e9);
          }

          @Override
          public void activityLatency(long nanos) {
            activityLatency.observe(nanos / 1e9);
          }

          @Override
          public void checkpointDuration(long nanos) {
            checkpointDuration.observe(nanos / 1e9);
          }
        };
    runtimeMetrics.addObserver(latencies);
    GaugeWithCallback.builder()
        .name("netherite_activities_queued")
        .help("Activities waiting for a slot (netherite.activities.max-concurrent). Per JVM.")
        .callback(cb -> cb.call(runtimeMetrics.activitiesQueued()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("netherite_activities_running")
        .help("Activities holding a slot. Per JVM.")
        .callback(cb -> cb.call(runtimeMetrics.activitiesRunning()))
        .register(registry);
    partitionCounter(
        "netherite_resent_messages",
        "Messages to other partitions sent again because they were not acknowledged in time.",
        RuntimeMetrics.PartitionCounters::resent);
    CounterWithCallback.builder()
        .name("netherite_dedup_dropped_messages")
        .help(
            "Messages from other partitions dropped by the dedup vector: reason=duplicate (applied"
                + " already), reason=gap (a delivery past a gap, kept for the sender's resend)."
                + " Counted per JVM.")
        .labelNames("partition", "reason")
        .callback(
            cb ->
                runtimeMetrics
                    .partitions()
                    .forEach(
                        (p, c) -> {
                          cb.call(c.duplicatesDropped(), p.toString(), "duplicate");
                          cb.call(c.gapDropped(), p.toString(), "gap");
                        }))
        .register(registry);
    CounterWithCallback.builder()
        .name("netherite_instances_purged")
        .help(
            "Ended instances purged inside the partitions: by=request (a purge by filter),"
                + " by=retention (netherite.retention.completed). Counted per JVM.")
        .labelNames("partition", "by")
        .callback(
            cb ->
                runtimeMetrics
                    .partitions()
                    .forEach(
                        (p, c) -> {
                          cb.call(c.purgedByRequest(), p.toString(), "request");
                          cb.call(c.purgedByRetention(), p.toString(), "retention");
                        }))
        .register(registry);
    partitionCounter(
        "netherite_checkpoint_failures",
        "Checkpoints the snapshot store failed to save.",
        RuntimeMetrics.PartitionCounters::checkpointFailures);
    partitionCounter(
        "netherite_rollbacks",
        "Times the partition took back its speculative work because it depended on a step another"
            + " partition lost or did not confirm (global persistence mode).",
        RuntimeMetrics.PartitionCounters::rollbacks);
    partitionCounter(
        "netherite_client_retries_after_rollback",
        "Client requests of this JVM that the partition answered ROLLED_BACK (it took back the"
            + " speculative work they were part of) and that the client sent again, with the same"
            + " request id (global persistence mode).",
        RuntimeMetrics.PartitionCounters::clientRetriesAfterRollback);
    SummaryWithCallback.builder()
        .name("netherite_recovery_duration_seconds")
        .help(
            "Recoveries of a partition (checkpoint and log suffix) and their duration: _count is"
                + " the number of recoveries. Counted per JVM.")
        .unit(Unit.SECONDS)
        .labelNames("partition")
        .callback(
            cb ->
                runtimeMetrics
                    .partitions()
                    .forEach(
                        (p, c) ->
                            cb.call(
                                c.recoveries(),
                                c.recoveryNanos() / 1e9,
                                Quantiles.EMPTY,
                                p.toString())))
        .register(registry);

    GaugeWithCallback.builder()
        .name("netherite_partitions_hosted")
        .help("Partitions this node hosts.")
        .callback(cb -> cb.call(scraped.size()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("netherite_instances")
        .help("Instances held by the partitions of this node, per status.")
        .labelNames("status")
        .callback(
            cb -> {
              Map<RuntimeStatus, Integer> sum = new EnumMap<>(RuntimeStatus.class);
              for (RuntimeStatus s : RuntimeStatus.values()) {
                sum.put(s, 0);
              }
              for (var v : scraped) {
                if (v.report() != null) {
                  v.report().instancesByStatus().forEach((s, c) -> sum.merge(s, c, Integer::sum));
                }
              }
              sum.forEach((s, c) -> cb.call(c, s.name()));
            })
        .register(registry);
    partitionGauge(
        "netherite_partition_up",
        "1 when the partition answered its report, else 0.",
        v -> v.report() == null ? 0 : 1,
        true);
    partitionGauge(
        "netherite_partition_stuck",
        "1 when the partition has work pending and made no progress for netherite.management.stuck-after.",
        v -> "stuck".equals(v.state()) ? 1 : 0,
        true);
    partitionGauge(
        "netherite_partition_instances",
        "Instances held by the partition.",
        v -> v.report().instances(),
        false);
    partitionGauge(
        "netherite_partition_entities",
        "Entities held by the partition.",
        v -> v.report().entities(),
        false);
    partitionGauge(
        "netherite_partition_entity_backlog",
        "Messages queued for the partition's entities or in their running batches.",
        v -> v.report().entityBacklog(),
        false);
    partitionGauge(
        "netherite_partition_pending_events",
        "Events applied but not yet durable (buffered and in flight).",
        v -> v.report().bufferedEvents() + v.report().inFlightEvents(),
        false);
    partitionGauge(
        "netherite_partition_outbox_unacknowledged",
        "Messages to other partitions not yet acknowledged.",
        v -> v.report().outboxUnacknowledged(),
        false);
    partitionGauge(
        "netherite_partition_timers", "Durable timers armed.", v -> v.report().timers(), false);
    partitionGauge(
        "netherite_partition_events_since_checkpoint",
        "Durable events since the partition's last checkpoint.",
        v -> v.report().eventsSinceCheckpoint(),
        false);
    partitionGauge(
        "netherite_partition_last_write_seconds",
        "Duration of the partition's last journal write.",
        v -> Math.max(0, v.report().lastWriteMillis()) / 1000.0,
        false);
    partitionGauge(
        "netherite_partition_recovery_seconds",
        "Duration of the partition's last recovery (checkpoint and log suffix).",
        v -> v.report().recoveryMillis() / 1000.0,
        false);
  }

  private Histogram latencyHistogram(String name, String help, double... upperBounds) {
    return Histogram.builder()
        .name(name)
        .help(help + " Per JVM.")
        .unit(Unit.SECONDS)
        .classicOnly()
        .classicUpperBounds(upperBounds)
        .withoutExemplars()
        .register(registry);
  }

  private void partitionCounter(
      String name, String help, ToDoubleFunction<RuntimeMetrics.PartitionCounters> value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help + " Counted per JVM.")
        .labelNames("partition")
        .callback(
            cb ->
                runtimeMetrics
                    .partitions()
                    .forEach((p, c) -> cb.call(value.applyAsDouble(c), p.toString())))
        .register(registry);
  }

  private void storageCounter(
      String name, String help, ToDoubleFunction<StorageMetrics.Snapshot> value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help + " Counted per JVM.")
        .callback(cb -> cb.call(value.applyAsDouble(storage.snapshot())))
        .register(registry);
  }

  private void partitionGauge(
      String name,
      String help,
      ToDoubleFunction<PartitionInspector.PartitionView> value,
      boolean evenWithoutReport) {
    Consumer<GaugeWithCallback.Callback> callback =
        cb -> {
          for (var v : scraped) {
            if (evenWithoutReport || v.report() != null) {
              cb.call(value.applyAsDouble(v), Integer.toString(v.partition()));
            }
          }
        };
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames("partition")
        .callback(callback)
        .register(registry);
  }

  /** Asks the hosted partitions for their reports, then writes every metric. Blocks. */
  public synchronized byte[] scrape() {
    try {
      scraped = inspector.local();
    } catch (IllegalStateException e) {
      scraped = List.of(); // the node-level counters are still worth a scrape
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      writer.write(out, registry.scrape(), EscapingScheme.DEFAULT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Override
  public void close() {
    storage.removeObserver(observer);
    runtimeMetrics.removeObserver(latencies);
  }
}
