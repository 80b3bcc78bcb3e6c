package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The placement settings are checked with a clear message; a lone node hosts every partition. */
@Timeout(120)
class PlacementSettingsTest {

  @Test
  void aRebalanceLimitBelowOneIsRefusedWithItsKey() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RuntimeTestKit.start(
                    TestWorkflows.app(), RuntimeTestKit.newTaskHub("placement"),
                    Map.of("netherite.placement.rebalance-absolute-limit", 0),
                        DurableRuntime.Options.defaults()));
    assertEquals(
        "netherite.placement.rebalance-absolute-limit is 0; it must be at least 1.",
        e.getMessage());
  }

  @Test
  void aRelativeLimitAboveOneIsRefusedWithItsKey() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RuntimeTestKit.start(
                    TestWorkflows.app(), RuntimeTestKit.newTaskHub("placement"),
                    Map.of("netherite.placement.rebalance-relative-limit", 1.5),
                        DurableRuntime.Options.defaults()));
    assertEquals(
        "netherite.placement.rebalance-relative-limit is 1.5; it must be above 0 and at most 1.",
        e.getMessage());
  }

  @Test
  void aSingleNodeHostsEveryPartition() throws Exception {
    try (DurableRuntime runtime =
        RuntimeTestKit.start(TestWorkflows.app(), RuntimeTestKit.newTaskHub("placement"))) {
      int partitions = runtime.settings().partitionCount();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      Set<Integer> hosted;
      // The node wakes every partition at start; each is hosted once sharding has allocated it.
      while ((hosted = runtime.localPartitions(Duration.ofSeconds(5)).toCompletableFuture().get())
              .size()
          < partitions) {
        assertTrue(System.nanoTime() < deadline, "hosts only " + hosted);
        Thread.sleep(200);
      }
      assertEquals(partitions, hosted.size());
      assertTrue(hosted.stream().allMatch(p -> p >= 0 && p < partitions), hosted::toString);
    }
  }
}
