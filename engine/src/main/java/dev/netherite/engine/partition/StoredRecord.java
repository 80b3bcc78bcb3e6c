package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;

/**
 * INTERNAL API
 *
 * <p>One per-instance record as the instance store holds it: its key (the kind of record and its
 * id, see {@link #instanceKey} and {@link #entityKey}) and its value, an {@link InstanceState} or
 * an {@link EntityRecord}; a null value is a deletion. {@code superseding} says whether the store
 * may hold earlier rows of the record, which the checkpoint writing this one removes once it has
 * committed; a record new since the last checkpoint has none.
 */
public record StoredRecord(String key, WireSerializable value, boolean superseding) {
  static final String INSTANCE_PREFIX = "o:";
  static final String ENTITY_PREFIX = "e:";

  /** A record as read from the store. */
  public StoredRecord(String key, WireSerializable value) {
    this(key, value, true);
  }

  public static String instanceKey(String instanceId) {
    return INSTANCE_PREFIX + instanceId;
  }

  public static String entityKey(String entityId) {
    return ENTITY_PREFIX + entityId;
  }

  public boolean deleted() {
    return value == null;
  }
}
