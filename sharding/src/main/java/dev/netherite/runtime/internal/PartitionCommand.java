package dev.netherite.runtime.internal;

import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.host.CommitInfo;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PurgeFilter;
import dev.netherite.engine.partition.StepId;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * INTERNAL API: what a partition, as a sharded entity, accepts from clients and other partitions.
 */
public sealed interface PartitionCommand extends WireSerializable {

  /** A request that changes state; answered once durable. A retry carries the same request id. */
  record ClientCommand(String requestId, ClientRequest request, ActorRef<ClientResponse> replyTo)
      implements PartitionCommand {}

  /** A read; answered from state that is durable. */
  record QueryCommand(ClientQuery query, ActorRef<ClientResponse> replyTo)
      implements PartitionCommand {}

  /**
   * Purge this partition's ended instances that {@code filter} takes, after {@code afterId}, in
   * batches inside the partition; answered with {@link ClientResponse.PurgeProgress}. A retry
   * carries the same request id.
   */
  record PurgeSweep(
      String requestId, PurgeFilter filter, String afterId, ActorRef<ClientResponse> replyTo)
      implements PartitionCommand {}

  /**
   * Answer with {@link ClientResponse.Status} once the instance has ended (durably); null view if
   * unknown.
   */
  record AwaitCompletion(String instanceId, ActorRef<ClientResponse> replyTo)
      implements PartitionCommand {}

  /**
   * Messages of the channel {@code origin → this partition}, numbered from {@code firstSeq}. In the
   * global persistence mode, the sender's step they depend on (null when it was committed) and what
   * the sender has committed; both null in the other modes.
   */
  record Deliver(
      int origin,
      long firstSeq,
      List<PartitionMessage> messages,
      StepId dependsOn,
      CommitInfo commit)
      implements PartitionCommand {
    public Deliver {
      messages = List.copyOf(messages);
    }

    /** Messages outside the global mode. */
    public Deliver(int origin, long firstSeq, List<PartitionMessage> messages) {
      this(origin, firstSeq, messages, null, null);
    }
  }

  /** Partition {@code from} has durably applied our messages to it up to {@code upTo}. */
  record Ack(int from, long upTo) implements PartitionCommand {}

  /** Global mode: what partition {@code from} has committed (see {@link CommitInfo}). */
  record Committed(int from, CommitInfo commit) implements PartitionCommand {}

  /** Global mode: partition {@code from} waits on our steps; answered with {@link Committed}. */
  record AskCommitted(int from) implements PartitionCommand {}

  /**
   * Answer with a {@link PartitionReport} at once, also while checkpointing; for operators (the
   * management API and metrics).
   */
  record Inspect(ActorRef<PartitionReport> replyTo) implements PartitionCommand {}

  /** Starts the partition if it is not running; otherwise nothing. */
  record Wake() implements PartitionCommand {}

  /** Sent by a partition entity to itself to start its commit-log actor again after a failure. */
  enum RestartLog implements PartitionCommand {
    INSTANCE
  }

  /**
   * Cluster Sharding's stop message for a partition that moves to another node (rebalance, graceful
   * leave): take a final checkpoint, then stop. Sharding sends it to the local entity only, so it
   * never crosses the wire and has no registration id; a {@link WireSerializable} nonetheless,
   * because it is a {@code PartitionCommand}.
   */
  enum HandOff implements PartitionCommand, NoSerializationVerificationNeeded {
    INSTANCE
  }
}
