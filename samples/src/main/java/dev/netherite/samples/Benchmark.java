package dev.netherite.samples;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.persistence.EmbeddedCassandra;
import dev.netherite.persistence.StorageMetrics;
import dev.netherite.runtime.DurableRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The benchmark: client-observed latency and throughput of the samples, with storage traffic per orchestration.
 *
 * <pre>
 * Benchmark [--contact-point host:port] [--commitlog-sync periodic|group|batch] [--runs N] [--burst N]
 *           [--out benchmark-results/results.jsonl]
 * </pre>
 *
 * Without a contact point it launches an embedded Cassandra with the given commitlog_sync (default periodic). Each
 * measurement prints one {@code RESULT ...} line and appends one JSON line to the results file.
 */
public final class Benchmark {
  private final DurableClient client;
  private final String mode;
  private final String commitlogSync;
  private final Path out;

  private Benchmark(DurableClient client, String mode, String commitlogSync, Path out) {
    this.client = client;
    this.mode = mode;
    this.commitlogSync = commitlogSync;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    String contactPoint = option(args, "--contact-point", null);
    String sync = option(args, "--commitlog-sync", "periodic");
    int runs = Integer.parseInt(option(args, "--runs", "300"));
    int burst = Integer.parseInt(option(args, "--burst", "1000"));
    Path out = Path.of(option(args, "--out", "benchmark-results/results.jsonl"));
    Files.createDirectories(out.toAbsolutePath().getParent());
    EmbeddedCassandra cassandra = null;
    if (contactPoint == null) {
      System.out.println("Starting an embedded Cassandra with commitlog_sync=" + sync + "...");
      cassandra = EmbeddedCassandra.builder()
          .dataDirectory(Path.of("target", "benchmark-cassandra"))
          .commitlogSync(EmbeddedCassandra.CommitlogSync.parse(sync))
          .clean(true)
          .build()
          .start();
      contactPoint = cassandra.contactPoint();
    }
    try {
      for (String mode : List.of("local", "persist-first")) {
        String hub = "bench-" + mode.replace("-", "") + "-" + Instant.now().getEpochSecond();
        try (DurableRuntime runtime = DurableRuntime.start(
            Samples.app(), Samples.singleNode(contactPoint, hub, Map.of("netherite.persistence-mode", mode)))) {
          Benchmark bench = new Benchmark(runtime.client(), mode, sync, out);
          bench.sequentialHello5(mode.equals("local") ? runs : Math.max(50, runs / 4));
          if (mode.equals("local")) {
            bench.sequencePerStep(10, 30);
            bench.sequencePerStep(1000, 3);
          }
          bench.hello5Burst(mode.equals("local") ? burst : Math.max(100, burst / 4));
        }
      }
    } finally {
      if (cassandra != null) {
        cassandra.stop();
      }
    }
  }

  private void sequentialHello5(int runs) {
    int warmup = Math.max(20, runs / 10);
    progress("hello5 sequential, " + mode + ": " + warmup + " warm-up runs, " + runs + " measured");
    for (int i = 0; i < warmup; i++) {
      runHello5();
    }
    StorageMetrics.Snapshot before = StorageMetrics.global().snapshot();
    double[] latencies = new double[runs];
    boolean correct = true;
    long started = System.nanoTime();
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      correct &= runHello5();
      latencies[i] = (System.nanoTime() - t0) / 1e6;
      bar(i + 1, runs);
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    StorageMetrics.Snapshot used = StorageMetrics.global().snapshot().minus(before);
    result("hello5-sequential", latencies, runs / seconds, used, runs, correct, "");
  }

  private boolean runHello5() {
    InstanceId id = client.start(Hello5.HELLO5, null);
    InstanceStatus done = client.waitForCompletion(id, Duration.ofSeconds(60));
    return Hello5.EXPECTED.equals(done.output(List.class));
  }

