package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;

/**
 * INTERNAL API
 *
 * <p>A value of a {@link RecordTable}: it knows whether the instance store may hold rows of it, so
 * that a checkpoint removes superseded versions only of records that have any, and writes nothing
 * at all for a record created and removed between two checkpoints. Not part of the record's bytes:
 * a record read from the store is marked again as it is restored.
 */
interface TableRecord extends WireSerializable {
  boolean inStore();

  /**
   * About how many bytes of heap the record takes (its strings and a fixed cost per object), for
   * the memory budget; computed once per change.
   */
  long approximateBytes();

  /** The record is about to change: its size is computed again when asked. */
  void changing();

  void markInStore();
}
