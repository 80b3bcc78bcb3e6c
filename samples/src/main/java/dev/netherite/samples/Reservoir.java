package dev.netherite.samples;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A uniform random sample of at most {@code capacity} of the items offered, however many are
 * offered, in memory bounded by the capacity (reservoir sampling, Vitter's algorithm R): after n
 * offers, each of the n items is in the sample with probability capacity / n. Thread-safe: the
 * soak's clients offer concurrently.
 */
final class Reservoir<T> {
  private final int capacity;
  private final Random random;
  private final List<T> sample;
  private long offered;

  Reservoir(int capacity, Random random) {
    if (capacity < 1) {
      throw new IllegalArgumentException(
          "A reservoir needs a capacity of at least 1; it was " + capacity + ".");
    }
    this.capacity = capacity;
    this.random = random;
    this.sample = new ArrayList<>(capacity);
  }

  synchronized void offer(T item) {
    offered++;
    if (sample.size() < capacity) {
      sample.add(item);
      return;
    }
    // The n-th item replaces a random one with probability capacity / n, which keeps every item
    // offered so far in the sample with that same probability.
    long slot = random.nextLong(offered);
    if (slot < capacity) {
      sample.set((int) slot, item);
    }
  }

  synchronized long offered() {
    return offered;
  }

  /** A copy of the sample, in no particular order. */
  synchronized List<T> sample() {
    return new ArrayList<>(sample);
  }
}
