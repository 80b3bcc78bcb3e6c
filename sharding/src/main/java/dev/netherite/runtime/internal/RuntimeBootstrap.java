package dev.netherite.runtime.internal;

import com.typesafe.config.Config;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.persistence.internal.CassandraInstanceStore;
import dev.netherite.runtime.DeliveryFaults;
import dev.netherite.runtime.RuntimeSettings;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.pattern.Patterns;

/** INTERNAL API: brings a node's part of the engine up on an ActorSystem. */
public final class RuntimeBootstrap {
  private RuntimeBootstrap() {}

  public static NodeServices start(
      ActorSystem<?> system,
      RuntimeSettings settings,
      Workflows workflows,
      DataConverter converter,
      DeliveryFaults faults) {
    String provider = system.settings().config().getString("pekko.actor.provider");
    if (!provider.equals("cluster") && !provider.endsWith("ClusterActorRefProvider")) {
      throw new IllegalStateException(
          "The runtime needs a Pekko cluster: set pekko.actor.provider = cluster (it is '"
              + provider
              + "').");
    }
    // Checked before joining, so that a bad setting fails at once with a message naming it.
    FencedSessionProvider.Credentials.from(system.settings().config());
    ShardCoordinator.ShardAllocationStrategy placement =
        evenSpread(system.settings().config().getConfig("netherite.placement"));
    // The task hub's record is read (the first Cassandra session is opened for it) while the node
    // joins the cluster and sharding starts: startup is those in parallel, not in sequence. No
    // partition starts before the check has passed, since only the wake-ups below and the client,
    // returned after them, start partitions.
    CompletableFuture<Void> partitionCountChecked =
        CompletableFuture.runAsync(
            () -> checkPartitionCount(system, settings),
            r -> Thread.ofPlatform().name("netherite-startup").daemon().start(r));
    joinSelfIfNoSeeds(system, settings.startupTimeout());

    ClusterSharding sharding = ClusterSharding.get(system);
    NodeServices node =
        NodeServices.create(
            settings,
            workflows,
            converter,
            sharding,
            faults,
            new CassandraInstanceStore(Adapter.toClassic(system), settings.taskHub()));
    int partitions = settings.partitionCount();
    sharding.init(
        Entity.of(
                NodeServices.PARTITION,
                ctx -> PartitionSupervisor.create(Integer.parseInt(ctx.getEntityId()), node))
            .withMessageExtractor(new OneShardPerPartition(partitions))
            .withEntityProps(
                org.apache.pekko.actor.typed.DispatcherSelector.fromConfig(
                    PartitionActor.DISPATCHER))
            .withAllocationStrategy(placement)
            // A partition that moves (rebalance, graceful leave) takes a final checkpoint before it
            // stops.
            .withStopMessage(PartitionCommand.HandOff.INSTANCE));

    try {
      partitionCountChecked.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
    PartitionLease.createTable(Adapter.toClassic(system));

    // Partitions host timers and pending work, so every node keeps all of them started wherever
    // sharding puts them.
    Duration wake = settings.wakeInterval();
    Cancellable waking =
        system
            .scheduler()
            .scheduleWithFixedDelay(
                Duration.ZERO, wake, () -> wakeAll(node), system.executionContext());
    // A node that shuts down stops waking partitions first: a wake-up for a partition being handed
    // off would wait in
    // the shard region's buffer and hold up its shutdown until the hand-off timeout.
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "netherite-stop-waking",
            () -> {
              waking.cancel();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
    system.getWhenTerminated().thenRun(node.activities()::shutdown);
    return node;
  }

  /**
   * Pekko's least-shard allocation strategy (the algorithm enabled by a positive absolute limit): a
   * new partition goes to the node with fewest, and each rebalance round moves partitions from the
   * fullest to the emptiest nodes until the counts differ by at most one, so a joining node takes
   * its share and a leaving node's partitions spread.
   */
  private static ShardCoordinator.ShardAllocationStrategy evenSpread(Config placement) {
    int absolute = placement.getInt("rebalance-absolute-limit");
    double relative = placement.getDouble("rebalance-relative-limit");
    if (absolute < 1) {
      throw new IllegalArgumentException(
          "netherite.placement.rebalance-absolute-limit is "
              + absolute
              + "; it must be at least 1.");
    }
    if (!(relative > 0 && relative <= 1)) {
      throw new IllegalArgumentException(
          "netherite.placement.rebalance-relative-limit is "
              + relative
              + "; it must be above 0 and at most 1.");
    }
    return ShardCoordinator.ShardAllocationStrategy$.MODULE$.leastShardAllocationStrategy(
        absolute, relative);
  }

  public static DurableClient client(NodeServices node) {
    return new ShardedDurableClient(node);
  }

  private static void wakeAll(NodeServices node) {
    for (int p = 0; p < node.settings().partitionCount(); p++) {
      node.partition(p).tell(new PartitionCommand.Wake());
    }
  }

  private static void joinSelfIfNoSeeds(ActorSystem<?> system, Duration timeout) {
    Cluster cluster = Cluster.get(system);
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "This node did not join the cluster within "
                + timeout
                + "; check pekko.cluster.seed-nodes and that a seed node is running.");
      }
      sleep(20);
    }
  }

  /**
   * Asks the task hub's record, retrying with a fresh actor: a record whose write failed (e.g.
   * while Cassandra creates the schema) stops without answering.
   */
  private static void checkPartitionCount(ActorSystem<?> system, RuntimeSettings settings) {
    var classic = (org.apache.pekko.actor.ExtendedActorSystem) Adapter.toClassic(system);
    long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
    Duration attempt = Duration.ofSeconds(20);
    Exception last = null;
    for (int n = 1; System.nanoTime() < deadline; n++) {
      org.apache.pekko.actor.ActorRef record =
          classic.systemActorOf(
              TaskHubRecord.props(settings.taskHub()),
              "netherite-task-hub-" + settings.taskHub() + "-" + n);
      try {
        Object answer =
            awaitAnswer(
                Patterns.ask(record, new TaskHubRecord.Check(settings.partitionCount()), attempt)
                    .toCompletableFuture(),
                attempt.plusSeconds(1),
                classic);
        if (!"".equals(answer)) {
          throw new IllegalStateException((String) answer);
        }
        return;
      } catch (IllegalStateException e) {
        throw e;
      } catch (Exception e) {
        last = e;
      } finally {
        classic.stop(record);
      }
    }
    throw new IllegalStateException(
        "Could not read the metadata of task hub '"
            + settings.taskHub()
            + "' within "
            + settings.startupTimeout()
            + "; is Cassandra reachable at the configured contact points? ("
            + last
            + ")",
        last);
  }

  /**
   * Waits for {@code answer}; a refused login does not get better with retries, so it fails the
   * start at once, with the message that names the settings.
   */
  private static Object awaitAnswer(
      CompletableFuture<Object> answer,
      Duration timeout,
      org.apache.pekko.actor.ExtendedActorSystem classic)
      throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      FencedSessionProvider.CassandraLoginRefused refused =
          FencedSessionProvider.LoginState.ID.get(classic).refused;
      if (refused != null) {
        throw refused;
      }
      try {
        return answer.get(200, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        if (System.nanoTime() > until) {
          throw e;
        }
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting");
    }
  }

  /**
   * Entity id = shard id = partition number: each partition is its own shard, so sharding can move
   * it alone.
   */
  static final class OneShardPerPartition
      extends ShardingMessageExtractor<Object, PartitionCommand> {
    private final int partitions;

    OneShardPerPartition(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public String entityId(Object message) {
      throw new UnsupportedOperationException("partition commands are sent through EntityRefs");
    }

    @Override
    public String shardId(String entityId) {
      return entityId;
    }

    @Override
    public PartitionCommand unwrapMessage(Object message) {
      return (PartitionCommand) message;
    }
  }
}
