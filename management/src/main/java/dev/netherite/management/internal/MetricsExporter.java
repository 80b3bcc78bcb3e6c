package dev.netherite.management.internal;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.persistence.StorageMetrics;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
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
  }
}
