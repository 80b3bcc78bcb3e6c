package dev.netherite.samples;

import com.sun.management.OperatingSystemMXBean;
import dev.netherite.cassandra.EmbeddedCassandra;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.management.NetheriteManagement;
import dev.netherite.persistence.StorageMetrics;
import dev.netherite.runtime.DurableRuntime;
import dev.netherite.runtime.internal.RuntimeMetrics;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The benchmark: client-observed latency and throughput of the sample workloads in each persistence
 * mode, with storage traffic, CPU and heap per measurement.
 *
 * <pre>
 * Benchmark [--all] [--commitlog-sync periodic,batch] [--modes local,global,persist-first]
 *           [--workloads hello5,sequence-10,sequence-1000] [--runs 500] [--warmup N] [--warmup-seconds 5]
 *           [--jvm-warmup-seconds 60] [--mode-warmup-seconds 8] [--burst 1000]
 *           [--clients 32] [--duration 10] [--repeat 1] [--passes 1]
 *           [--out benchmark-results/results.jsonl]
 *           [--plot benchmark-results/latency.html] [--label TEXT] [--set key=value ...]
 *           [--contact-point host:port | --cassandra-port 39042 --storage-port 39043 --data-dir DIR]
 * Benchmark --soak N [--commitlog-sync periodic] [--modes local] [...the same Cassandra options]
 * </pre>
 *
 * Without a contact point it launches an embedded Cassandra for each commitlog_sync in turn (fresh
 * data directory). Each measurement prints one {@code RESULT ...} line on stdout and appends one
 * JSON line to the results file; progress goes to stderr; at the end a summary table and an HTML
 * page with the latency distributions. With {@code --repeat N} the whole set runs N times and the
 * summary adds the median of each figure over the rounds. With {@code --passes N} each Cassandra
 * runs the modes N times, in turn forwards and backwards (A B, B A, A B, ...; the order also turns
 * from one round to the next), so that two modes are compared on the same Cassandra close in time
 * and a drift of the machine or of Cassandra over the run weighs on both alike.
 *
 * <p>With {@code --soak N} it runs the soak instead (see {@link SoakResult}): N Hello5 from 50
 * closed-loop clients, then a restart of the runtime and status reads of 1000 of them drawn at
 * random; one {@code RESULT} line and one JSON line per commitlog_sync and mode.
 */
