package dev.netherite.runtime.internal;

import dev.netherite.engine.host.CommitLogFaults;
import dev.netherite.engine.partition.ClientResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * INTERNAL API
 *
 * <p>The supervisor of a partition, and its Cluster Sharding entity (one entity per shard, one
 * shard per partition). It keeps the typed {@code EntityRef} API for senders and hosts the classic
 * {@link PartitionActor} as its child, which pipelining needs. When the child stops (a failed
 * write, a failed recovery) the supervisor starts it again after a back-off (doubling while it
 * crash-loops, back to the minimum after a healthy period: {@code netherite.partition-restart});
 * client requests that arrive meanwhile wait for the new child (up to {@value
 * #MAX_CLIENTS_WAITING}), messages of other partitions are dropped and resent by their senders.
 * While the store is unavailable ({@link StoreHealth}) the child is started again at a short fixed
 * interval instead ({@code partition-restart.while-store-unavailable}), so that the partition
 * serves soon after the store's return, and client requests are answered at once that the store is
 * unavailable.
 *
 * <p>The supervisor keeps the partition's {@link CommitLogFaults} across restarts of its child: a
 * write the store refused is isolated by the next child, not repeated forever.
 *
 * <p>When sharding moves the partition to another node it sends {@link PartitionCommand.HandOff}:
 * the child takes a final checkpoint and stops, and then the supervisor stops too, so the new host
 * recovers from that checkpoint instead of replaying the log. Phases: running → (child stopped)
 * down → running; running → handing off → stopped.
 */
public final class PartitionSupervisor {
  /** Client requests kept while the child is down; beyond, they wait out their attempt timeout. */
  static final int MAX_CLIENTS_WAITING = 10_000;

  private PartitionSupervisor() {}

  public static Behavior<PartitionCommand> create(int partitionId, NodeServices node) {
    if (!node.isPartition(partitionId)) {
      // Only a partition number from outside the task hub's range gets here; never persist it.
      return Behaviors.setup(
          ctx -> {
            ctx.getLog()
                .warn(
                    "refused to start partition {}: this task hub has partitions 0..{}",
                    partitionId,
                    node.settings().partitionCount() - 1);
            return Behaviors.stopped();
          });
    }
    CommitLogFaults faults = new CommitLogFaults();
    return Behaviors.withTimers(
        timers ->
            Behaviors.setup(
                ctx ->
                    running(
                        ctx,
                        timers,
                        partitionId,
                        node,
                        faults,
                        spawn(ctx, partitionId, node, faults),
                        node.settings().restartMinBackoff())));
  }

  private static org.apache.pekko.actor.ActorRef spawn(
      ActorContext<PartitionCommand> ctx,
      int partitionId,
      NodeServices node,
      CommitLogFaults faults) {
    org.apache.pekko.actor.ActorRef child =
        Adapter.actorOf(
            ctx,
            PartitionActor.props(partitionId, node, faults)
                .withDispatcher(PartitionActor.DISPATCHER),
            "log");
    ctx.watch(Adapter.toTyped(child));
    return child;
  }

  private static Behavior<PartitionCommand> running(
      ActorContext<PartitionCommand> ctx,
      TimerScheduler<PartitionCommand> timers,
      int partitionId,
      NodeServices node,
      CommitLogFaults faults,
      org.apache.pekko.actor.ActorRef child,
      Duration backoff) {
    long startedNanos = System.nanoTime();
    return Behaviors.receive(PartitionCommand.class)
        .onMessageEquals(
            PartitionCommand.HandOff.INSTANCE,
            () -> {
              child.tell(
                  PartitionCommand.HandOff.INSTANCE, org.apache.pekko.actor.ActorRef.noSender());
              return handingOff();
            })
        .onMessage(
            PartitionCommand.class,
            m -> m != PartitionCommand.RestartLog.INSTANCE,
            m -> {
              if (!refusedForStore(node, partitionId, m)) {
                child.tell(m, org.apache.pekko.actor.ActorRef.noSender());
              }
              return Behaviors.same();
            })
        .onSignal(
            Terminated.class,
            t -> {
              if (node.storeHealth().unavailableSince() != null) {
                // The outage is logged once by StoreHealth; retry soon, and keep the back-off.
                Duration wait = node.settings().restartWhileStoreUnavailable();
                ctx.getLog()
                    .debug(
                        "partition {} stopped while the store is unavailable; starting it again in"
                            + " {} ms",
                        partitionId,
                        wait.toMillis());
                timers.startSingleTimer(PartitionCommand.RestartLog.INSTANCE, wait);
                return down(
                    ctx,
                    timers,
                    partitionId,
                    node,
                    faults,
                    backoff.dividedBy(2),
                    new ArrayList<>());
              }
              Duration wait = backoffAfter(node, backoff, System.nanoTime() - startedNanos);
              ctx.getLog()
                  .warn(
                      "partition {} stopped; starting it again in {} ms",
                      partitionId,
                      wait.toMillis());
              timers.startSingleTimer(PartitionCommand.RestartLog.INSTANCE, wait);
              return down(ctx, timers, partitionId, node, faults, wait, new ArrayList<>());
            })
        .build();
  }

  private static Behavior<PartitionCommand> down(
      ActorContext<PartitionCommand> ctx,
      TimerScheduler<PartitionCommand> timers,
      int partitionId,
      NodeServices node,
      CommitLogFaults faults,
      Duration backoff,
      List<PartitionCommand> clientsWaiting) {
    return Behaviors.receive(PartitionCommand.class)
        .onMessageEquals(PartitionCommand.HandOff.INSTANCE, Behaviors::stopped)
        .onMessageEquals(
            PartitionCommand.RestartLog.INSTANCE,
            () -> {
              Duration max = node.settings().restartMaxBackoff();
              Duration next =
                  backoff.multipliedBy(2).compareTo(max) > 0 ? max : backoff.multipliedBy(2);
              Duration min = node.settings().restartMinBackoff();
              org.apache.pekko.actor.ActorRef child = spawn(ctx, partitionId, node, faults);
              // Recovery holds them until the partition runs; then they are served in order.
              clientsWaiting.forEach(
                  m -> child.tell(m, org.apache.pekko.actor.ActorRef.noSender()));
              return running(
                  ctx,
                  timers,
                  partitionId,
                  node,
                  faults,
                  child,
                  next.compareTo(min) < 0 ? min : next);
            })
        .onMessage(
            PartitionCommand.class,
            m -> {
              // A client's request waits for the restart (after a rollback its retry comes at
              // once), instead of being dropped and waiting out its attempt timeout; messages
              // of other partitions are resent by their senders.
              if (!refusedForStore(node, partitionId, m)
                  && replyTo(m) != null
                  && clientsWaiting.size() < MAX_CLIENTS_WAITING) {
                clientsWaiting.add(m);
              }
              return Behaviors.same();
            })
        .build();
  }

  private static ActorRef<ClientResponse> replyTo(PartitionCommand m) {
    return switch (m) {
      case PartitionCommand.ClientCommand c -> c.replyTo();
      case PartitionCommand.QueryCommand q -> q.replyTo();
      case PartitionCommand.PurgeSweep p -> p.replyTo();
      case PartitionCommand.AwaitCompletion a -> a.replyTo();
      default -> null;
    };
  }

  /**
   * While the store is unavailable a client's request is answered at once that it is, instead of
   * waiting in (or being dropped by) a partition that can neither record nor answer it.
   */
  private static boolean refusedForStore(NodeServices node, int partitionId, PartitionCommand m) {
    Instant since = node.storeHealth().unavailableSince();
    if (since == null) {
      return false;
    }
    ActorRef<ClientResponse> replyTo = replyTo(m);
    if (replyTo == null) {
      return false;
    }
    replyTo.tell(
        new ClientResponse.Rejected(
            ClientResponse.Reason.STORE_UNAVAILABLE,
            "The store (Cassandra) is unavailable since "
                + since
                + ", so partition "
                + partitionId
                + " can neither record nor answer this request, which was not applied. Retry once"
                + " the store is back; the partition serves again within seconds of its return."));
    return true;
  }

  /**
   * The wait before the next start: {@code backoff} while the partition crash-loops, the minimum
   * again once it had run for {@code partition-restart.reset-after} (a new episode, not the same
   * one).
   */
  private static Duration backoffAfter(NodeServices node, Duration backoff, long ranNanos) {
    return ranNanos >= node.settings().restartResetAfter().toNanos()
        ? node.settings().restartMinBackoff()
        : backoff;
  }

  /**
   * Waits for the child's final checkpoint; what arrives meanwhile is dropped (senders retry at the
   * new host).
   */
  private static Behavior<PartitionCommand> handingOff() {
    return Behaviors.receive(PartitionCommand.class)
        .onMessage(PartitionCommand.class, m -> Behaviors.same())
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }
}
