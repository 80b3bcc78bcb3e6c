package dev.netherite.samples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The benchmark's outputs: RESULT lines, JSON lines, the summary table and the latency plot. */
final class BenchmarkReport {

  /** One measurement. Latencies are client-observed, per orchestration, in milliseconds. */
  record Result(
      String workload,
      String measure,
      String mode,
      String commitlogSync,
      int steps,
      double[] latenciesMs,
      int failures,
      double seconds,
      long journalWrites,
      long events,
      long bytes,
      long snapshots,
      double journalWriteMeanMs,
      double engineCpuSeconds,
      double cassandraCpuSeconds,
      double heapPeakMb,
      Boolean correct,
      String label,
      String loadAverage) {

    String workloadLabel() {
      return workload + ":" + measure;
    }

    int completed() {
      return latenciesMs.length;
    }

    double pct(int p) {
      double[] sorted = latenciesMs.clone();
      Arrays.sort(sorted);
      if (sorted.length == 0) {
        return Double.NaN;
      }
      int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
      return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    double throughput() {
      return completed() / seconds;
    }

    double perOrch(long total) {
      return completed() == 0 ? Double.NaN : (double) total / completed();
    }

    String resultLine() {
      return String.format(
          Locale.ROOT,
          "RESULT workload=%s mode=%s commitlog_sync=%s p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f throughput_per_s=%.1f journal_writes_per_orch=%.3f bytes_per_orch=%.0f%s",
          workloadLabel(),
          mode,
          commitlogSync,
          pct(50),
          pct(95),
          pct(99),
          throughput(),
          perOrch(journalWrites),
          perOrch(bytes),
          correct == null ? "" : " correct=" + correct);
    }

    String jsonLine() {
      return String.format(
          Locale.ROOT,
          "{\"time\":\"%s\",\"label\":\"%s\",\"workload\":\"%s\",\"measure\":\"%s\",\"mode\":\"%s\",\"commitlog_sync\":\"%s\","
              + "\"orchestrations\":%d,\"failures\":%d,\"seconds\":%.3f,\"steps_per_orch\":%d,"
              + "\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"per_step_p50_ms\":%.4f,"
              + "\"throughput_per_s\":%.1f,\"journal_writes\":%d,\"events\":%d,\"bytes\":%d,\"snapshots\":%d,"
              + "\"journal_writes_per_orch\":%.3f,\"events_per_orch\":%.2f,\"bytes_per_orch\":%.0f,\"snapshots_per_orch\":%.4f,"
              + "\"journal_write_mean_ms\":%.3f,\"engine_cpu_s\":%.2f,\"engine_cpu_ms_per_orch\":%.3f,\"engine_cpu_cores\":%.2f,"
              + "\"cassandra_cpu_s\":%.2f,\"heap_peak_mb\":%.0f,\"correct\":%s,\"cpus\":%d,\"load_average\":\"%s\","
              + "\"java\":\"%s\"}%n",
          Instant.now(),
          label,
          workload,
          measure,
          mode,
          commitlogSync,
          completed(),
          failures,
          seconds,
          steps,
          pct(50),
          pct(95),
          pct(99),
          pct(100),
          pct(50) / steps,
          throughput(),
          journalWrites,
          events,
          bytes,
          snapshots,
          perOrch(journalWrites),
          perOrch(events),
          perOrch(bytes),
          perOrch(snapshots),
          journalWriteMeanMs,
          engineCpuSeconds,
          1000 * engineCpuSeconds / Math.max(1, completed()),
          engineCpuSeconds / seconds,
          cassandraCpuSeconds,
          heapPeakMb,
          correct == null ? "null" : correct.toString(),
          Runtime.getRuntime().availableProcessors(),
          loadAverage,
          System.getProperty("java.version"));
    }
  }

  private final Path jsonFile;
  private final Path plotFile;
  private final List<Result> results = new ArrayList<>();

  BenchmarkReport(Path jsonFile, Path plotFile) {
    this.jsonFile = jsonFile;
    this.plotFile = plotFile;
  }

  void add(Result r) {
    results.add(r);
    System.out.println(r.resultLine());
    System.out.flush();
    appendLine(jsonFile, r.jsonLine());
  }

  /** Appends one JSON line to the results file, creating it (and its directory) if needed. */
  static void appendLine(Path jsonFile, String line) {
    try {
      Path parent = jsonFile.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Files.writeString(jsonFile, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void printSummary() {
    String header =
        String.format(
            Locale.ROOT,
            "%-8s %-13s %-26s %6s %8s %8s %8s %9s %8s %7s %7s %7s %7s %6s %6s %6s %s",
            "sync",
            "mode",
            "workload:measure",
            "orch",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "step p50",
            "orch/s",
            "wr/orch",
            "ev/orch",
            "B/orch",
            "wr ms",
            "cpu",
            "C*cpu",
            "heapMB",
            "correct");
    System.out.println();
    System.out.println(
        "Summary (latency client-observed; step p50 = p50 / steps; cpu = engine cores busy; C*cpu = Cassandra's):");
    System.out.println(header);
    System.out.println("-".repeat(header.length()));
    for (Result r : results) {
      System.out.println(
          String.format(
              Locale.ROOT,
              "%-8s %-13s %-26s %6d %8.2f %8.2f %8.2f %9.3f %8.1f %7.2f %7.1f %7.0f %7.2f %6.2f %6.2f %6.0f %s",
              r.commitlogSync(),
              r.mode(),
              r.workloadLabel(),
              r.completed(),
              r.pct(50),
              r.pct(95),
              r.pct(99),
              r.pct(50) / r.steps(),
              r.throughput(),
              r.perOrch(r.journalWrites()),
              r.perOrch(r.events()),
              r.perOrch(r.bytes()),
              r.journalWriteMeanMs(),
              r.engineCpuSeconds() / r.seconds(),
              r.cassandraCpuSeconds() / r.seconds(),
              r.heapPeakMb(),
              r.correct() == null
                  ? "-"
                  : r.correct() + (r.failures() > 0 ? " (" + r.failures() + " failed)" : "")));
    }
  }

  /** With several rounds of the same measurements: the median of each figure over the rounds. */
  void printMedians() {
    Map<String, List<Result>> groups = new LinkedHashMap<>();
    for (Result r : results) {
      groups
          .computeIfAbsent(
              r.commitlogSync() + " " + r.mode() + " " + r.workloadLabel(), k -> new ArrayList<>())
          .add(r);
    }
    if (groups.values().stream().allMatch(g -> g.size() < 2)) {
      return;
    }
    String header =
        String.format(
            Locale.ROOT,
            "%-8s %-13s %-26s %6s %8s %8s %8s %9s %8s %7s %7s",
            "sync",
            "mode",
            "workload:measure",
            "rounds",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "step p50",
            "orch/s",
            "wr/orch",
            "B/orch");
    System.out.println();
    System.out.println("Medians over the rounds:");
    System.out.println(header);
    System.out.println("-".repeat(header.length()));
    for (List<Result> g : groups.values()) {
      Result first = g.get(0);
      System.out.println(
          String.format(
              Locale.ROOT,
              "%-8s %-13s %-26s %6d %8.2f %8.2f %8.2f %9.3f %8.1f %7.2f %7.0f",
              first.commitlogSync(),
              first.mode(),
              first.workloadLabel(),
              g.size(),
              median(g, r -> r.pct(50)),
              median(g, r -> r.pct(95)),
              median(g, r -> r.pct(99)),
              median(g, r -> r.pct(50) / r.steps()),
              median(g, Result::throughput),
              median(g, r -> r.perOrch(r.journalWrites())),
              median(g, r -> r.perOrch(r.bytes()))));
    }
  }

  private static double median(
      List<Result> group, java.util.function.ToDoubleFunction<Result> figure) {
    double[] values = group.stream().mapToDouble(figure).sorted().toArray();
    int n = values.length;
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }

  /**
   * A self-contained HTML page: per workload and measurement, the latency CDF of every mode and
   * durability.
   */
  void writePlot() {
    Map<String, List<Result>> panels = new LinkedHashMap<>();
    for (Result r : results) {
      panels.computeIfAbsent(r.workloadLabel(), k -> new ArrayList<>()).add(r);
    }
    StringBuilder html = new StringBuilder();
    html.append(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>netherite-java benchmark</title>")
        .append(
            "<style>body{font-family:sans-serif;margin:20px}svg{border:1px solid #ccc;margin:0 20px 20px 0}")
        .append("td,th{padding:2px 8px;text-align:right}</style></head><body>")
        .append("<h1>Client-observed latency distribution</h1><p>Generated ")
        .append(Instant.now())
        .append(
            ". Each panel: cumulative share of orchestrations (y) completed within a latency (x, log scale, ms), one curve per persistence mode and commitlog_sync.</p>");
    String[] colors = {
      "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"
    };
    for (Map.Entry<String, List<Result>> panel : panels.entrySet()) {
      html.append(svgPanel(panel.getKey(), panel.getValue(), colors));
    }
    html.append(
        "<h2>Figures</h2><table><tr><th>sync</th><th>mode</th><th>workload:measure</th><th>orch</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>orch/s</th><th>writes/orch</th><th>bytes/orch</th><th>correct</th></tr>");
    for (Result r : results) {
      html.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.1f</td><td>%.2f</td><td>%.0f</td><td>%s</td></tr>",
              r.commitlogSync(),
              r.mode(),
              r.workloadLabel(),
              r.completed(),
              r.pct(50),
              r.pct(95),
              r.pct(99),
              r.throughput(),
              r.perOrch(r.journalWrites()),
              r.perOrch(r.bytes()),
              r.correct() == null ? "-" : r.correct()));
    }
    html.append("</table></body></html>\n");
    try {
      Files.createDirectories(plotFile.toAbsolutePath().getParent());
      Files.writeString(plotFile, html);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.println("Latency plot: " + plotFile.toAbsolutePath());
  }

  private static String svgPanel(String title, List<Result> series, String[] colors) {
    int w = 560, h = 340, left = 50, right = 160, top = 30, bottom = 40;
    double min = Double.MAX_VALUE, max = 0;
    for (Result r : series) {
      for (double v : r.latenciesMs()) {
        if (v > 0) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
    }
    if (max <= 0) {
      return "";
    }
    double lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    if (hi <= lo) {
      hi = lo + 1;
    }
    double plotW = w - left - right, plotH = h - top - bottom;
    double loF = lo, hiF = hi;
    java.util.function.DoubleUnaryOperator x =
        v -> left + (Math.log10(v) - loF) / (hiF - loF) * plotW;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">",
            w,
            h));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>",
            left,
            title));
    for (double d = lo; d <= hi; d++) {
      double gx = left + (d - lo) / (hi - lo) * plotW;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>",
              gx,
              top,
              gx,
              top + plotH,
              gx,
              top + plotH + 14,
              fmt(Math.pow(10, d))));
    }
    for (int q = 0; q <= 4; q++) {
      double gy = top + plotH - q / 4.0 * plotH;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%d%%</text>",
              left,
              gy,
              left + plotW,
              gy,
              left - 4,
              gy + 4,
              q * 25));
    }
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">latency (ms, log)</text>",
            left + plotW / 2,
            h - 6));
    int k = 0;
    for (Result r : series) {
      double[] sorted = r.latenciesMs().clone();
      Arrays.sort(sorted);
      String color = colors[k % colors.length];
      StringBuilder points = new StringBuilder();
      int n = sorted.length;
      int stride = Math.max(1, n / 400);
      for (int i = 0; i < n; i += stride) {
        double v = Math.max(sorted[i], Math.pow(10, lo));
        points.append(
            String.format(
                Locale.ROOT,
                "%.1f,%.1f ",
                x.applyAsDouble(v),
                top + plotH - (i + 1.0) / n * plotH));
      }
      if (n > 0) {
        points.append(
            String.format(
                Locale.ROOT,
                "%.1f,%.1f",
                x.applyAsDouble(Math.max(sorted[n - 1], Math.pow(10, lo))),
                (double) top));
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>",
              color,
              points));
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.1f\" y=\"%d\" font-size=\"11\">%s/%s p50 %.1f</text>",
              left + plotW + 10,
              top + 16 * k,
              color,
              left + plotW + 24,
              top + 16 * k + 9,
              r.mode(),
              r.commitlogSync(),
              r.pct(50)));
      k++;
    }
    svg.append("</svg>");
    return svg.toString();
  }

  private static String fmt(double v) {
    return v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
  }
}
