package dev.netherite.engine.host;

/** INTERNAL API: when a partition acts on an event relative to its durability. */
public enum PersistenceMode {
  /**
   * Pipelined: an event is applied, and its local effects run, at once; what leaves the partition
   * waits for the write that holds the event.
   */
  LOCAL,
  /** The baseline: an event is applied, and all its effects run, only once it is durable. */
  PERSIST_FIRST
}
