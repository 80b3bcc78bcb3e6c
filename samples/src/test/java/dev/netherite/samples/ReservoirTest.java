package dev.netherite.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The soak's sample of completed ids: bounded, and uniform over everything offered. */
class ReservoirTest {

  @Test
  void keepsEveryItemWhileFewerThanItsCapacityAreOffered() {
    Reservoir<Integer> r = new Reservoir<>(10, new Random(1));
    for (int i = 0; i < 7; i++) {
      r.offer(i);
    }
    assertEquals(Set.of(0, 1, 2, 3, 4, 5, 6), new HashSet<>(r.sample()));
    assertEquals(7, r.offered());
  }

  @Test
  void keepsExactlyItsCapacityOfDistinctOfferedItems() {
    Reservoir<Integer> r = new Reservoir<>(1000, new Random(2));
    for (int i = 0; i < 200_000; i++) {
      r.offer(i);
    }
    List<Integer> sample = r.sample();
    assertEquals(1000, sample.size());
    assertEquals(1000, new HashSet<>(sample).size());
    assertTrue(sample.stream().allMatch(i -> i >= 0 && i < 200_000));
    assertEquals(200_000, r.offered());
  }

  /**
   * Each of 100 items, sampled 10 at a time in 4000 seeded trials, is kept about 400 times
   * (capacity / offered = 1/10); a reservoir that favoured the first or the last items would keep
   * them up to 4000 times and others never.
   */
  @Test
  void everyItemIsKeptWithTheSameProbability() {
    int[] kept = new int[100];
    Random seeds = new Random(3);
    for (int trial = 0; trial < 4000; trial++) {
      Reservoir<Integer> r = new Reservoir<>(10, new Random(seeds.nextLong()));
      for (int i = 0; i < 100; i++) {
        r.offer(i);
      }
      r.sample().forEach(i -> kept[i]++);
    }
    for (int i = 0; i < 100; i++) {
      // 400 expected, standard deviation 19: +-100 is more than 5 deviations.
      assertTrue(kept[i] > 300 && kept[i] < 500, "item " + i + " kept " + kept[i] + " times");
    }
    // The first and the last tenth together, each near 10 % of their 40 000 keeps.
    int first = 0, last = 0;
    for (int i = 0; i < 10; i++) {
      first += kept[i];
      last += kept[90 + i];
    }
    assertTrue(Math.abs(first - last) < 400, "first tenth " + first + ", last tenth " + last);
  }

  @Test
  void refusesAnEmptyCapacity() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new Reservoir<>(0, new Random()));
    assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
  }
}
