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
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The engine on one node: its partitions (as Cluster Sharding entities), its activity workers and a
 * client. A Pekko {@link Extension} of the ActorSystem it runs on, registered under {@link #ID}.
 *
 * <p>Start it on an ActorSystem of its own with {@link #start(Workflows, Config)}, or embed it in
 * an application's ActorSystem with {@link #create(ActorSystem, Workflows)}; that system must use
 * the cluster actor provider and the persistence plugins of the {@code persistence} module, and may
 * run actors, sharded entity types and serializers of its own beside the runtime. {@link
 * #get(ActorSystem)} finds the runtime of a system, as {@code ClusterSharding.get(system)} does.
 *
 * <p>An embedded runtime lives as long as its system: the system's coordinated shutdown (SIGTERM,
 * {@code CoordinatedShutdown.get(system).run(...)}, or leaving the cluster) hands each partition
 * over after a final checkpoint, and terminating the system stops it.
 */
public final class DurableRuntime implements Extension, AutoCloseable {
  /**
   * The extension id. A runtime needs its application, which a plain {@code ID.get(system)} cannot
   * supply: create it with {@link #create(ActorSystem, Workflows)}, then look it up with {@link
   * #get(ActorSystem)} or {@code system.extension(DurableRuntime.ID)}.
   */
  public static final ExtensionId<DurableRuntime> ID = new Id();

  /**
   * What {@link #create} hands to {@link Id#createExtension}, which runs on the caller's thread.
   */
  private static final Map<ActorSystem<?>, Function<ActorSystem<?>, DurableRuntime>> PENDING =
      new ConcurrentHashMap<>();

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

  private static final class Id extends ExtensionId<DurableRuntime> {
    @Override
    public DurableRuntime createExtension(ActorSystem<?> system) {
      Function<ActorSystem<?>, DurableRuntime> pending = PENDING.get(system);
      if (pending == null) {
        throw new IllegalStateException(notCreated(system));
      }
      return pending.apply(system);
    }
  }

  private static String notCreated(ActorSystem<?> system) {
    return "No DurableRuntime runs on ActorSystem "
        + system.name()
        + "; create one with DurableRuntime.create(system, workflows) (or start a node of its own"
        + " with DurableRuntime.start(workflows, config)) before looking it up.";
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

  /**
   * Starts the engine inside an existing ActorSystem (embedding) and registers it as the system's
   * {@link #ID} extension.
   *
   * @throws IllegalStateException when a runtime already runs on {@code system}
   */
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
    Function<ActorSystem<?>, DurableRuntime> build =
        s -> {
          RuntimeSettings settings = RuntimeSettings.from(s.settings().config());
          DataConverter converter =
              options.converter() != null ? options.converter() : new JacksonDataConverter();
          DeliveryFaults faults = options.faults() != null ? options.faults() : DeliveryFaults.NONE;
          NodeServices node = RuntimeBootstrap.start(s, settings, workflows, converter, faults);
          return new DurableRuntime(s, owns, node, RuntimeBootstrap.client(node));
        };
    // One registration at a time per system; Pekko runs createExtension on this thread.
    synchronized (PENDING) {
      if (system.hasExtension(ID)) {
        throw new IllegalStateException(
            "A DurableRuntime is already running on ActorSystem "
                + system.name()
                + "; look it up with DurableRuntime.get(system).");
      }
      PENDING.put(system, build);
      try {
        return system.registerExtension(ID);
      } finally {
        PENDING.remove(system);
      }
    }
  }

  /**
   * The runtime running on {@code system}: its {@link #ID} extension.
   *
   * @throws IllegalStateException when none was created on it
   */
  public static DurableRuntime get(ActorSystem<?> system) {
    if (!system.hasExtension(ID)) {
      throw new IllegalStateException(notCreated(system));
    }
    return system.extension(ID);
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

  /**
   * Terminates the ActorSystem if the runtime created it ({@link #start}). An embedded runtime is
   * stopped by its system's coordinated shutdown or termination, so this does nothing for it.
   */
  @Override
  public void close() {
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
