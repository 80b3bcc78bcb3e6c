package dev.netherite.engine.partition;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Set;

/**
 * INTERNAL API
 *
 * <p>One table of per-instance records (orchestration instances or entities) as the state machine's
 * parts see it. It notes in {@code dirty} the store key of every record the parts read, create or
 * remove, so that the next checkpoint writes exactly those records (a superset of the changed ones:
 * a record that is read while applying an event may have been changed). Queries read through {@link
 * #peek}, which notes nothing.
 */
final class RecordTable<V> {
  private final LinkedHashMap<String, V> records;
  private final Set<String> dirty;
  private final String keyPrefix;

  RecordTable(LinkedHashMap<String, V> records, Set<String> dirty, String keyPrefix) {
    this.records = records;
    this.dirty = dirty;
    this.keyPrefix = keyPrefix;
  }

  /** The record, for a change: it is written at the next checkpoint. */
  V get(String id) {
    V v = records.get(id);
    if (v != null) {
      dirty.add(keyPrefix + id);
    }
    return v;
  }

  /** The record, to read only. */
  V peek(String id) {
    return records.get(id);
  }

  void put(String id, V v) {
    records.put(id, v);
    dirty.add(keyPrefix + id);
  }

  void remove(String id) {
    if (records.remove(id) != null) {
      dirty.add(keyPrefix + id);
    }
  }

  int size() {
    return records.size();
  }

  /** Every record, to read only. */
  Collection<V> values() {
    return records.values();
  }
}
