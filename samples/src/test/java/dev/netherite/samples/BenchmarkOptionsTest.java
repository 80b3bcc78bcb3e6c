package dev.netherite.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The order the benchmark runs the modes in: forwards, then backwards, pass after pass. */
class BenchmarkOptionsTest {
  @Test
  void passesAndRoundsTurnTheOrderOfTheModes() {
    Benchmark.Options options =
        Benchmark.Options.parse(new String[] {"--modes", "local,global", "--passes", "3"});
    assertEquals(3, options.passes());
    assertEquals(List.of("local", "global"), options.modeOrder(1));
    assertEquals(List.of("global", "local"), options.modeOrder(2));
    assertEquals(List.of("local", "global"), options.modeOrder(3));
    // the first pass of round 2 is the fourth in all
    assertEquals(List.of("global", "local"), options.modeOrder(4));
  }

  @Test
  void oneRunOfEachModeKeepsTheGivenOrder() {
    Benchmark.Options options =
        Benchmark.Options.parse(new String[] {"--modes", "global,local,persist-first"});
    assertEquals(1, options.passes());
    assertEquals(List.of("global", "local", "persist-first"), options.modeOrder(1));
  }
}
