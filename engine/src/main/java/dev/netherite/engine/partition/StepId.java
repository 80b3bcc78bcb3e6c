package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;

/**
 * INTERNAL API
 *
 * <p>One step of a partition: the event at {@code position} (from 1) in the order the partition
 * applied its events during {@code incarnation}. An incarnation is one life of the partition, from
 * one recovery to the next, named by the journal sequence number of the {@link
 * PartitionEvent.IncarnationStarted} that opened it, so a later incarnation has a larger name.
 * Steps are ordered by incarnation, then position: a partition's state after a step depends on
 * every earlier step. Position 0 of an incarnation stands for everything before its first event.
 *
 * <p>Steps are not journal sequence numbers: batches form after messages were sent, and the
 * sequence numbers of a write that failed are taken again by the next one.
 */
public record StepId(long incarnation, long position)
    implements Comparable<StepId>, WireSerializable {

  /** Before anything: the state of a partition that never applied an event. */
  public static final StepId ORIGIN = new StepId(0, 0);

  @Override
  public int compareTo(StepId o) {
    int c = Long.compare(incarnation, o.incarnation);
    return c != 0 ? c : Long.compare(position, o.position);
  }

  public boolean isAfter(StepId o) {
    return compareTo(o) > 0;
  }

  /** The step just before this one in the same incarnation (position 0 at the start). */
  public StepId previous() {
    return position == 0 ? this : new StepId(incarnation, position - 1);
  }

  public static StepId max(StepId a, StepId b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public String toString() {
    return incarnation + ":" + position;
  }
}
