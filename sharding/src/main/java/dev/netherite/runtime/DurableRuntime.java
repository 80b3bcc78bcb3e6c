package dev.netherite.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.persistence.JacksonDataConverter;
import dev.netherite.runtime.internal.NodeServices;
import dev.netherite.runtime.internal.RuntimeBootstrap;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The engine on one node: its partitions (as Cluster Sharding entities), its activity workers and a
 * client.
 *
 * <p>Start it on an ActorSystem of its own with {@link #start(Workflows, Config)}, or embed it in
 * an application's ActorSystem with {@link #create(ActorSystem, Workflows)}; that system must use
 * the cluster actor provider and the persistence plugins of the {@code persistence} module. {@link
 * #get(ActorSystem)} finds the runtime of a system, in the manner of a Pekko extension.
 */
public final class DurableRuntime implements AutoCloseable {
  private static final Map<ActorSystem<?>, DurableRuntime> RUNTIMES = new ConcurrentHashMap<>();

  private final ActorSystem<?> system;
  private final boolean ownsSystem;
  private final NodeServices node;
  private final DurableClient client;

  private DurableRuntime(
      ActorSystem<?> system, boolean ownsSystem, NodeServices node, DurableClient client) {
    this.system = system;
    this.ownsSystem = ownsSystem;
    this.node = node;
    this.client = client;
  }

  /**
   * Starts a node on a new ActorSystem named {@code netherite} configured by {@code config} (with
   * this library's defaults under it). Without seed nodes configured, the node forms a cluster of
   * its own.
   */
  public static DurableRuntime start(Workflows workflows, Config config) {
    return start(workflows, config, Options.defaults());
  }

  /** As {@link #start(Workflows, Config)}, with options for tests and tuning. */
  public static DurableRuntime start(Workflows workflows, Config config, Options options) {
    Config full = config.withFallback(ConfigFactory.load());
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), full.getString("netherite.actor-system-name"), full);
    try {
      return create(system, workflows, options, true);
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  /** Starts the engine inside an existing ActorSystem (embedding). */
  public static DurableRuntime create(ActorSystem<?> system, Workflows workflows) {
    return create(system, workflows, Options.defaults(), false);
  }

  /** As {@link #create(ActorSystem, Workflows)}, with options. */
  public static DurableRuntime create(ActorSystem<?> system, Workflows workflows, Options options) {
    return create(system, workflows, options, false);
  }

  private static DurableRuntime create(
      ActorSystem<?> system, Workflows workflows, Options options, boolean owns) {
    Objects.requireNonNull(workflows, "workflows");
    RuntimeSettings settings = RuntimeSettings.from(system.settings().config());
    DataConverter converter =
        options.converter() != null ? options.converter() : new JacksonDataConverter();
    DeliveryFaults faults = options.faults() != null ? options.faults() : DeliveryFaults.NONE;
    DurableRuntime runtime =
        RUNTIMES.compute(
            system,
            (s, existing) -> {
              if (existing != null) {
                throw new IllegalStateException(
                    "A DurableRuntime is already running on ActorSystem " + s.name() + ".");
              }
              NodeServices node =
                  RuntimeBootstrap.start(system, settings, workflows, converter, faults);
              return new DurableRuntime(system, owns, node, RuntimeBootstrap.client(node));
            });
    system.getWhenTerminated().thenRun(() -> RUNTIMES.remove(system));
    return runtime;
  }

  /**
   * The runtime running on {@code system}.
   *
   * @throws IllegalStateException when none was created on it
   */
  public static DurableRuntime get(ActorSystem<?> system) {
    DurableRuntime runtime = RUNTIMES.get(system);
    if (runtime == null) {
      throw new IllegalStateException(
          "No DurableRuntime runs on ActorSystem "
              + system.name()
              + "; create one with DurableRuntime.create(system, workflows).");
    }
    return runtime;
  }

  /** The client; usable from any thread. */
  public DurableClient client() {
    return client;
  }

  /**
   * The partitions this node hosts now (started by Cluster Sharding here), for operators and tests;
   * partitions move when nodes join or leave.
   */
  public CompletionStage<SortedSet<Integer>> localPartitions(Duration timeout) {
    CompletionStage<ShardRegion.CurrentShardRegionState> state =
        AskPattern.ask(
            ClusterSharding.get(system).shardState(),
            replyTo -> new GetShardRegionState(NodeServices.PARTITION, replyTo),
            timeout,
            system.scheduler());
    return state.thenApply(
        s -> {
          SortedSet<Integer> partitions = new TreeSet<>();
          s.getShards().forEach(shard -> partitions.add(Integer.parseInt(shard.shardId())));
          return partitions;
        });
  }

  /** The workflows registered on this node. */
  public Workflows workflows() {
    return node.workflows();
  }

  /** The converter of payloads (inputs, outputs, events, entity state) to and from text. */
  public DataConverter converter() {
    return node.converter();
  }

  public RuntimeSettings settings() {
    return node.settings();
  }

  public ActorSystem<?> system() {
    return system;
  }

  /** Stops the runtime; terminates its ActorSystem if the runtime created it. */
  @Override
  public void close() {
    RUNTIMES.remove(system);
    if (ownsSystem) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /**
   * Options that are code rather than configuration.
   *
   * @param converter the data converter of payloads (default JSON with Jackson)
   * @param faults a test hook that disturbs delivery between partitions (default none)
   */
  public record Options(DataConverter converter, DeliveryFaults faults) {
    public static Options defaults() {
      return new Options(null, null);
    }

    public Options withConverter(DataConverter c) {
      return new Options(c, faults);
    }

    public Options withDeliveryFaults(DeliveryFaults f) {
      return new Options(converter, f);
    }
  }
}