  private void sequencePerStep(int length, int runs) {
    progress("sequence-" + length + ", " + mode + ": 2 warm-up runs, " + runs + " measured");
    for (int i = 0; i < 2; i++) {
      runSequence(length);
    }
    StorageMetrics.Snapshot before = StorageMetrics.global().snapshot();
    double[] perStep = new double[runs];
    boolean correct = true;
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      correct &= runSequence(length);
      perStep[i] = (System.nanoTime() - t0) / 1e6 / length;
      bar(i + 1, runs);
    }
    StorageMetrics.Snapshot used = StorageMetrics.global().snapshot().minus(before);
    result("sequence-" + length, perStep, Double.NaN, used, runs, correct, " per_step=true");
  }

  private boolean runSequence(int length) {
    InstanceId id = client.start(Sequence.SEQUENCE, length);
    InstanceStatus done = client.waitForCompletion(id, Duration.ofMinutes(5));
    Sequence.Token token = done.output(Sequence.Token.class);
    return token != null && token.step() == length && token.checksum() == Sequence.expectedChecksum(length);
  }

  private void hello5Burst(int count) throws InterruptedException, ExecutionException {
    progress("hello5 burst, " + mode + ": " + count + " started at once");
    StorageMetrics.Snapshot before = StorageMetrics.global().snapshot();
    long t0 = System.nanoTime();
    double[] latencies = new double[count];
    boolean correct = true;
    try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Double>> done = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        done.add(threads.submit(() -> {
          long s = System.nanoTime();
          boolean right = runHello5();
          return right ? (System.nanoTime() - s) / 1e6 : -1.0;
        }));
      }
      for (int i = 0; i < count; i++) {
        latencies[i] = done.get(i).get();
        correct &= latencies[i] >= 0;
        bar(i + 1, count);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    StorageMetrics.Snapshot used = StorageMetrics.global().snapshot().minus(before);
    result("hello5-burst", latencies, count / seconds, used, count, correct, " burst=" + count);
  }

  private void result(String workload, double[] values, double throughput, StorageMetrics.Snapshot used, int orchestrations, boolean correct, String extra) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    String line = String.format(Locale.ROOT,
        "RESULT workload=%s mode=%s commitlog_sync=%s p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f throughput_per_s=%.1f journal_writes_per_orch=%.3f bytes_per_orch=%.0f correct=%s events_per_write=%.1f%s",
        workload, mode, commitlogSync, pct(sorted, 50), pct(sorted, 95), pct(sorted, 99), throughput,
        (double) used.journalWrites() / orchestrations, (double) used.journalBytes() / orchestrations, correct,
        used.journalWrites() == 0 ? 0.0 : (double) used.eventsWritten() / used.journalWrites(), extra);
    System.out.println();
    System.out.println(line);
    String json = String.format(Locale.ROOT,
        "{\"time\":\"%s\",\"workload\":\"%s\",\"mode\":\"%s\",\"commitlog_sync\":\"%s\",\"runs\":%d,\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"throughput_per_s\":%.1f,\"journal_writes\":%d,\"events\":%d,\"bytes\":%d,\"snapshots\":%d,\"correct\":%s,\"cpus\":%d}%n",
        Instant.now(), workload, mode, commitlogSync, values.length, pct(sorted, 50), pct(sorted, 95), pct(sorted, 99),
        throughput, used.journalWrites(), used.eventsWritten(), used.journalBytes(), used.snapshotsWritten(), correct,
        Runtime.getRuntime().availableProcessors());
    try {
      Files.writeString(out, json, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static double pct(double[] sorted, int p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static void progress(String what) {
    System.out.println();
    System.out.println("== " + what);
  }

  private static void bar(int done, int total) {
    if (done == total || done % Math.max(1, total / 40) == 0) {
      int width = 40;
      int filled = (int) ((long) done * width / total);
      System.out.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + total);
      System.out.flush();
    }
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
