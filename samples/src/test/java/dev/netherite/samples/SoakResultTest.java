package dev.netherite.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The soak's machine-readable output keeps its exact form; its rates and verdict are right. */
class SoakResultTest {
  private static final Pattern RESULT =
      Pattern.compile(
          "RESULT workload=hello5:soak-[0-9]+ mode=(local|persist-first|global) commitlog_sync=(periodic|group|batch)"
              + " heap_after_gc_mb=[0-9]+ checkpoints=[0-9]+ checkpoint_failures=[0-9]+"
              + " checkpoint_bytes_per_changed_instance=[0-9]+ max_partition_recovery_ms=[0-9]+"
              + " cold_status_p50_ms=[0-9.]+ throughput_per_s=[0-9.]+ first_minute_per_s=[0-9.]+"
              + " last_minute_per_s=[0-9.]+ correct=(true|false)");

  private static SoakResult result(long failed, long statusWrong, long checkpointFailures) {
    return new SoakResult(
        "local",
        "periodic",
        1000,
        1000 - failed,
        failed,
        2.0,
        310.4,
        1024,
        30,
        checkpointFailures,
        2000,
        1_800_000,
        200_000,
        850,
        420,
        new double[] {3, 1, 2, 4},
        statusWrong,
        600,
        400,
        "test",
        "0.1 0.2 0.3");
  }

  @Test
  void resultLineHasTheExactForm() {
    String line = result(0, 0, 0).resultLine();
    assertTrue(RESULT.matcher(line).matches(), line);
    assertEquals(
        "RESULT workload=hello5:soak-1000 mode=local commitlog_sync=periodic heap_after_gc_mb=310 checkpoints=30"
            + " checkpoint_failures=0 checkpoint_bytes_per_changed_instance=1000 max_partition_recovery_ms=420"
            + " cold_status_p50_ms=2.000 throughput_per_s=500.0 first_minute_per_s=600.0 last_minute_per_s=400.0"
            + " correct=true",
        line);
  }

  @Test
  void anyFailureWrongStatusOrFailedCheckpointMakesItIncorrect() {
    assertTrue(result(0, 0, 0).correct());
    assertFalse(result(1, 0, 0).correct());
    assertFalse(result(0, 1, 0).correct());
    assertFalse(result(0, 0, 1).correct());
    assertTrue(result(0, 1, 0).resultLine().endsWith(" correct=false"));
  }

  @Test
  void jsonLineIsOneLine() {
    String json = result(0, 0, 0).jsonLine();
    assertEquals(1, json.strip().lines().count());
    assertTrue(
        json.contains("\"measure\":\"soak-1000\"") && json.contains("\"correct\":true"), json);
    assertTrue(json.contains("\"cold_status_p99_ms\":4.000"), json);
  }

  @Test
  void ratesOfTheFirstAndLastMinuteAreInterpolatedBetweenSamples() {
    // 100/s for the first 90 s, then 50/s for 90 s more; samples every 30 s, the end at 180 s.
    double[] seconds = {0, 30, 60, 90, 120, 150, 180};
    long[] counts = {0, 3000, 6000, 9000, 10500, 12000, 13500};
    assertArrayEquals(
        new double[] {100, 50}, SoakResult.firstAndLastRates(seconds, counts, 60), 1e-9);
    // A window between samples: 45 s in is 4500, 135 s in is 11250.
    assertArrayEquals(
        new double[] {100, 50}, SoakResult.firstAndLastRates(seconds, counts, 45), 1e-9);
  }

  @Test
  void aRunShorterThanTheWindowGivesItsWholeRateForBoth() {
    double[] rates =
        SoakResult.firstAndLastRates(new double[] {0, 5, 10.5}, new long[] {0, 900, 2100}, 60);
    assertEquals(200, rates[0], 1e-9);
    assertEquals(200, rates[1], 1e-9);
  }
}
