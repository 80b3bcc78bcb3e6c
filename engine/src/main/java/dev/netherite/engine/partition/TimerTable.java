package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** INTERNAL API: the durable timers of a partition, ordered by due time. */
public final class TimerTable implements WireSerializable {
  /**
   * A timer. {@code taskId} is the orchestration's timer task, or {@link #SCHEDULED_START} for a
   * start that was scheduled for later. A delayed message (a signal sent with a delay) has no
   * instance and carries {@code message}, which is sent when it fires whatever became of its
   * sender.
   */
  public record Timer(
      Instant due,
      long seq,
      String instanceId,
      String executionId,
      int taskId,
      PartitionMessage message)
      implements WireSerializable, Comparable<Timer> {
    @Override
    public int compareTo(Timer o) {
      int c = due.compareTo(o.due);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  public static final int SCHEDULED_START = -1;

  private final TreeSet<Timer> timers = new TreeSet<>();
  private long nextSeq;

  void add(Instant due, String instanceId, String executionId, int taskId) {
    timers.add(new Timer(due, ++nextSeq, instanceId, executionId, taskId, null));
  }

  void addMessage(Instant due, PartitionMessage message) {
    timers.add(new Timer(due, ++nextSeq, null, null, 0, message));
  }

  List<Timer> removeDue(Instant now) {
    List<Timer> due = new ArrayList<>();
    while (!timers.isEmpty() && !timers.first().due().isAfter(now)) {
      due.add(timers.pollFirst());
    }
    return due;
  }

  void removeInstance(String instanceId) {
    timers.removeIf(t -> instanceId.equals(t.instanceId()));
  }

  /** The earliest due time, or null. */
  public Instant nextDue() {
    return timers.isEmpty() ? null : timers.first().due();
  }

  public int size() {
    return timers.size();
  }
}
