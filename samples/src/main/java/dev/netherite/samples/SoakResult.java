package dev.netherite.samples;

import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;

/**
 * The figures of one soak ({@code bin/benchmark --soak N}): N Hello5 run to completion, then a
 * restart and status reads of a random sample of them. Checkpoint figures cover the first runtime
 * (its final checkpoints included); recovery and status reads are of the restarted one.
 *
 * @param instances N, the orchestrations started
 * @param completed those that completed with the right output
 * @param failed those whose start or wait failed (e.g. timed out), or that ended otherwise
 * @param seconds from the first start to the last completion
 * @param heapAfterGcMb used heap after the N completed and two {@code System.gc()}, before the
 *     restart
 * @param heapMaxMb the JVM's maximum heap ({@code -Xmx})
 * @param checkpoints checkpoints taken by the first runtime
 * @param checkpointFailures checkpoints that failed, in both runtimes
 * @param recordsWritten instance records the checkpoints wrote (one per changed instance and
 *     checkpoint)
 * @param recordBytes bytes of those records
 * @param snapshotBytes bytes of the checkpoints' partition-wide snapshots
 * @param stopMs time to stop the first runtime (final checkpoints included)
 * @param maxPartitionRecoveryMs the longest partition recovery of the restarted runtime
 * @param statusLatenciesMs each status read of the sample after the restart, in read order
 * @param statusWrong status reads that were missing, not Completed, or had the wrong output
 * @param firstMinutePerS completions per second in the run's first minute
 * @param lastMinutePerS completions per second in the run's last minute
 */
record SoakResult(
    String mode,
    String commitlogSync,
    int instances,
    long completed,
    long failed,
    double seconds,
    double heapAfterGcMb,
    double heapMaxMb,
    long checkpoints,
    long checkpointFailures,
    long recordsWritten,
    long recordBytes,
    long snapshotBytes,
    long stopMs,
    long maxPartitionRecoveryMs,
    double[] statusLatenciesMs,
    long statusWrong,
    double firstMinutePerS,
    double lastMinutePerS,
    String label,
    String loadAverage) {

  /** Right when nothing failed, every status read was right, and every checkpoint succeeded. */
  boolean correct() {
    return failed == 0
        && completed == instances
        && statusWrong == 0
        && statusLatenciesMs.length > 0
        && checkpointFailures == 0;
  }

  double throughput() {
    return seconds <= 0 ? Double.NaN : completed / seconds;
  }

  /**
   * What the checkpoints wrote (instance records and partition-wide snapshots) per instance record
   * written: the cost of a checkpoint per changed instance, which stays flat when a checkpoint
   * writes only what changed.
   */
  double checkpointBytesPerChangedInstance() {
    return recordsWritten == 0
        ? Double.NaN
        : (double) (recordBytes + snapshotBytes) / recordsWritten;
  }

  double statusPct(int p) {
    double[] sorted = statusLatenciesMs.clone();
    Arrays.sort(sorted);
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  String resultLine() {
    return String.format(
        Locale.ROOT,
        "RESULT workload=hello5:soak-%d mode=%s commitlog_sync=%s heap_after_gc_mb=%.0f checkpoints=%d"
            + " checkpoint_failures=%d checkpoint_bytes_per_changed_instance=%.0f max_partition_recovery_ms=%d"
            + " cold_status_p50_ms=%.3f throughput_per_s=%.1f first_minute_per_s=%.1f last_minute_per_s=%.1f"
            + " correct=%s",
        instances,
        mode,
        commitlogSync,
        heapAfterGcMb,
        checkpoints,
        checkpointFailures,
        checkpointBytesPerChangedInstance(),
        maxPartitionRecoveryMs,
        statusPct(50),
        throughput(),
        firstMinutePerS,
        lastMinutePerS,
        correct());
  }

  String jsonLine() {
    return String.format(
        Locale.ROOT,
        "{\"time\":\"%s\",\"label\":\"%s\",\"workload\":\"hello5\",\"measure\":\"soak-%d\",\"mode\":\"%s\","
            + "\"commitlog_sync\":\"%s\",\"orchestrations\":%d,\"failures\":%d,\"seconds\":%.3f,"
            + "\"throughput_per_s\":%.1f,\"first_minute_per_s\":%.1f,\"last_minute_per_s\":%.1f,"
            + "\"heap_after_gc_mb\":%.0f,\"heap_max_mb\":%.0f,\"checkpoints\":%d,\"checkpoint_failures\":%d,"
            + "\"records_written\":%d,\"record_bytes\":%d,\"snapshot_bytes\":%d,"
            + "\"checkpoint_bytes_per_changed_instance\":%.0f,\"stop_ms\":%d,\"max_partition_recovery_ms\":%d,"
            + "\"status_reads\":%d,\"status_wrong\":%d,\"cold_status_p50_ms\":%.3f,\"cold_status_p99_ms\":%.3f,"
            + "\"correct\":%s,\"cpus\":%d,\"load_average\":\"%s\",\"java\":\"%s\"}%n",
        Instant.now(),
        label,
        instances,
        mode,
        commitlogSync,
        completed,
        failed,
        seconds,
        throughput(),
        firstMinutePerS,
        lastMinutePerS,
        heapAfterGcMb,
        heapMaxMb,
        checkpoints,
        checkpointFailures,
        recordsWritten,
        recordBytes,
        snapshotBytes,
        checkpointBytesPerChangedInstance(),
        stopMs,
        maxPartitionRecoveryMs,
        statusLatenciesMs.length,
        statusWrong,
        statusPct(50),
        statusPct(99),
        correct(),
        Runtime.getRuntime().availableProcessors(),
        loadAverage,
        System.getProperty("java.version"));
  }

  /**
   * Completions per second over the first and over the last {@code window} seconds of a run, from
   * samples of (seconds since the start, completions so far) in time order whose last sample is the
   * end of the run; counts between samples are interpolated linearly. A run shorter than the window
   * gives its whole rate for both.
   */
  static double[] firstAndLastRates(double[] seconds, long[] counts, double window) {
    if (seconds.length != counts.length || seconds.length < 2) {
      throw new IllegalArgumentException(
          "Rates need at least two samples of time and count, as many of each; there were "
              + seconds.length
              + " and "
              + counts.length
              + ".");
    }
    double start = seconds[0];
    double end = seconds[seconds.length - 1];
    double w = Math.min(window, end - start);
    if (w <= 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double first = (countAt(seconds, counts, start + w) - counts[0]) / w;
    double last = (counts[counts.length - 1] - countAt(seconds, counts, end - w)) / w;
    return new double[] {first, last};
  }

  private static double countAt(double[] seconds, long[] counts, double t) {
    for (int i = 1; i < seconds.length; i++) {
      if (seconds[i] >= t) {
        double span = seconds[i] - seconds[i - 1];
        double share = span <= 0 ? 1 : (t - seconds[i - 1]) / span;
        return counts[i - 1] + share * (counts[i] - counts[i - 1]);
      }
    }
    return counts[counts.length - 1];
  }
}
