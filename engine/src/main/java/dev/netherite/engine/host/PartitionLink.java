package dev.netherite.engine.host;

import dev.netherite.engine.partition.PartitionMessage;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>What partitions send each other through the {@link PartitionPorts.Transport}: numbered
 * messages of one channel and cumulative acknowledgements of them. Pekko delivers at most once, so
 * both may be lost, duplicated or reordered; the outbox resends and the dedup vector filters.
 */
public sealed interface PartitionLink extends HostInput {

  /** Messages of the channel {@code origin → destination}, numbered from {@code firstSeq}. */
  record Deliver(int origin, long firstSeq, List<PartitionMessage> messages)
      implements PartitionLink {
    public Deliver {
      messages = List.copyOf(messages);
    }
  }

  /** Partition {@code from} has durably applied our messages to it up to {@code upTo}. */
  record Ack(int from, long upTo) implements PartitionLink {}
}
