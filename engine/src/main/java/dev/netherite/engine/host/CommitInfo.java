package dev.netherite.engine.host;

import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.StepId;
import java.util.Map;
import java.util.TreeMap;

/**
 * INTERNAL API
 *
 * <p>What one partition tells the others in the {@code global} persistence mode: it runs {@code
 * incarnation}; every step of it up to {@code committed} is committed (durable, and everything it
 * depends on committed, in every partition); each earlier incarnation survived up to its end in
 * {@code ends} (an earlier incarnation from {@code endsFrom} on that has no end lost every step). A
 * partition commits a step only once what it depends on is committed, so a step known committed
 * needs nothing more: tags name only the sender's step, and commit is transitive through this.
 */
public record CommitInfo(long incarnation, StepId committed, Map<Long, Long> ends, long endsFrom)
    implements WireSerializable {

  public CommitInfo {
    ends = new TreeMap<>(ends);
  }

  /** What is known of one step of the partition that sent this. */
  public enum Fate {
    COMMITTED,
    PENDING,
    LOST
  }

  public Fate fateOf(StepId step) {
    if (step.incarnation() > incarnation) {
      return Fate.PENDING; // this information is older than the step
    }
    if (step.incarnation() < incarnation) {
      Long end = ends.get(step.incarnation());
      if (end == null) {
        return step.incarnation() >= endsFrom ? Fate.LOST : Fate.PENDING;
      }
      if (step.position() > end) {
        return Fate.LOST;
      }
    }
    return step.compareTo(committed) <= 0 ? Fate.COMMITTED : Fate.PENDING;
  }

  /** The newer of the two: a later incarnation, or the same one committed further. */
  public static CommitInfo newer(CommitInfo a, CommitInfo b) {
    if (a == null) {
      return b;
    }
    if (b == null || a.incarnation > b.incarnation) {
      return a;
    }
    if (b.incarnation > a.incarnation) {
      return b;
    }
    return a.committed.compareTo(b.committed) >= 0 ? a : b;
  }

  static CommitInfo of(long incarnation, StepId committed, Map<Long, Long> ends, long endsFrom) {
    return new CommitInfo(incarnation, committed, new TreeMap<>(ends), endsFrom);
  }
}
