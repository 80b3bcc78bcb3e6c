package dev.netherite.runtime.internal;

import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.PartitionPlacement;
import dev.netherite.engine.entity.EntityExecutor;
import dev.netherite.engine.host.RecordBudget;
import dev.netherite.engine.orchestration.OrchestrationExecutor;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.persistence.StorageMetrics;
import dev.netherite.persistence.internal.CassandraInstanceStore;
import dev.netherite.runtime.DeliveryFaults;
import dev.netherite.runtime.RuntimeSettings;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.Patterns;

/** INTERNAL API: what every partition hosted on a node shares. */
public record NodeServices(
    RuntimeSettings settings,
    Workflows workflows,
    DataConverter converter,
    OrchestrationExecutor executor,
    ActivityWorkers activities,
    EntityExecutor entities,
    ClusterSharding sharding,
    PartitionPlacement placement,
    StorageMetrics metrics,
    DeliveryFaults faults,
    StoreHealth storeHealth,
    CassandraInstanceStore instanceStore,
    RecordBudget recordBudget,
    ConcurrentMap<Integer, ActorRef> runningHere) {

  public static final EntityTypeKey<PartitionCommand> PARTITION =
      EntityTypeKey.create(PartitionCommand.class, "partition");

  /**
   * The partition's sharded entity.
   *
   * @throws IllegalArgumentException when the task hub has no such partition (a number from
   *     outside, e.g. a client's token, must never start a partition that does not exist)
   */
  public EntityRef<PartitionCommand> partition(int partition) {
    if (!isPartition(partition)) {
      throw new IllegalArgumentException(
          "partition="
              + partition
              + " is outside the task hub's partitions 0.."
              + (settings.partitionCount() - 1));
    }
    return sharding.entityRefFor(PARTITION, Integer.toString(partition));
  }

  /**
   * Sends a link message to another partition: straight to its actor when it runs on this node,
   * else through Cluster Sharding. The direct path skips the region, the shard and the supervisor
   * (four mailboxes instead of one on every hop of a transfer). It is only a shortcut: the links
   * tolerate loss, duplicates and reordering, so a message that meets an actor handing off, or that
   * overtakes one sent through the region, costs at most a resend.
   */
  public void tellPartition(int partition, PartitionCommand command) {
    ActorRef here = runningHere.get(partition);
    if (here != null) {
      here.tell(command, ActorRef.noSender());
    } else {
      partition(partition).tell(command);
    }
  }

  /**
   * Asks a partition for a client: straight to its actor when it runs on this node and the store is
   * available (while it is not, the supervisor answers for the partition), else through Cluster
   * Sharding.
   */
  public CompletionStage<ClientResponse> askPartition(
      int partition,
      Function<org.apache.pekko.actor.typed.ActorRef<ClientResponse>, PartitionCommand> message,
      Duration timeout) {
    ActorRef here = runningHere.get(partition);
    if (here != null && storeHealth.unavailableSince() == null) {
      return Patterns.askWithReplyTo(
              here, replyTo -> message.apply(Adapter.toTyped(replyTo)), timeout)
          .thenApply(ClientResponse.class::cast);
    }
    return partition(partition).ask(message::apply, timeout);
  }

  /** The actor of {@code partition} runs on this node, recovered. */
  void runsHere(int partition, ActorRef actor) {
    runningHere.put(partition, actor);
  }

  /** The actor of {@code partition} on this node stopped. */
  void stoppedHere(int partition, ActorRef actor) {
    runningHere.remove(partition, actor);
  }

  /** Whether {@code partition} is one of the task hub's partition numbers. */
  public boolean isPartition(int partition) {
    return partition >= 0 && partition < settings.partitionCount();
  }

  public String persistenceId(int partition) {
    return settings.taskHub() + "-partition-" + partition;
  }

  static NodeServices create(
      RuntimeSettings settings,
      Workflows workflows,
      DataConverter converter,
      ClusterSharding sharding,
      DeliveryFaults faults,
      CassandraInstanceStore instanceStore) {
    return new NodeServices(
        settings,
        workflows,
        converter,
        new OrchestrationExecutor(
            workflows,
            converter,
            Thread.ofVirtual().name("netherite-orchestration-", 0).factory(),
            settings.payloadLimits()),
        new ActivityWorkers(
            workflows,
            converter,
            settings.maxConcurrentActivities(),
            settings.activityPlatformThreads(),
            settings.payloadLimits()),
        new EntityExecutor(workflows, converter, settings.payloadLimits()),
        sharding,
        new PartitionPlacement(settings.partitionCount()),
        StorageMetrics.global(),
        faults,
        new StoreHealth(),
        instanceStore,
        settings.recordBudgetBytes() == Long.MAX_VALUE
            ? RecordBudget.UNLIMITED
            : new RecordBudget(settings.recordBudgetBytes()),
        new ConcurrentHashMap<>());
  }
}
