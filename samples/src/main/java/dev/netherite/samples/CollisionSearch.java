package dev.netherite.samples;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.ActivityThread;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import java.util.ArrayList;
import java.util.List;

/**
 * CollisionSearch, divide and conquer: find every value in an interval whose hash equals a target.
 * An interval longer than the threshold is split into 10 sub-orchestrations; a shorter one is
 * searched by a CPU-bound activity.
 */
public final class CollisionSearch {
  /** Search {@code [start, end)} for values whose {@link #hash} is {@code target}. */
  public record Interval(long start, long end, long target, long threshold) {
    public Interval {
      if (end < start || threshold < 1) {
        throw new IllegalArgumentException(
            "A search interval needs start <= end and a positive threshold: " + this);
      }
    }

    long length() {
      return end - start;
    }
  }

  /** The values found, in increasing order. */
  public record Found(List<Long> values) {}

  public static final int FAN_OUT = 10;

  public static final ActivityRef<Interval, Found> SEARCH_RANGE =
      ActivityRef.of("SearchRange", Interval.class, Found.class);
  public static final OrchestrationRef<Interval, Found> SEARCH =
      OrchestrationRef.of("CollisionSearch", Interval.class, Found.class);

  private CollisionSearch() {}

  static Found search(OrchestrationContext ctx, Interval in) {
    if (in.length() <= in.threshold()) {
      return ctx.call(SEARCH_RANGE, in).await();
    }
    long step = (in.length() + FAN_OUT - 1) / FAN_OUT;
    List<Task<Found>> parts = new ArrayList<>();
    for (long s = in.start(); s < in.end(); s += step) {
      parts.add(
          ctx.callSubOrchestration(
              SEARCH, new Interval(s, Math.min(in.end(), s + step), in.target(), in.threshold())));
    }
    List<Long> found = new ArrayList<>();
    for (Task<Found> part : parts) {
      found.addAll(part.await().values());
    }
    return new Found(found);
  }

  static Found searchRange(Interval in) {
    List<Long> found = new ArrayList<>();
    for (long x = in.start(); x < in.end(); x++) {
      if (hash(x) == in.target()) {
        found.add(x);
      }
    }
    return new Found(found);
  }

  /**
   * A 40-bit mix of {@code x} (SplitMix64's finalizer): cheap, and collisions are rare but
   * possible.
   */
  public static long hash(long x) {
    long z = x + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (z ^ (z >>> 31)) & 0xFF_FFFF_FFFFL;
  }

  /**
   * A search over {@code [0, length)} for the hash of {@code planted}, which must then be among the
   * values found.
   */
  public static Interval planted(long length, long planted, long threshold) {
    return new Interval(0, length, hash(planted), threshold);
  }

  public static Workflows.Builder register(Workflows.Builder builder) {
    return builder
        // CPU-bound: on a platform thread, so that long searches cannot hold the carriers the
        // partitions run on.
        .activity(SEARCH_RANGE, (ctx, in) -> searchRange(in), ActivityThread.PLATFORM)
        .orchestration(SEARCH, CollisionSearch::search);
  }
}
