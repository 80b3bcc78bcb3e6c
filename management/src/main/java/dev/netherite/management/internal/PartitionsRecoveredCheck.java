package dev.netherite.management.internal;

import dev.netherite.management.ManagementSettings;
import dev.netherite.runtime.DurableRuntime;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * INTERNAL API
 *
 * <p>A readiness check of Pekko Management ({@code /ready}): ready when this node is Up in the
 * cluster and every partition it hosts has recovered (answers its report); a node hosting none is
 * ready once it is Up. Runs on a virtual thread, since it waits for the partitions' answers.
 */
public final class PartitionsRecoveredCheck implements Supplier<CompletionStage<Boolean>> {
  private final ActorSystem system;

  public PartitionsRecoveredCheck(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("netherite-readiness")
        .start(
            () -> {
              try {
                result.complete(ready());
              } catch (RuntimeException e) {
                result.complete(false);
              }
            });
    return result;
  }

  private boolean ready() {
    var typed = Adapter.toTyped(system);
    if (Cluster.get(typed).selfMember().status() != MemberStatus.up()) {
      return false;
    }
    DurableRuntime runtime = DurableRuntime.get(typed);
    PartitionInspector inspector =
        new PartitionInspector(runtime, ManagementSettings.from(system.settings().config()));
    return inspector.local().stream().allMatch(v -> v.report() != null);
  }
}
