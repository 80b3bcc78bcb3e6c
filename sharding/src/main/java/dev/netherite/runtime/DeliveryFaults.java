package dev.netherite.runtime;

/**
 * A test hook that disturbs delivery between partitions, to show that exactly-once delivery does
 * not depend on the network: it may drop or duplicate any delivery or acknowledgement. Never set in
 * production.
 */
public interface DeliveryFaults {
  /** What to do with one message between partitions. */
  enum Fate {
    DELIVER,
    DROP,
    DUPLICATE
  }

  Fate fateOf(Object message);

  DeliveryFaults NONE = message -> Fate.DELIVER;
}
