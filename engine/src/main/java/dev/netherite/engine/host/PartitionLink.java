package dev.netherite.engine.host;

import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.StepId;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>What partitions send each other through the {@link PartitionPorts.Transport}: numbered
 * messages of one channel and cumulative acknowledgements of them, and, in the {@code global}
 * persistence mode, what each partition has committed. Pekko delivers at most once, so all may be
 * lost, duplicated or reordered; the outbox resends, the dedup vector filters, and commit
 * information only ever moves forward.
 */
public sealed interface PartitionLink extends HostInput {

  /**
   * Messages of the channel {@code origin → destination}, numbered from {@code firstSeq}. In the
   * {@code global} mode, {@code dependsOn} is the sender's step they come from when it was not
   * known committed at sending (null: committed, or another mode), and {@code commit} what the
   * sender has committed (null in other modes).
   */
  record Deliver(
      int origin,
      long firstSeq,
      List<PartitionMessage> messages,
      StepId dependsOn,
      CommitInfo commit)
      implements PartitionLink {
    public Deliver {
      messages = List.copyOf(messages);
    }

    public Deliver(int origin, long firstSeq, List<PartitionMessage> messages) {
      this(origin, firstSeq, messages, null, null);
    }
  }

  /** Partition {@code from} has durably applied our messages to it up to {@code upTo}. */
  record Ack(int from, long upTo) implements PartitionLink {}

  /**
   * In the {@code global} mode: what partition {@code from} has committed, and how far its earlier
   * incarnations survived. Sent when its commit moves on to the partitions that consumed its
   * speculative messages, and in answer to {@link AskCommitted}. Never waits in a stash.
   */
  record Committed(int from, CommitInfo commit) implements PartitionLink {}

  /**
   * In the {@code global} mode: partition {@code from} waits on our steps; answer {@link
   * Committed}.
   */
  record AskCommitted(int from) implements PartitionLink {}
}
