package dev.netherite.runtime;

import static dev.netherite.runtime.TestWorkflows.HELLO5;
import static dev.netherite.runtime.TestWorkflows.HELLO5_OUTPUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.InstanceId;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A checkpoint that fails is tried again after another {@code checkpoint.after-events}, not at
 * every write: a failure that repeats (a state larger than Cassandra takes in one request) must not
 * turn every write into a serialization of the whole state. The partition keeps working on its
 * journal meanwhile.
 */
@Timeout(180)
class CheckpointFailureTest {

  @Test
  void aFailedCheckpointIsRetriedAfterMoreEventsNotAtEveryWrite() {
    int afterEvents = 48; // 4 sequential Hello5 (12 events each, one write each) on one partition
    Map<String, Object> overrides =
        Map.of(
            "netherite.partition-count",
            1,
            "netherite.checkpoint.after-events",
            afterEvents,
            "pekko.persistence.snapshot-store.plugin",
            "failing-snapshot-store",
            "failing-snapshot-store.class",
            FailingSnapshotStore.class.getName());
    FailingSnapshotStore.SAVES.set(0);
    int runs = 40;
    try (DurableRuntime runtime =
        RuntimeTestKit.start(
            TestWorkflows.app(),
            RuntimeTestKit.newTaskHub("checkpoint-failure"),
            overrides,
            DurableRuntime.Options.defaults())) {
      for (int i = 0; i < runs; i++) {
        InstanceId id = runtime.client().start(HELLO5, null);
        assertEquals(
            HELLO5_OUTPUT,
            runtime.client().waitForCompletion(id, Duration.ofSeconds(30)).output(List.class));
      }
      // A checkpoint no longer holds input while its records are written, so the runs may end
      // before the first attempt reaches the snapshot store.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (FailingSnapshotStore.SAVES.get() == 0 && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }
    }
    int attempts = FailingSnapshotStore.SAVES.get();
    // 480 events: a first attempt at 48, then one per further 48; retrying at every write would be
    // about 36.
    assertTrue(
        attempts >= 1 && attempts <= runs * 12 / afterEvents + 1,
        "checkpoint attempts: " + attempts);
  }
}
