package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * INTERNAL API
 *
 * <p>For each origin partition, the last sequence number applied from its channel. Only the next number is
 * applied; an older one is a duplicate, a newer one follows a lost message and is dropped until the gap is resent.
 * Recording a later position over a gap would turn the resent message into a "duplicate" and lose it forever.
 */
public final class DedupVector implements WireSerializable {
  private final TreeMap<Integer, Long> lastApplied = new TreeMap<>();

  public long lastApplied(int origin) {
    return lastApplied.getOrDefault(origin, 0L);
  }

  void advance(int origin, long seq) {
    lastApplied.put(origin, seq);
  }

  public Map<Integer, Long> positions() {
    return java.util.Collections.unmodifiableMap(lastApplied);
  }
}
