package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;

/**
 * INTERNAL API
 *
 * <p>One per-instance record as the instance store holds it: its key (the kind of record and its
 * id, see {@link #instanceKey} and {@link #entityKey}) and its value, an {@link InstanceState} or
 * an {@link EntityRecord}; a null value is a deletion.
 */
public record StoredRecord(String key, WireSerializable value) {
  static final String INSTANCE_PREFIX = "o:";
  static final String ENTITY_PREFIX = "e:";

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
