package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * INTERNAL API
 *
 * <p>Messages to other partitions, one channel per destination, numbered 1, 2, 3... without gaps so
 * that the receiver can apply exactly the next one and drop the rest. An entry stays until the
 * destination acknowledges that it has durably applied it; until then it may be resent any number
 * of times.
 */
public final class Outbox implements WireSerializable {
  /** An unacknowledged message of a channel. */
  public record Entry(long seq, PartitionMessage message) implements WireSerializable {}

  static final class Channel implements WireSerializable {
    long lastSeq;
    long acknowledged;
    ArrayDeque<Entry> unacknowledged = new ArrayDeque<>();
  }

  private final TreeMap<Integer, Channel> channels = new TreeMap<>();

  long append(int destination, PartitionMessage message) {
    Channel c = channels.computeIfAbsent(destination, d -> new Channel());
    c.lastSeq++;
    c.unacknowledged.addLast(new Entry(c.lastSeq, message));
    return c.lastSeq;
  }

  void acknowledge(int destination, long upTo) {
    Channel c = channels.get(destination);
    if (c == null || upTo <= c.acknowledged) {
      return;
    }
    c.acknowledged = Math.min(upTo, c.lastSeq);
    while (!c.unacknowledged.isEmpty() && c.unacknowledged.peekFirst().seq() <= c.acknowledged) {
      c.unacknowledged.pollFirst();
    }
  }

  /**
   * Unacknowledged entries to {@code destination} with seq in ({@code after}, {@code upTo}], at
   * most {@code max}.
   */
  public List<Entry> entries(int destination, long after, long upTo, int max) {
    Channel c = channels.get(destination);
    List<Entry> out = new ArrayList<>();
    if (c == null) {
      return out;
    }
    for (Entry e : c.unacknowledged) {
      if (e.seq() > upTo || out.size() >= max) {
        break;
      }
      if (e.seq() > after) {
        out.add(e);
      }
    }
    return out;
  }

  public long acknowledged(int destination) {
    Channel c = channels.get(destination);
    return c == null ? 0 : c.acknowledged;
  }

  public long lastSeq(int destination) {
    Channel c = channels.get(destination);
    return c == null ? 0 : c.lastSeq;
  }

  /** Destinations with unacknowledged entries. */
  public List<Integer> pendingDestinations() {
    List<Integer> out = new ArrayList<>();
    channels.forEach(
        (d, c) -> {
          if (!c.unacknowledged.isEmpty()) {
            out.add(d);
          }
        });
    return out;
  }

  public int unacknowledgedCount() {
    int n = 0;
    for (Channel c : channels.values()) {
      n += c.unacknowledged.size();
    }
    return n;
  }
}
