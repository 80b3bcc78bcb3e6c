package dev.netherite.samples;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One workload of the benchmark: how to run one orchestration of it to completion through the
 * public client, and whether its answer was right. Adding a workload is a class (or lambda-built
 * instance) and one line in {@link #REGISTRY}.
 */
public interface BenchmarkWorkload {

  /** What the benchmark measures for a workload. */
  enum Measure {
    /** One orchestration at a time: latency percentiles. */
    SEQUENTIAL,
    /** N started at once: throughput. */
    BURST,
    /** C clients, each starting the next orchestration when its last one completed: throughput. */
    CLOSED_LOOP
  }

  /** The name in results, e.g. {@code hello5} or {@code sequence-1000}. */
  String name();

  /**
   * Runs one orchestration to completion; true or false if its answer was (not) right, null if not
   * checkable.
   */
  Boolean runOnce(DurableClient client, Duration timeout);

  /** Activity calls (steps) per orchestration, for per-step figures. */
  default int steps() {
    return 1;
  }

  /** The measurements this workload takes part in by default. */
  default Set<Measure> measures() {
    return EnumSet.of(Measure.SEQUENTIAL);
  }

  /**
   * How many sequential runs to measure when {@code requested} are asked for (long workloads take
   * fewer).
   */
  default int sequentialRuns(int requested) {
    return requested;
  }

  /** Called once in a fresh runtime before its first measurement (e.g. to create accounts). */
  default void prepare(DurableClient client) {}

  /**
   * Called after each measurement: a whole-run check (e.g. money conserved); null if there is none.
   */
  default Boolean verify(DurableClient client) {
    return null;
  }

  // ---------------------------------------------------------------- the built-in workloads

  /**
   * Workload names, or name prefixes ending in '-' that take a number (sequence-N), to their
   * factories.
   */
  Map<String, Function<String, BenchmarkWorkload>> REGISTRY = registry();

  List<String> DEFAULT_WORKLOADS = List.of("hello5", "sequence-10", "sequence-1000");

  static BenchmarkWorkload named(String spec) {
    Function<String, BenchmarkWorkload> exact = REGISTRY.get(spec);
    if (exact != null) {
      return exact.apply(spec);
    }
    int dash = spec.lastIndexOf('-');
    Function<String, BenchmarkWorkload> prefixed =
        dash < 0 ? null : REGISTRY.get(spec.substring(0, dash + 1));
    if (prefixed == null) {
      throw new IllegalArgumentException(
          "No benchmark workload named '"
              + spec
              + "'; known workloads are: "
              + REGISTRY.keySet().stream().map(k -> k.endsWith("-") ? k + "N" : k).toList()
              + ".");
    }
    return prefixed.apply(spec.substring(dash + 1));
  }

  private static Map<String, Function<String, BenchmarkWorkload>> registry() {
    Map<String, Function<String, BenchmarkWorkload>> r = new LinkedHashMap<>();
    r.put("hello5", any -> new Hello5Workload());
    r.put("sequence-", length -> new SequenceWorkload(Integer.parseInt(length)));
    r.put("bank", any -> new EntityWorkloads.BankWorkload());
    r.put("counter-hot", any -> new EntityWorkloads.CounterWorkload(true));
    r.put("counter-spread", any -> new EntityWorkloads.CounterWorkload(false));
    r.put("wordcount", any -> new EntityWorkloads.WordCountWorkload());
    r.put("collision", any -> new EntityWorkloads.CollisionWorkload());
    return Map.copyOf(r);
  }

  /** Hello5: five activities in sequence; right when every greeting is. */
  final class Hello5Workload implements BenchmarkWorkload {
    @Override
    public String name() {
      return "hello5";
    }

    @Override
    public int steps() {
      return Hello5.CITIES.size();
    }

    @Override
    public Set<Measure> measures() {
      return EnumSet.allOf(Measure.class);
    }

    @Override
    public Boolean runOnce(DurableClient client, Duration timeout) {
      InstanceId id = client.start(Hello5.HELLO5, null);
      InstanceStatus done = client.waitForCompletion(id, timeout);
      return Hello5.EXPECTED.equals(done.output(List.class));
    }
  }

  /** Sequence-N: N activities in a chain; right when the chain's checksum is. */
  record SequenceWorkload(int length) implements BenchmarkWorkload {
    public SequenceWorkload {
      if (length < 1) {
        throw new IllegalArgumentException("sequence-N needs N >= 1; it was " + length + ".");
      }
    }

    @Override
    public String name() {
      return "sequence-" + length;
    }

    @Override
    public int steps() {
      return length;
    }

    @Override
    public int sequentialRuns(int requested) {
      return Math.max(5, Math.min(requested, 2000 / length));
    }

    @Override
    public Boolean runOnce(DurableClient client, Duration timeout) {
      InstanceId id = client.start(Sequence.SEQUENCE, length);
      Sequence.Token token = client.waitForCompletion(id, timeout).output(Sequence.Token.class);
      return token != null
          && token.step() == length
          && token.checksum() == Sequence.expectedChecksum(length);
    }
  }
}
