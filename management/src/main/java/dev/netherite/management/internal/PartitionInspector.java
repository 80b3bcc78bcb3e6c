package dev.netherite.management.internal;

import dev.netherite.management.ManagementSettings;
import dev.netherite.runtime.DurableRuntime;
import dev.netherite.runtime.internal.NodeServices;
import dev.netherite.runtime.internal.PartitionCommand;
import dev.netherite.runtime.internal.PartitionReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * INTERNAL API
 *
 * <p>Asks partitions for their {@link PartitionReport}s, in parallel, and judges their state. A
 * partition that does not answer within the timeout is unavailable: recovering, restarting after a
 * failure, or on a node that cannot be reached.
 */
public final class PartitionInspector {
  private final DurableRuntime runtime;
  private final ManagementSettings settings;

  public PartitionInspector(DurableRuntime runtime, ManagementSettings settings) {
    this.runtime = runtime;
    this.settings = settings;
  }

  /**
   * A partition as operators see it.
   *
   * @param partition the partition number
   * @param state running, checkpointing, handing-off, stuck or unavailable
   * @param node the node hosting it, or null when not known
   * @param report its report, or null when it did not answer
   */
  public record PartitionView(int partition, String state, String node, PartitionReport report) {}

  /** Every partition of the task hub, in order. */
  public List<PartitionView> all() {
    int count = runtime.settings().partitionCount();
    List<Integer> partitions = new ArrayList<>(count);
    for (int p = 0; p < count; p++) {
      partitions.add(p);
    }
    Map<Integer, String> hosts = hosts();
    return inspect(partitions, hosts);
  }

  /** The partitions this node hosts now, in order. */
  public List<PartitionView> local() {
    SortedSet<Integer> hosted = localPartitions();
    return inspect(new ArrayList<>(hosted), Map.of());
  }

  /**
   * @throws IllegalStateException when the shard region does not say within the timeout
   */
  public SortedSet<Integer> localPartitions() {
    try {
      return runtime
          .localPartitions(settings.partitionTimeout())
          .toCompletableFuture()
          .get(settings.partitionTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(
          "The shard region did not say which partitions this node hosts within "
              + settings.partitionTimeout()
              + ".",
          e);
    }
  }

  private List<PartitionView> inspect(List<Integer> partitions, Map<Integer, String> hosts) {
    Duration timeout = settings.partitionTimeout();
    ClusterSharding sharding = ClusterSharding.get(runtime.system());
    List<CompletableFuture<PartitionReport>> answers = new ArrayList<>();
    for (int p : partitions) {
      CompletionStage<PartitionReport> answer =
          sharding
              .entityRefFor(NodeServices.PARTITION, Integer.toString(p))
              .ask(PartitionCommand.Inspect::new, timeout);
      answers.add(answer.toCompletableFuture().exceptionally(e -> null));
    }
    List<PartitionView> views = new ArrayList<>(partitions.size());
    for (int i = 0; i < partitions.size(); i++) {
      PartitionReport report;
      try {
        report = answers.get(i).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        report = null;
      }
      int p = partitions.get(i);
      String node = report != null ? report.node() : hosts.get(p);
      views.add(new PartitionView(p, stateOf(report), node, report));
    }
    return views;
  }

  /** Which node each partition is allocated to, as the shard regions of the cluster say. */
  private Map<Integer, String> hosts() {
    Map<Integer, String> hosts = new HashMap<>();
    try {
      Duration timeout = settings.partitionTimeout();
      ShardRegion.ClusterShardingStats stats =
          AskPattern.<ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
                  ClusterSharding.get(runtime.system()).shardState(),
                  replyTo -> new GetClusterShardingStats(NodeServices.PARTITION, timeout, replyTo),
                  timeout.plusSeconds(1),
                  runtime.system().scheduler())
              .toCompletableFuture()
              .get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
      for (Map.Entry<Address, ShardRegion.ShardRegionStats> region :
          stats.getRegions().entrySet()) {
        for (String shard : region.getValue().getStats().keySet()) {
          hosts.put(Integer.parseInt(shard), region.getKey().toString());
        }
      }
    } catch (Exception e) {
      // Unknown hosts are shown as such; the reports of partitions that answer name their node.
    }
    return hosts;
  }

  String stateOf(PartitionReport r) {
    if (r == null) {
      return "unavailable";
    }
    if (r.handingOff()) {
      return "handing-off";
    }
    long stuckMillis = settings.stuckAfter().toMillis();
    boolean noProgress =
        r.lastEventAt() != null
            && Duration.between(r.lastEventAt(), Instant.now()).toMillis() > stuckMillis;
    if ((r.pendingWork() > 0 && noProgress) || r.writeInFlightMillis() > stuckMillis) {
      return "stuck";
    }
    if (r.checkpointing()) {
      return "checkpointing";
    }
    return "running";
  }
}
