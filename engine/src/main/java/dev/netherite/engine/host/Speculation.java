package dev.netherite.engine.host;

import dev.netherite.engine.partition.StepId;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * INTERNAL API
 *
 * <p>The commit of one partition in the {@code global} persistence mode: which of its steps wait
 * for steps of other partitions, what those partitions have told it they committed, how far its own
 * commit has come, and what waits for it. Pure bookkeeping, driven by the {@link PartitionHost}.
 *
 * <p>A step of this partition is committed when it is durable here and every step of another
 * partition that it, or any step before it, consumed is committed there. Dependencies enter in
 * applied order, so the commit is a frontier: the durable position, held back to just before the
 * first dependency still pending.
 */
final class Speculation {

  /**
   * From step {@code at} on, this partition depends on step {@code step} of {@code origin}. A
   * dependency {@code recovered} from the log may have been committed before the crash (nothing
   * records when), so only the origin can settle it: it is never given up on for slowness.
   */
  record Dependency(StepId at, int origin, StepId step, long sinceNanos, boolean recovered) {}

  private record Waiter(StepId at, Runnable action) {}

  private final Map<Integer, CommitInfo> views = new HashMap<>();
  private final ArrayDeque<Dependency> dependencies = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final Map<Integer, StepId> consumers = new TreeMap<>();
  private StepId committed;
  private StepId releasing;

  Speculation(StepId committed) {
    this.committed = committed;
  }

  /** Every step up to this one is committed. */
  StepId committed() {
    return committed;
  }

  /** What is known of step {@code step} of partition {@code origin}. */
  CommitInfo.Fate fate(int origin, StepId step) {
    CommitInfo view = views.get(origin);
    return view == null ? CommitInfo.Fate.PENDING : view.fateOf(step);
  }

  CommitInfo view(int origin) {
    return views.get(origin);
  }

  /** Takes what {@code origin} says it committed; true if it is news. */
  boolean learn(int origin, CommitInfo info) {
    CommitInfo old = views.get(origin);
    CommitInfo newer = CommitInfo.newer(old, info);
    if (newer == old) {
      return false;
    }
    views.put(origin, newer);
    return true;
  }

  void depend(StepId at, int origin, StepId step, long nanos) {
    dependencies.addLast(new Dependency(at, origin, step, nanos, false));
  }

  /** A dependency of the recovered log suffix (see {@link Dependency}). */
  void dependRecovered(StepId at, int origin, StepId step, long nanos) {
    dependencies.addLast(new Dependency(at, origin, step, nanos, true));
  }

  boolean hasPending() {
    return !dependencies.isEmpty();
  }

  /**
   * The oldest dependency not known committed that this host recorded itself, or null: everything
   * from it on may be given up on, since no step from it on is committed.
   */
  Dependency oldestLivePending() {
    for (Dependency d : dependencies) {
      if (!d.recovered()) {
        return d;
      }
    }
    return null;
  }

  /** The partitions whose steps this one still waits for. */
  Set<Integer> pendingOrigins() {
    Set<Integer> origins = new TreeSet<>();
    dependencies.forEach(d -> origins.add(d.origin()));
    return origins;
  }

  /** Runs {@code action} once step {@code at} is committed (at once if it is). */
  void whenCommitted(StepId at, Runnable action) {
    if (at.compareTo(committed) <= 0 && waiters.isEmpty()) {
      release(at, action);
    } else {
      waiters.addLast(new Waiter(at, action));
    }
  }

  boolean hasWaiters() {
    return !waiters.isEmpty();
  }

  /**
   * Whether a pending dependency on {@code origin} covers {@code step}: one on the same incarnation
   * at {@code step} or later, whose commit implies that of {@code step} and whose loss is found
   * whenever {@code step} is lost. A step of a later incarnation covers nothing of an earlier one:
   * the earlier incarnation may have ended before {@code step} (a message from a lost step still in
   * flight when the origin's next incarnation is heard from), and the later step then commits while
   * {@code step} is lost.
   */
  boolean dependsOn(int origin, StepId step) {
    for (Dependency d : dependencies) {
      if (d.origin() == origin
          && d.step().incarnation() == step.incarnation()
          && d.step().position() >= step.position()) {
        return true;
      }
    }
    return false;
  }

  /**
   * A message from step {@code step} went to {@code destination} speculatively: it hears of our
   * commit until that step is committed.
   */
  void sentTo(int destination, StepId step) {
    consumers.merge(destination, step, StepId::max);
  }

  /**
   * The partitions to tell of our commit now that it moved: every consumer; those whose steps are
   * all committed now are told for the last time.
   */
  List<Integer> consumersToTell() {
    List<Integer> tell = List.copyOf(consumers.keySet());
    consumers.values().removeIf(step -> step.compareTo(committed) <= 0);
    return tell;
  }

  /** The partitions still waiting on steps of ours that are not committed. */
  List<Integer> consumersToRemind() {
    return List.copyOf(consumers.keySet());
  }

  /**
   * Moves the commit up to {@code durable}, as far as the dependencies allow, and runs what waited
   * for it. Returns the first step of this partition that depends on a lost step (everything from
   * it on must be taken back; nothing ran for it), or null.
   */
  StepId advance(StepId durable) {
    Dependency firstPending = null;
    for (Iterator<Dependency> it = dependencies.iterator(); it.hasNext(); ) {
      Dependency d = it.next();
      switch (fate(d.origin(), d.step())) {
        case COMMITTED -> it.remove();
        case LOST -> {
          return d.at();
        }
        case PENDING -> {
          if (firstPending == null) {
            firstPending = d;
          }
        }
      }
    }
    StepId candidate = durable;
    if (firstPending != null && firstPending.at().previous().compareTo(candidate) < 0) {
      candidate = firstPending.at().previous();
    }
    if (candidate.isAfter(committed)) {
      committed = candidate;
    }
    while (!waiters.isEmpty() && waiters.peekFirst().at().compareTo(committed) <= 0) {
      Waiter w = waiters.pollFirst();
      release(w.at(), w.action());
    }
    return null;
  }

  private void release(StepId at, Runnable action) {
    releasing = at;
    try {
      action.run();
    } finally {
      releasing = null;
    }
  }

  /** The step whose commit released what runs now (null outside a release). */
  StepId releasing() {
    return releasing;
  }
}
