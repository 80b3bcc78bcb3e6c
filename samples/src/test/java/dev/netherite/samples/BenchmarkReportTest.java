package dev.netherite.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's machine-readable output keeps its exact form, and workloads are found by name.
 */
class BenchmarkReportTest {
  private static final Pattern RESULT =
      Pattern.compile(
          "RESULT workload=\\S+ mode=(local|persist-first|global) commitlog_sync=(periodic|group|batch) p50_ms=[0-9.]+"
              + " p95_ms=[0-9.]+ p99_ms=[0-9.]+ throughput_per_s=[0-9.]+ journal_writes_per_orch=[0-9.]+ bytes_per_orch=[0-9]+"
              + "( correct=(true|false))?");

  private static BenchmarkReport.Result result(Boolean correct) {
    return new BenchmarkReport.Result(
        "hello5",
        "sequential",
        "local",
        "periodic",
        5,
        new double[] {3, 1, 2, 4},
        0,
        2.0,
        4,
        48,
        4000,
        0,
        1.5,
        0.5,
        0.1,
        40,
        correct,
        "test",
        "0.1 0.2 0.3");
  }

  @Test
  void resultLineHasTheExactForm() {
    String line = result(true).resultLine();
    assertTrue(RESULT.matcher(line).matches(), line);
    assertEquals(
        "RESULT workload=hello5:sequential mode=local commitlog_sync=periodic p50_ms=2.000 p95_ms=4.000 p99_ms=4.000"
            + " throughput_per_s=2.0 journal_writes_per_orch=1.000 bytes_per_orch=1000 correct=true",
        line);
    assertTrue(RESULT.matcher(result(null).resultLine()).matches());
    assertTrue(!result(null).resultLine().contains("correct="));
  }

  @Test
  void jsonLineIsOneLine() {
    String json = result(false).jsonLine();
    assertEquals(1, json.strip().lines().count());
    assertTrue(
        json.contains("\"correct\":false") && json.contains("\"per_step_p50_ms\":0.4000"), json);
  }

  @Test
  void workloadsAreFoundByName() {
    assertEquals("hello5", BenchmarkWorkload.named("hello5").name());
    assertEquals(1000, BenchmarkWorkload.named("sequence-1000").steps());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BenchmarkWorkload.named("helo5"));
    assertTrue(e.getMessage().contains("hello5"), e.getMessage());
  }
}
