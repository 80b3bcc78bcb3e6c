package dev.netherite.engine.host;

/** INTERNAL API: when a partition acts on an event relative to its durability. */
public enum PersistenceMode {
  /**
   * Pipelined: an event is applied, and its local effects run, at once; what leaves the partition
   * waits for the write that holds the event.
   */
  LOCAL,
  /**
   * Speculative: as {@code local}, and messages to other partitions leave at once, tagged with the
   * step they come from; what leaves the engine waits until everything it read is committed in
   * every partition, and a partition that consumed a step another one lost takes back its
   * speculative suffix (see {@link PartitionHost}).
   */
  GLOBAL,
  /** The baseline: an event is applied, and all its effects run, only once it is durable. */
  PERSIST_FIRST
}
