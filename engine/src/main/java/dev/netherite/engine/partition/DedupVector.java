package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * INTERNAL API
 *
 * <p>For each origin partition, the last sequence number applied from its channel. Only the next
 * number is applied; an older one is a duplicate, a newer one follows a lost message and is dropped
 * until the gap is resent. Recording a later position over a gap would turn the resent message into
 * a "duplicate" and lose it forever.
 */
public final class DedupVector implements WireSerializable {
  private final TreeMap<Integer, Long> lastApplied = new TreeMap<>();

  public long lastApplied(int origin) {
    return lastApplied.getOrDefault(origin, 0L);
  }

  /**
   * The part of a delivery from {@code origin} numbered from {@code firstSeq} that may be applied
   * now: the suffix that starts at the next expected number, or an empty list when the delivery
   * holds only duplicates or starts after a gap. Hosts use it to keep duplicates out of the log;
   * {@code MessagesReceived} checks again.
   */
  public List<PartitionMessage> applicable(
      int origin, long firstSeq, List<PartitionMessage> messages) {
    return following(lastApplied(origin), firstSeq, messages);
  }

  /**
   * The part of a delivery numbered from {@code firstSeq} that follows {@code last}: the suffix
   * from {@code last + 1}, or an empty list when it holds only what {@code last} covers or starts
   * after a gap.
   */
  public static List<PartitionMessage> following(
      long last, long firstSeq, List<PartitionMessage> messages) {
    long next = last + 1;
    if (firstSeq > next || firstSeq + messages.size() <= next) {
      return List.of();
    }
    return messages.subList((int) (next - firstSeq), messages.size());
  }

  void advance(int origin, long seq) {
    lastApplied.put(origin, seq);
  }

  public Map<Integer, Long> positions() {
    return java.util.Collections.unmodifiableMap(lastApplied);
  }
}
