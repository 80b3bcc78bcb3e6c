package dev.netherite.engine.partition;

import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * INTERNAL API
 *
 * <p>One table of per-instance records (orchestration instances or entities) as the state machine's
 * parts see it, and what the next checkpoint must write of it. It notes the id of every record the
 * parts read for a change, create or remove, so that the next checkpoint writes exactly those (a
 * superset of the changed ones: a record read while applying an event may have been changed).
 * Queries read through {@link #peek}, which notes nothing.
 *
 * <p>A removed record becomes a deletion row only if the store may hold rows of it ({@link
 * TableRecord#inStore}); one created and removed between two checkpoints leaves no trace in the
 * store. A record counts as in the store from the capture that first includes it, whether or not
 * that checkpoint commits: a failed checkpoint may have written its rows.
 */
final class RecordTable<V extends TableRecord> {
  private final LinkedHashMap<String, V> records;
  private final String keyPrefix;

  /** Ids noted since the last capture. */
  private Set<String> dirty = new LinkedHashSet<>();

  /** Ids captured by the checkpoint being saved; noted again if it is abandoned. */
  private Set<String> capturing = new HashSet<>();

  /**
   * Ids of removed records that the store may hold rows of, until a capture writes the deletion.
   */
  private final Set<String> removedInStore = new HashSet<>();

  /** While the log suffix is replayed: every record put may have rows (see {@link #replaying}). */
  private boolean replaying;

  RecordTable(LinkedHashMap<String, V> records, String keyPrefix) {
    this.records = records;
    this.keyPrefix = keyPrefix;
  }

  /** The record, for a change: it is written at the next checkpoint. */
  V get(String id) {
    V v = records.get(id);
    if (v != null) {
      v.changing();
      dirty.add(id);
    }
    return v;
  }

  /** The record, to read only. */
  V peek(String id) {
    return records.get(id);
  }

  void put(String id, V v) {
    V old = records.put(id, v);
    if ((old != null && old.inStore()) | removedInStore.remove(id) | replaying) {
      v.markInStore();
    }
    dirty.add(id);
  }

  void remove(String id) {
    V old = records.remove(id);
    if (old != null) {
      if (old.inStore()) {
        removedInStore.add(id);
      }
      dirty.add(id);
    }
  }

  /**
   * Removes a record that memory does not hold but the store may: the next capture writes its
   * deletion, as {@link #remove} does for a stored record in memory. Deleting a record the store
   * does not hold leaves a deletion row and nothing else.
   */
  void removeStored(String id) {
    if (!records.containsKey(id)) {
      removedInStore.add(id);
      dirty.add(id);
    }
  }

  /**
   * While recovery replays the log suffix, a record the suffix creates may have rows above the
   * recovered checkpoint's number, written by a checkpoint that failed before its commit (its
   * incarnation marked them, this one cannot know): such records count as in the store, so that
   * their removal writes a deletion that supersedes those rows.
   */
  void replaying(boolean on) {
    replaying = on;
  }

  /** Adds a record read from the store: not a change. */
  void restore(String id, V v) {
    v.markInStore();
    records.put(id, v);
  }

  int size() {
    return records.size();
  }

  /**
   * Whether the record was removed since the last committed checkpoint: the store still holds its
   * earlier version, which must not be read back.
   */
  boolean removedSinceCommit(String id) {
    return !records.containsKey(id) && (removedInStore.contains(id) || capturing.contains(id));
  }

  /**
   * Whether the record may leave memory: its current version is in a committed checkpoint (it is in
   * the store, not changed since the last capture, and not in the capture being saved).
   */
  boolean clean(String id, V v) {
    return v.inStore() && !dirty.contains(id) && !capturing.contains(id);
  }

  /** Drops a clean record from memory; the store holds its current version. */
  void evict(String id) {
    records.remove(id);
  }

  /** The ids of the records in memory, to read only. */
  Set<String> ids() {
    return records.keySet();
  }

  /** Every record, to read only. */
  Collection<V> values() {
    return records.values();
  }

  /** Notes every record, for a checkpoint that must write them all. */
  void noteAll() {
    dirty.addAll(records.keySet());
  }

  int noted() {
    return dirty.size();
  }

  /**
   * Adds to {@code out} the rows the next checkpoint writes: each noted record, or its deletion if
   * the store may hold it; and starts over.
   */
  void capture(List<StoredRecord> out) {
    for (String id : dirty) {
      V v = records.get(id);
      if (v != null) {
        out.add(new StoredRecord(keyPrefix + id, v, v.inStore()));
        v.markInStore();
        capturing.add(id);
      } else if (removedInStore.remove(id)) {
        out.add(new StoredRecord(keyPrefix + id, null, true));
        capturing.add(id);
      }
    }
    dirty = new LinkedHashSet<>();
  }

  /** The captured checkpoint committed. */
  void committed() {
    capturing = new HashSet<>();
  }

  /** The captured checkpoint failed: its records are noted again, deletions included. */
  void abandoned() {
    for (String id : capturing) {
      if (!records.containsKey(id)) {
        removedInStore.add(id);
      }
      dirty.add(id);
    }
    capturing = new HashSet<>();
  }
}
