package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.runtime.internal.PartitionCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Messages between partitions are dropped and duplicated at random (deliveries and acknowledgements
 * alike, and in the global mode what partitions tell each other of their commit); every
 * sub-orchestration is still started once and completes once.
 */
@Timeout(240)
class ExactlyOnceDeliveryTest {

  /** Settings of the runtime; a subclass runs the test in another persistence mode. */
  Map<String, Object> settings() {
    return Map.of();
  }

  private static Map<String, Object> withResendAfter(Map<String, Object> settings) {
    Map<String, Object> all = new java.util.HashMap<>(settings);
    all.put("netherite.delivery.resend-after", "300ms");
    return all;
  }

  @Test
  void subOrchestrationsStartAndCompleteOnceDespiteLostAndDuplicatedMessages() {
    Random random = new Random(42);
    AtomicInteger dropped = new AtomicInteger();
    AtomicInteger duplicated = new AtomicInteger();
    DeliveryFaults faults =
        message -> {
          // In the global mode, what partitions tell each other of their commit is lost and
          // duplicated too.
          if (!(message instanceof PartitionCommand.Deliver)
              && !(message instanceof PartitionCommand.Ack)
              && !(message instanceof PartitionCommand.Committed)
              && !(message instanceof PartitionCommand.AskCommitted)) {
            return DeliveryFaults.Fate.DELIVER;
          }
          synchronized (random) {
            double r = random.nextDouble();
            if (r < 0.25) {
              dropped.incrementAndGet();
              return DeliveryFaults.Fate.DROP;
            }
            if (r < 0.45) {
              duplicated.incrementAndGet();
              return DeliveryFaults.Fate.DUPLICATE;
            }
            return DeliveryFaults.Fate.DELIVER;
          }
        };
    String hub = RuntimeTestKit.newTaskHub("once");
    int parents = 10;
    int children = 8;
    try (DurableRuntime runtime =
        RuntimeTestKit.start(
            TestWorkflows.app(),
            hub,
            withResendAfter(settings()),
            DurableRuntime.Options.defaults().withDeliveryFaults(faults))) {
      List<InstanceId> ids = new ArrayList<>();
      for (int p = 0; p < parents; p++) {
        ids.add(
            runtime
                .client()
                .start(
                    TestWorkflows.PARENT,
                    children,
                    StartOptions.withInstanceId("parent-" + hub + "-" + p)));
      }
      for (InstanceId id : ids) {
        InstanceStatus done = runtime.client().waitForCompletion(id, Duration.ofSeconds(120));
        assertEquals(
            RuntimeStatus.COMPLETED, done.runtimeStatus(), () -> "failure: " + done.failure());
        List<String> expected = new ArrayList<>();
        for (int c = 0; c < children; c++) {
          expected.add((id.value() + "/" + c).toUpperCase());
        }
        assertEquals(expected, done.output(List.class));
        List<HistoryEvent> history = runtime.client().getStatus(id, true).orElseThrow().history();
        assertEquals(
            children,
            history.stream()
                .filter(e -> e instanceof HistoryEvent.SubOrchestrationCompleted)
                .count());
        for (int c = 0; c < children; c++) {
          String name = id.value() + "/" + c;
          // No crash here, so a child created twice would have run its activity twice.
          assertEquals(1, TestWorkflows.COUNTED_RUNS.get(name).get(), name);
          InstanceStatus child =
              runtime.client().getStatus(InstanceId.of(id.value() + ":" + c), true).orElseThrow();
          assertEquals(
              1,
              child.history().stream()
                  .filter(e -> e instanceof HistoryEvent.ExecutionStarted)
                  .count());
          assertEquals(RuntimeStatus.COMPLETED, child.runtimeStatus());
        }
      }
      assertEquals(
          true,
          dropped.get() > 10 && duplicated.get() > 10,
          "faults were injected: dropped=" + dropped + " duplicated=" + duplicated);
    }
  }
}
