package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * INTERNAL API
 *
 * <p>Which records of a partition that have not ended are out of memory, and the input that waits
 * for them. Part of the deterministic state (and of the checkpoint): a record leaves memory only by
 * a recorded {@link PartitionEvent.RecordsEvicted} and comes back only by a recorded {@link
 * PartitionEvent.RecordsLoaded}, so replay parks exactly the input that the original run parked,
 * and delivers it at the same point of the log. Ended instances are not tracked here: for every
 * input they would receive, an ended instance and none give the same outcome.
 *
 * <p>Its size is one key per evicted record plus the parked input (which is bounded by the loads in
 * flight): the evicted records themselves are in the instance store.
 */
public final class Residency implements WireSerializable {
  private LinkedHashSet<String> evicted = new LinkedHashSet<>();
  private LinkedHashMap<String, ArrayList<PartitionState.Parked>> parked = new LinkedHashMap<>();

  boolean isEvicted(String key) {
    return evicted.contains(key);
  }

  void evicted(String key) {
    evicted.add(key);
  }

  int evictedCount() {
    return evicted.size();
  }

  /** Parks input for an evicted record; true if it is the first, so the record must be read. */
  boolean park(String key, PartitionState.Parked p) {
    ArrayList<PartitionState.Parked> list = parked.get(key);
    boolean first = list == null;
    if (first) {
      list = new ArrayList<>(2);
      parked.put(key, list);
    }
    list.add(p);
    return first;
  }

  boolean hasParked(String key) {
    return parked.containsKey(key);
  }

  /** The record is in memory again: returns the input parked for it, in order. */
  List<PartitionState.Parked> loaded(String key) {
    evicted.remove(key);
    ArrayList<PartitionState.Parked> list = parked.remove(key);
    return list == null ? List.of() : list;
  }

  /** The keys that parked input waits for (to read again after recovery). */
  Collection<String> parkedKeys() {
    return parked.keySet();
  }

  Set<String> evictedKeys() {
    return evicted;
  }
}
