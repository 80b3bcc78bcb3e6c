package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.InstanceId;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSelection;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.PoisonPill;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A partition's life around failures: the restart back-off starts over after a healthy period, a
 * checkpoint that keeps failing is not retried while nothing changes, and a hand-off whose final
 * checkpoint failed says so.
 */
@Timeout(180)
class PartitionLifecycleTest {

  @Test
  void theRestartBackoffStartsOverAfterAHealthyPeriod() throws Exception {
    try (LogCapture log = new LogCapture();
        DurableRuntime runtime =
            RuntimeTestKit.start(
                TestWorkflows.app(),
                RuntimeTestKit.newTaskHub("backoff"),
                Map.of(
                    "netherite.partition-count",
                    1,
                    "netherite.partition-restart.reset-after",
                    "3s"),
                DurableRuntime.Options.defaults())) {
      runHello5(runtime);
      ActorSelection partition =
          runtime.system().classicSystem().actorSelection("/system/sharding/partition/*/0/log");
      ActorRef first = resolve(partition, null);
      first.tell(PoisonPill.getInstance(), ActorRef.noSender());
      ActorRef second = resolve(partition, first);
      second.tell(PoisonPill.getInstance(), ActorRef.noSender()); // a crash loop: doubles
      ActorRef third = resolve(partition, second);
      Thread.sleep(3500); // healthy for longer than reset-after
      runHello5(runtime);
      third.tell(PoisonPill.getInstance(), ActorRef.noSender());
      resolve(partition, third);
      runHello5(runtime);
      List<String> restarts = log.containing("starting it again in");
      assertEquals(3, restarts.size(), restarts.toString());
      assertTrue(restarts.get(0).endsWith("in 200 ms"), restarts.toString());
      assertTrue(restarts.get(1).endsWith("in 400 ms"), restarts.toString());
      assertTrue(restarts.get(2).endsWith("in 200 ms"), restarts.toString());
    }
  }

  @Test
  void aCheckpointThatKeepsFailingIsNotRetriedWhileNothingChanges() throws Exception {
    FailingSnapshotStore.SAVES.set(0);
    try (DurableRuntime runtime =
        RuntimeTestKit.start(
            TestWorkflows.app(),
            RuntimeTestKit.newTaskHub("idle-checkpoint"),
            failingCheckpoints(Map.of("netherite.checkpoint.after-idle", "1s")),
            DurableRuntime.Options.defaults())) {
      runHello5(runtime);
      Thread.sleep(5000); // ten idle ticks
      int afterIdle = FailingSnapshotStore.SAVES.get();
      assertEquals(1, afterIdle, "checkpoint attempts while idle with nothing new");
      runHello5(runtime); // something new: worth one more attempt when idle again
      Thread.sleep(3000);
      assertEquals(2, FailingSnapshotStore.SAVES.get(), "attempts after new events");
    }
  }

  @Test
  void aHandOffWhoseFinalCheckpointFailedSaysSo() throws Exception {
    try (LogCapture log = new LogCapture()) {
      DurableRuntime runtime =
          RuntimeTestKit.start(
              TestWorkflows.app(),
              RuntimeTestKit.newTaskHub("handoff-log"),
              failingCheckpoints(Map.of()),
              DurableRuntime.Options.defaults());
      try {
        runHello5(runtime);
        CoordinatedShutdown.get(runtime.system())
            .runAll(CoordinatedShutdown.unknownReason())
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
      } finally {
        runtime.close();
      }
      assertEquals(List.of(), log.containing("after a final checkpoint"));
      List<String> failed = log.containing("final checkpoint failed");
      assertEquals(1, failed.size(), failed.toString());
      assertTrue(failed.get(0).startsWith("WARN"), failed.toString());
    }
  }

  private static Map<String, Object> failingCheckpoints(Map<String, Object> more) {
    Map<String, Object> overrides = new java.util.HashMap<>(more);
    overrides.put("netherite.partition-count", 1);
    overrides.put("netherite.checkpoint.after-events", 100000);
    overrides.put("pekko.persistence.snapshot-store.plugin", "failing-snapshot-store");
    overrides.put("failing-snapshot-store.class", FailingSnapshotStore.class.getName());
    return overrides;
  }

  private static void runHello5(DurableRuntime runtime) {
    InstanceId id = runtime.client().start(HELLO5, null);
    assertEquals(
        HELLO5_OUTPUT,
        runtime.client().waitForCompletion(id, Duration.ofSeconds(30)).output(List.class));
  }

  /** The partition's commit-log actor, once it is a different one than {@code previous}. */
  private static ActorRef resolve(ActorSelection selection, ActorRef previous) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        ActorRef ref =
            selection
                .resolveOne(Duration.ofMillis(500))
                .toCompletableFuture()
                .get(1, TimeUnit.SECONDS);
        if (!ref.equals(previous)) {
          return ref;
        }
      } catch (Exception notYet) {
        // stopped and not started again yet
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the partition did not start again within 30 s");
  }
}
