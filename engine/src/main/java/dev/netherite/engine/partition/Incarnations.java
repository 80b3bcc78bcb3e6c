package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * INTERNAL API
 *
 * <p>Where a partition is in its applied order (the {@link StepId} of the last event it applied)
 * and how far each of its earlier incarnations survived: the position of its last event that the
 * journal keeps and no {@link PartitionEvent.Voided} took back. Part of the deterministic state and
 * of the checkpoint. Only the {@code global} persistence mode reads it; the other modes count
 * positions too, at no cost, so that the state is the same function of the log in every mode.
 *
 * <p>Every event takes a position except {@link PartitionEvent.Voided}, which only marks earlier
 * ones; {@link PartitionEvent.IncarnationStarted} takes position 1 of its incarnation and ends the
 * one before.
 */
public final class Incarnations implements WireSerializable {
  /** Incarnations whose end is kept; older ones can no longer be depended on by anyone. */
  static final int KEPT_ENDS = 64;

  private long incarnation;
  private long position;
  private TreeMap<Long, Long> ends = new TreeMap<>();

  /** Incarnations below this one had their ends forgotten (0: none was). */
  private long endsFrom;

  /** The last event applied. */
  public StepId now() {
    return new StepId(incarnation, position);
  }

  /** The surviving end of each earlier incarnation that is kept, by incarnation. */
  public Map<Long, Long> ends() {
    return ends;
  }

  /**
   * Ends of incarnations from this one on are all kept (an incarnation missing had no survivor).
   */
  public long endsFrom() {
    return endsFrom;
  }

  void applied(PartitionEvent event) {
    switch (event) {
      case PartitionEvent.Voided v -> {}
      case PartitionEvent.IncarnationStarted s -> {
        if (position > 0 || incarnation > 0) {
          ends.put(incarnation, position);
        }
        while (ends.size() > KEPT_ENDS) {
          endsFrom = ends.pollFirstEntry().getKey() + 1;
        }
        incarnation = s.incarnation();
        position = 1;
      }
      default -> position++;
    }
  }

  /**
   * The events of a log suffix that survive, in order: those no later {@link PartitionEvent.Voided}
   * in the suffix takes back. {@code start} is the step of the last event before the suffix (the
   * checkpoint's). Markers themselves survive (they take no position).
   */
  public static List<PartitionEvent> surviving(StepId start, List<PartitionEvent> suffix) {
    boolean anyVoided = false;
    for (PartitionEvent e : suffix) {
      if (e instanceof PartitionEvent.Voided) {
        anyVoided = true;
        break;
      }
    }
    if (!anyVoided) {
      return suffix;
    }
    List<PartitionEvent> kept = new ArrayList<>(suffix.size());
    List<StepId> at = new ArrayList<>(suffix.size());
    long incarnation = start.incarnation();
    long position = start.position();
    for (PartitionEvent e : suffix) {
      switch (e) {
        case PartitionEvent.Voided v -> {
          // Takes back every event before it from v.from() on (they are the tail of what is kept).
          int k = kept.size();
          while (k > 0 && (at.get(k - 1) == null || at.get(k - 1).compareTo(v.from()) >= 0)) {
            k--;
          }
          kept.subList(k, kept.size()).clear();
          at.subList(k, at.size()).clear();
          kept.add(e);
          at.add(null);
          // Positions go on from the last kept event: the voided ones never happened.
          StepId last = lastStep(at, start);
          incarnation = last.incarnation();
          position = last.position();
          continue;
        }
        case PartitionEvent.IncarnationStarted s -> {
          incarnation = s.incarnation();
          position = 1;
        }
        default -> position++;
      }
      kept.add(e);
      at.add(new StepId(incarnation, position));
    }
    return kept;
  }

  private static StepId lastStep(List<StepId> at, StepId start) {
    for (int k = at.size() - 1; k >= 0; k--) {
      if (at.get(k) != null) {
        return at.get(k);
      }
    }
    return start;
  }
}