public final class Benchmark {
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);
  private static final List<String> MODES = List.of("local", "global", "persist-first");
  private static final int SOAK_CLIENTS = 50;
  private static final int SOAK_SAMPLE = 1000;

  private final Options options;
  private final BenchmarkReport report;
  private final OperatingSystemMXBean os =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
  private long cassandraPid = -1;
  private boolean jvmWarm;

  private Benchmark(Options options) {
    this.options = options;
    this.report = new BenchmarkReport(options.out, options.plot);
  }

  record Options(
      List<String> syncs,
      List<String> modes,
      List<String> workloads,
      int runs,
      int warmup,
      int warmupSeconds,
      int jvmWarmupSeconds,
      int modeWarmupSeconds,
      int burst,
      int clients,
      int durationSeconds,
      int repeat,
      int passes,
      Path out,
      Path plot,
      String label,
      Map<String, Object> overrides,
      String contactPoint,
      int cassandraPort,
      int storagePort,
      Path dataDir,
      int soak) {

    /** The modes in the order of pass {@code k} (from 1): as given when k is odd, else reversed. */
    List<String> modeOrder(int k) {
      return k % 2 == 1 ? modes : modes.reversed();
    }

    static Options parse(String[] args) {
      boolean all = Arrays.asList(args).contains("--all");
      int soak = Integer.parseInt(option(args, "--soak", "0"));
      int runs = Integer.parseInt(option(args, "--runs", "500"));
      Map<String, Object> overrides = new HashMap<>();
      for (int i = 0; i < args.length - 1; i++) {
        if (args[i].equals("--set")) {
          String[] kv = args[i + 1].split("=", 2);
          overrides.put(kv[0], kv[1]);
        }
      }
      List<String> modes =
          List.of(option(args, "--modes", soak > 0 ? "local" : "local,persist-first").split(","));
      for (String mode : modes) {
        if (!MODES.contains(mode)) {
          throw new IllegalArgumentException(
              "--modes names '"
                  + mode
                  + "'; each mode must be one of "
                  + String.join(", ", MODES)
                  + " (netherite.persistence-mode).");
        }
      }
      int passes = Integer.parseInt(option(args, "--passes", "1"));
      if (passes < 1) {
        throw new IllegalArgumentException(
            "--passes is "
                + passes
                + "; give how many times each Cassandra runs the modes, 1 or more.");
      }
      return new Options(
          List.of(option(args, "--commitlog-sync", all ? "periodic,batch" : "periodic").split(",")),
          modes,
          List.of(
              option(args, "--workloads", String.join(",", BenchmarkWorkload.DEFAULT_WORKLOADS))
                  .split(",")),
          runs,
          Integer.parseInt(option(args, "--warmup", Integer.toString(Math.max(50, runs / 5)))),
          Integer.parseInt(option(args, "--warmup-seconds", "5")),
          Integer.parseInt(option(args, "--jvm-warmup-seconds", "60")),
          Integer.parseInt(option(args, "--mode-warmup-seconds", "8")),
          Integer.parseInt(option(args, "--burst", "1000")),
          Integer.parseInt(option(args, "--clients", "32")),
          Integer.parseInt(option(args, "--duration", "10")),
          Integer.parseInt(option(args, "--repeat", "1")),
          passes,
          Path.of(option(args, "--out", "benchmark-results/results.jsonl")),
          Path.of(option(args, "--plot", "benchmark-results/latency.html")),
          option(args, "--label", ""),
          overrides,
          option(args, "--contact-point", null),
          Integer.parseInt(option(args, "--cassandra-port", "39042")),
          Integer.parseInt(option(args, "--storage-port", "39043")),
          Path.of(option(args, "--data-dir", "target/benchmark-cassandra")),
          soak);
    }
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    List<BenchmarkWorkload> workloads =
        options.workloads.stream().map(BenchmarkWorkload::named).toList();
    Benchmark bench = new Benchmark(options);
    try {
      for (int round = 1; round <= options.repeat; round++) {
        if (options.repeat > 1) {
          progressLine("Round " + round + " of " + options.repeat);
        }
        for (String sync : options.syncs) {
          EmbeddedCassandra cassandra = null;
          String contactPoint = options.contactPoint;
          if (contactPoint == null) {
            progressLine(
                "Starting an embedded Cassandra on 127.0.0.1:"
                    + options.cassandraPort
                    + " with commitlog_sync="
                    + sync
                    + " (data in "
                    + options.dataDir
                    + ")...");
            cassandra =
                EmbeddedCassandra.builder()
                    .dataDirectory(options.dataDir)
                    .cqlPort(options.cassandraPort)
                    .storagePort(options.storagePort)
                    .commitlogSync(EmbeddedCassandra.CommitlogSync.parse(sync))
                    .clean(true)
                    .build()
                    .start();
            contactPoint = cassandra.contactPoint();
            bench.cassandraPid = cassandra.pid();
          }
          try {
            for (int pass = 1; pass <= options.passes; pass++) {
              if (options.passes > 1) {
                progressLine("Pass " + pass + " of " + options.passes);
              }
              for (String mode : options.modeOrder((round - 1) * options.passes + pass)) {
                if (options.soak > 0) {
                  bench.soak(contactPoint, sync, mode);
                } else {
                  bench.runMode(contactPoint, sync, mode, workloads);
                }
              }
            }
          } finally {
            if (cassandra != null) {
              progressLine("Stopping Cassandra...");
              cassandra.stop();
            }
          }
        }
      }
    } finally {
      if (options.soak == 0) {
        bench.report.printSummary();
        bench.report.printMedians();
        bench.report.writePlot();
      }
    }
    System.exit(0);
  }

  private void runMode(
      String contactPoint, String sync, String mode, List<BenchmarkWorkload> workloads)
      throws Exception {
    String hub = "bench-" + mode.replace("-", "") + "-" + Instant.now().getEpochSecond();
    Map<String, Object> overrides = new HashMap<>(options.overrides);
    overrides.put("netherite.persistence-mode", mode);
    overrides.put("pekko.loglevel", "WARNING");
    try (DurableRuntime runtime =
            DurableRuntime.start(Samples.app(), Samples.singleNode(contactPoint, hub, overrides));
        // --set netherite.management.enabled=on measures with the management server running.
        AutoCloseable management =
            NetheriteManagement.startIfEnabled(runtime)
                .<AutoCloseable>map(m -> m)
                .orElse(() -> {})) {
      DurableClient client = runtime.client();
      workloads.forEach(w -> w.prepare(client));
      warmUp(
          client,
          workloads,
          sync,
          mode,
          jvmWarm ? options.modeWarmupSeconds : options.jvmWarmupSeconds);
      jvmWarm = true;
      settle();
      for (BenchmarkWorkload w : workloads) {
        if (w.measures().contains(BenchmarkWorkload.Measure.SEQUENTIAL)) {
          sequential(client, w, sync, mode);
        }
        if (w.measures().contains(BenchmarkWorkload.Measure.BURST) && options.burst > 0) {
          burst(client, w, sync, mode);
        }
        if (w.measures().contains(BenchmarkWorkload.Measure.CLOSED_LOOP) && options.clients > 0) {
          closedLoop(client, w, sync, mode);
        }
      }
    }
  }

  // ---------------------------------------------------------------- measurements

  private void sequential(DurableClient client, BenchmarkWorkload w, String sync, String mode) {
    int runs = w.sequentialRuns(options.runs);
    int warmup = Math.max(1, w.sequentialRuns(options.warmup));
    progressLine(
        String.format(
            "%s %s, %s: at least %d warm-up runs and %d s, then %d measured one at a time",
            sync, mode, w.name(), warmup, options.warmupSeconds, runs));
    // Enough warm-up for the JIT: a count alone left Hello5, measured first in a fresh JVM, half
    // compiled.
    Progress warm = new Progress("warm-up", warmup);
    long warmUntil = System.nanoTime() + options.warmupSeconds * 1_000_000_000L;
    for (int i = 0; i < warmup || System.nanoTime() < warmUntil; i++) {
      w.runOnce(client, RUN_TIMEOUT);
      warm.step(i < warmup ? 1 : 0);
    }
    warm.done();
    Window window = begin();
    double[] latencies = new double[runs];
    Boolean correct = null;
    int failures = 0;
    Progress bar = new Progress("measured", runs);
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      try {
        correct = and(correct, w.runOnce(client, RUN_TIMEOUT));
      } catch (RuntimeException e) {
        failures++;
        correct = false;
      }
      latencies[i] = (System.nanoTime() - t0) / 1e6;
      bar.step(1);
    }
    bar.done();
    finish(
        window, w, "sequential", sync, mode, latencies, failures, and(correct, w.verify(client)));
  }

  private void burst(DurableClient client, BenchmarkWorkload w, String sync, String mode)
      throws Exception {
    int count = options.burst;
    progressLine(String.format("%s %s, %s: %d started at once", sync, mode, w.name(), count));
    Window window;
    double[] latencies = new double[count];
    Boolean correct = null;
    int failures = 0;
    Progress bar = new Progress("completed", count);
    CountDownLatch go = new CountDownLatch(1);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Object[]>> done = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        done.add(
            threads.submit(
                () -> {
                  go.await();
                  long s = System.nanoTime();
                  Boolean right = w.runOnce(client, RUN_TIMEOUT);
                  bar.step(1);
                  return new Object[] {(System.nanoTime() - s) / 1e6, right};
                }));
      }
      window = begin(); // threads are created; the clock starts when they are released
      go.countDown();
      int ok = 0;
      for (Future<Object[]> f : done) {
        try {
          Object[] r = f.get();
          latencies[ok++] = (Double) r[0];
          correct = and(correct, (Boolean) r[1]);
        } catch (java.util.concurrent.ExecutionException e) {
          failures++;
          correct = false;
        }
      }
      latencies = Arrays.copyOf(latencies, ok);
    }
    bar.done();
    finish(
        window,
        w,
        "burst-" + count,
        sync,
        mode,
        latencies,
        failures,
        and(correct, w.verify(client)));
  }

  private void closedLoop(DurableClient client, BenchmarkWorkload w, String sync, String mode)
      throws Exception {
    int clients = options.clients;
    int seconds = options.durationSeconds;
    progressLine(
        String.format(
            "%s %s, %s: %d closed-loop clients for 1 s warm-up + %d s",
            sync, mode, w.name(), clients, seconds));
    AtomicBoolean measuring = new AtomicBoolean(false);
    ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger wrong = new AtomicInteger();
    AtomicInteger right = new AtomicInteger();
    Window window;
    long measuredNanos;
    try (ClosedLoop loop =
        new ClosedLoop(
            clients,
            () -> {
              long s = System.nanoTime();
              boolean counted = measuring.get();
              try {
                Boolean ok = w.runOnce(client, RUN_TIMEOUT);
                if (counted && measuring.get()) {
                  latencies.add((System.nanoTime() - s) / 1e6);
                  if (ok != null) {
                    (ok ? right : wrong).incrementAndGet();
                  }
                }
              } catch (RuntimeException e) {
                failures.incrementAndGet();
              }
              return true;
            })) {
      Thread.sleep(1000);
      window = begin();
      measuring.set(true);
      Progress bar = new Progress("seconds", seconds);
      long t0 = System.nanoTime();
      for (int s = 0; s < seconds; s++) {
        Thread.sleep(1000);
        bar.step(1);
      }
      measuring.set(false);
      measuredNanos = System.nanoTime() - t0;
      bar.done();
    }
    double[] values = latencies.stream().mapToDouble(Double::doubleValue).toArray();
    Boolean correct =
        right.get() + wrong.get() == 0 ? null : wrong.get() == 0 && failures.get() == 0;
    finish(
        window,
        w,
        "closed-" + clients,
        sync,
        mode,
        values,
        failures.get(),
        and(correct, w.verify(client)),
        measuredNanos / 1e9);
  }

  /**
   * The closed loop: {@code clients} virtual threads, each starting its next run as soon as its
   * last one returned, until {@code run} returns false for it or the loop is closed; closing waits
   * for the runs in flight.
   */
  private static final class ClosedLoop implements AutoCloseable {
    private final AtomicBoolean stop = new AtomicBoolean(false);
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    ClosedLoop(int clients, BooleanSupplier run) {
      for (int c = 0; c < clients; c++) {
        threads.submit(
            () -> {
              while (!stop.get() && run.getAsBoolean()) {}
              return null;
            });
      }
    }

    @Override
    public void close() {
      stop.set(true);
      threads.close();
    }
  }

  // ---------------------------------------------------------------- the soak

  /**
   * {@code --soak N}: N Hello5 from {@link #SOAK_CLIENTS} closed-loop clients on one runtime, a
   * reservoir of {@link #SOAK_SAMPLE} of the completed ids, the heap after GC; then the runtime
   * stops, a new one starts on the same Cassandra and task hub, and the sampled instances' statuses
   * are read in random order. The heap is the JVM's ({@code bin/benchmark} gives the soak {@code
   * -Xmx1g}); the figures are those of {@link SoakResult}.
   */
  private void soak(String contactPoint, String sync, String mode) throws Exception {
    int n = options.soak;
    String hub = "soak-" + mode.replace("-", "") + "-" + Instant.now().getEpochSecond();
    Map<String, Object> overrides = new HashMap<>(options.overrides);
    overrides.put("netherite.persistence-mode", mode);
    overrides.put("pekko.loglevel", "WARNING");
    com.typesafe.config.Config config = Samples.singleNode(contactPoint, hub, overrides);
    double heapMaxMb = Runtime.getRuntime().maxMemory() / 1048576.0;
    progressLine(
        String.format(
            Locale.ROOT,
            "%s %s: soak of %d Hello5 with %d closed-loop clients, heap max %.0f MB, task hub %s",
            sync,
            mode,
            n,
            SOAK_CLIENTS,
            heapMaxMb,
            hub));
    StorageMetrics storage = StorageMetrics.global();
    StorageMetrics.Snapshot storageBefore = storage.snapshot();
    long recordsBefore = storage.recordsWritten();
    long recordBytesBefore = storage.recordBytes();
    long failuresBefore = storage.checkpointFailures();

    Reservoir<InstanceId> reservoir = new Reservoir<>(SOAK_SAMPLE, new Random());
    AtomicLong claimed = new AtomicLong();
    AtomicLong completed = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicBoolean outOfMemory = new AtomicBoolean(false);
    List<Double> sampleSeconds = new ArrayList<>();
    List<Long> sampleCompleted = new ArrayList<>();
    double seconds;
    double heapAfterGcMb;
    long stopMs;
    DurableRuntime runtime = DurableRuntime.start(Samples.app(), config);
    try {
      DurableClient client = runtime.client();
      long t0 = System.nanoTime();
      sampleSeconds.add(0.0);
      sampleCompleted.add(0L);
      try (ClosedLoop loop =
          new ClosedLoop(
              SOAK_CLIENTS,
              () -> {
                if (claimed.incrementAndGet() > n || outOfMemory.get()) {
                  return false;
                }
                try {
                  InstanceId id = client.start(Hello5.HELLO5, null);
                  InstanceStatus done = client.waitForCompletion(id, RUN_TIMEOUT);
                  if (isHello5Done(done)) {
                    reservoir.offer(id);
                    completed.incrementAndGet();
                  } else {
                    failed.incrementAndGet();
                  }
                } catch (RuntimeException e) {
                  failed.incrementAndGet();
                } catch (OutOfMemoryError e) {
                  failed.incrementAndGet();
                  outOfMemory.set(true);
                  return false;
                }
                return true;
              })) {
        long lastProgress = t0;
        long lastChange = t0;
        long lastEnded = 0;
        long lastCompletedShown = 0;
        while (true) {
          Thread.sleep(1000);
          long now = System.nanoTime();
          long done = completed.get();
          long ended = done + failed.get();
          sampleSeconds.add((now - t0) / 1e9);
          sampleCompleted.add(done);
          if (ended != lastEnded) {
            lastEnded = ended;
            lastChange = now;
          }
          if (ended >= n || outOfMemory.get()) {
            break;
          }
          if (now - lastChange > RUN_TIMEOUT.toNanos() + 60_000_000_000L) {
            progressLine(
                "No orchestration ended for "
                    + (RUN_TIMEOUT.toMinutes() + 1)
                    + " min: the soak stops here.");
            break;
          }
          if (now - lastProgress >= 10_000_000_000L) {
            System.err.printf(
                Locale.ROOT,
                "  soak: %d/%d done (%d failed), %.0f/s over the last %.0f s, %.0f/s overall,"
                    + " heap %.0f MB used, %d checkpoints (%d failed)%n",
                done,
                n,
                failed.get(),
                (done - lastCompletedShown) / ((now - lastProgress) / 1e9),
                (now - lastProgress) / 1e9,
                done / ((now - t0) / 1e9),
                memory.getHeapMemoryUsage().getUsed() / 1048576.0,
                storage.snapshot().minus(storageBefore).snapshotsWritten(),
                storage.checkpointFailures() - failuresBefore);
            lastProgress = now;
            lastCompletedShown = done;
          }
        }
        // The end of the run is the last completion, not the next whole second.
        sampleSeconds.set(sampleSeconds.size() - 1, (System.nanoTime() - t0) / 1e9);
        sampleCompleted.set(sampleCompleted.size() - 1, completed.get());
        seconds = sampleSeconds.getLast();
      }
      if (outOfMemory.get()) {
        progressLine("OutOfMemoryError in a client after " + completed.get() + " completed");
      }
      System.gc();
      System.gc();
      heapAfterGcMb = memory.getHeapMemoryUsage().getUsed() / 1048576.0;
      progressLine(
          String.format(
              Locale.ROOT,
              "%d completed, %d failed in %.1f s; heap after GC %.0f MB; stopping the runtime",
              completed.get(),
              failed.get(),
              seconds,
              heapAfterGcMb));
    } finally {
      long s = System.nanoTime();
      runtime.close();
      stopMs = (System.nanoTime() - s) / 1_000_000;
    }
    StorageMetrics.Snapshot written = storage.snapshot().minus(storageBefore);
    long recordsWritten = storage.recordsWritten() - recordsBefore;
    long recordBytes = storage.recordBytes() - recordBytesBefore;

    Map<Integer, long[]> recoveredBefore = recoveries();
    List<InstanceId> sample = reservoir.sample();
    Collections.shuffle(sample, new Random());
    double[] statusMs = new double[sample.size()];
    long statusWrong = 0;
    long maxRecoveryMs;
    progressLine(
        "Stopped in "
            + stopMs
            + " ms; starting a new runtime on the same task hub to read the status of "
            + sample.size()
            + " sampled instances");
    try (DurableRuntime restarted = DurableRuntime.start(Samples.app(), config)) {
      maxRecoveryMs = awaitRecoveries(restarted.settings().partitionCount(), recoveredBefore);
      DurableClient client = restarted.client();
      for (int i = 0; i < sample.size(); i++) {
        long s = System.nanoTime();
        Optional<InstanceStatus> status;
        try {
          status = client.getStatus(sample.get(i));
        } catch (RuntimeException e) {
          status = Optional.empty();
        }
        statusMs[i] = (System.nanoTime() - s) / 1e6;
        if (status.isEmpty() || !isHello5Done(status.get())) {
          statusWrong++;
        }
      }
    }
    double[] rates =
        sampleSeconds.size() < 2
            ? new double[] {Double.NaN, Double.NaN}
            : SoakResult.firstAndLastRates(
                sampleSeconds.stream().mapToDouble(Double::doubleValue).toArray(),
                sampleCompleted.stream().mapToLong(Long::longValue).toArray(),
                60);
    SoakResult result =
        new SoakResult(
            mode,
            sync,
            n,
            completed.get(),
            failed.get(),
            seconds,
            heapAfterGcMb,
            heapMaxMb,
            written.snapshotsWritten(),
            storage.checkpointFailures() - failuresBefore,
            recordsWritten,
            recordBytes,
            written.snapshotBytes(),
            stopMs,
            maxRecoveryMs,
            statusMs,
            statusWrong,
            rates[0],
            rates[1],
            options.label,
            loadAverage());
    System.out.println(result.resultLine());
    System.out.flush();
    BenchmarkReport.appendLine(options.out, result.jsonLine());
  }

  private static boolean isHello5Done(InstanceStatus status) {
    return status.runtimeStatus() == RuntimeStatus.COMPLETED
        && Hello5.EXPECTED.equals(status.output(List.class));
  }

  /** Per partition number: recoveries and their total nanoseconds in this JVM so far. */
  private static Map<Integer, long[]> recoveries() {
    Map<Integer, long[]> r = new HashMap<>();
    RuntimeMetrics.global()
        .partitions()
        .forEach((p, c) -> r.put(p, new long[] {c.recoveries(), c.recoveryNanos()}));
    return r;
  }

  /**
   * Waits until each of the partitions has recovered once more than in {@code before}, and returns
   * the longest of those recoveries in ms. The engine counts recoveries and their total time per
   * partition number; one more recovery is exactly the one added to the total.
   */
  private static long awaitRecoveries(int partitions, Map<Integer, long[]> before)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (true) {
      Map<Integer, long[]> now = recoveries();
      long maxNanos = 0;
      int recovered = 0;
      for (int p = 0; p < partitions; p++) {
        long[] was = before.getOrDefault(p, new long[2]);
        long[] is = now.getOrDefault(p, new long[2]);
        long more = is[0] - was[0];
        if (more >= 1) {
          recovered++;
          if (more > 1) {
            progressLine(
                "partition " + p + " recovered " + more + " times; its figure is their total");
          }
          maxNanos = Math.max(maxNanos, is[1] - was[1]);
        }
      }
      if (recovered == partitions) {
        return maxNanos / 1_000_000;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "Only "
                + recovered
                + " of "
                + partitions
                + " partitions recovered within 10 min of the restart.");
      }
      Thread.sleep(20);
    }
  }

  /**
   * Before the measurements of each mode on each Cassandra: every workload from 8 concurrent
   * clients for a while, unmeasured; longer the first time in the JVM (60 s: with 20 s, the first
   * sequential measurement of the JVM still spent 3 ms of engine CPU per Hello5 against 0.7 ms in
   * later rounds, the JIT still compiling). Without it the first measurement of a fresh JVM (local
   * Hello5, sequential) came out 4-5x slower than the same measurement later in the same JVM,
   * whatever its own warm-up runs: the JIT had not compiled the engine's paths. A JIT log showed
   * that one JVM warm-up is not enough either: the first persist-first measurement after it ran
   * while 392 methods were compiled (15-30 in the next round), since that mode's paths had not been
   * warmed, and each round of {@code --all} starts a fresh Cassandra whose own JIT is cold.
   */
  private void warmUp(
      DurableClient client,
      List<BenchmarkWorkload> workloads,
      String sync,
      String mode,
      int seconds)
      throws InterruptedException {
    if (seconds <= 0) {
      return;
    }
    progressLine(
        String.format(
            "%s %s: warming up for %d s (8 clients, every workload, not measured)",
            sync, mode, seconds));
    AtomicBoolean stop = new AtomicBoolean(false);
    Progress bar = new Progress("JVM warm", seconds);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < 8; c++) {
        int first = c;
        threads.submit(
            () -> {
              for (int i = first; !stop.get(); i++) {
                try {
                  workloads.get(i % workloads.size()).runOnce(client, RUN_TIMEOUT);
                } catch (RuntimeException e) {
                  // warm-up only: a failure shows in the measurements
                }
              }
              return null;
            });
      }
      for (int s = 0; s < seconds; s++) {
        Thread.sleep(1000);
        bar.step(1);
      }
      stop.set(true);
    }
    bar.done();
  }

  /**
   * After the warm-up load, waits until the embedded Cassandra is idle (below 0.1 cores over a
   * second, at most 60 s): the warm-up leaves it memtables to flush and SSTables to compact, and
   * the first measurement would otherwise pay for that backlog. Seen: the first sequential Hello5
   * after the warm-up had a mean journal write of 2.35 ms while Cassandra used a full core, against
   * 0.63 ms a minute later. With {@code --contact-point} (no process to watch) it waits 10 s.
   */
  private void settle() throws InterruptedException {
    if (cassandraPid <= 0) {
      Thread.sleep(10_000);
      return;
    }
    long t0 = System.nanoTime();
    double cores = Double.NaN;
    while (System.nanoTime() - t0 < 60_000_000_000L) {
      double before = cassandraCpuSeconds();
      Thread.sleep(1000);
      cores = cassandraCpuSeconds() - before;
      if (cores < 0.1) {
        break;
      }
    }
    progressLine(
        String.format(
            "Cassandra settled after %.1f s (%.2f cores in the last second)",
            (System.nanoTime() - t0) / 1e9, cores));
  }

  private static Boolean and(Boolean a, Boolean b) {
    return a == null ? b : b == null ? a : Boolean.valueOf(a && b);
  }

  // ---------------------------------------------------------------- resources used during a
  // measurement

  private final class Window {
    final StorageMetrics.Snapshot storage = StorageMetrics.global().snapshot();
    final long writeNanos = StorageMetrics.global().journalWriteNanos();
    final long cpuNanos = os.getProcessCpuTime();
    final double cassandraCpu = cassandraCpuSeconds();
    final long started = System.nanoTime();
    final AtomicLong heapPeak = new AtomicLong();
    final Thread sampler =
        Thread.ofPlatform()
            .daemon()
            .name("benchmark-heap-sampler")
            .start(
                () -> {
                  while (!Thread.currentThread().isInterrupted()) {
                    heapPeak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                      Thread.sleep(20);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
  }

  private Window begin() {
    System.gc();
    return new Window();
  }

  private void finish(
      Window window,
      BenchmarkWorkload w,
      String measure,
      String sync,
      String mode,
      double[] latencies,
      int failures,
      Boolean correct) {
    finish(
        window,
        w,
        measure,
        sync,
        mode,
        latencies,
        failures,
        correct,
        (System.nanoTime() - window.started) / 1e9);
  }

  private void finish(
      Window window,
      BenchmarkWorkload w,
      String measure,
      String sync,
      String mode,
      double[] latencies,
      int failures,
      Boolean correct,
      double seconds) {
    window.sampler.interrupt();
    StorageMetrics.Snapshot used = StorageMetrics.global().snapshot().minus(window.storage);
    long writeNanos = StorageMetrics.global().journalWriteNanos() - window.writeNanos;
    report.add(
        new BenchmarkReport.Result(
            w.name(),
            measure,
            mode,
            sync,
            w.steps(),
            latencies,
            failures,
            seconds,
            used.journalWrites(),
            used.eventsWritten(),
            used.journalBytes(),
            used.snapshotsWritten(),
            used.journalWrites() == 0 ? 0 : writeNanos / 1e6 / used.journalWrites(),
            (os.getProcessCpuTime() - window.cpuNanos) / 1e9,
            cassandraCpuSeconds() - window.cassandraCpu,
            window.heapPeak.get() / 1048576.0,
            correct,
            options.label,
            loadAverage()));
  }

  /** User + system CPU of the embedded Cassandra, from /proc (Linux); 0 when unknown. */
  private double cassandraCpuSeconds() {
    if (cassandraPid <= 0) {
      return 0;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(cassandraPid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12]))
          / 100.0; // utime, stime in clock ticks (USER_HZ = 100)
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  // ---------------------------------------------------------------- progress (stderr, so stdout
  // stays parseable)

  private static void progressLine(String what) {
    System.err.println("== " + what);
  }

  private static final class Progress {
    private final String what;
    private final int total;
    private final AtomicInteger done = new AtomicInteger();
    private final long started = System.nanoTime();
    private volatile long lastDrawn;

    Progress(String what, int total) {
      this.what = what;
      this.total = Math.max(1, total);
    }

    void step(int n) {
      int now = done.addAndGet(n);
      long t = System.nanoTime();
      if (now >= total || t - lastDrawn > 100_000_000L) {
        lastDrawn = t;
        draw(now);
      }
    }

    synchronized void draw(int now) {
      int width = 40;
      int filled = (int) Math.min(width, (long) now * width / total);
      double elapsed = (System.nanoTime() - started) / 1e9;
      double eta = now == 0 ? 0 : elapsed * (total - now) / now;
      System.err.print(
          String.format(
              Locale.ROOT,
              "\r  %-9s [%s%s] %d/%d  %.1f s, ~%.0f s left   ",
              what,
              "#".repeat(filled),
              " ".repeat(width - filled),
              now,
              total,
              elapsed,
              Math.max(0, eta)));
      System.err.flush();
    }

    void done() {
      draw(done.get());
      System.err.println();
    }
  }

  /**
   * The value of the last occurrence of {@code name}, so that a later option overrides
   * bin/benchmark's defaults.
   */
  private static String option(String[] args, String name, String fallback) {
    String value = fallback;
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        value = args[i + 1];
      }
    }
    return value;
  }
}
