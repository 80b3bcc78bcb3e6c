package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.TaskFailedException;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Payloads above the configured limits (netherite.limits.*, defaults from reference.conf) never
 * reach the commit log: the client refuses them at the call, and one produced by user code fails
 * only its task, operation or instance, while the partition goes on serving the others. The
 * payloads are random text, which the journal's compression cannot shrink.
 */
@Timeout(180)
class PayloadLimitsTest {
  static final int MB_20 = 20 * 1024 * 1024;
  static final int MB_2 = 2 * 1024 * 1024;

  static final ActivityRef<Integer, String> PRODUCE =
      ActivityRef.of("Produce", Integer.class, String.class);
  static final OrchestrationRef<Integer, String> CALL_PRODUCE =
      OrchestrationRef.of("CallProduce", Integer.class, String.class);
  static final OrchestrationRef<String, Integer> ECHO_LENGTH =
      OrchestrationRef.of("EchoLength", String.class, Integer.class);
  static final OrchestrationRef<Integer, String> BIG_OUTPUT =
      OrchestrationRef.of("BigOutput", Integer.class, String.class);
  static final OrchestrationRef<Integer, String> BIG_STATUS =
      OrchestrationRef.of("BigStatus", Integer.class, String.class);
  static final OrchestrationRef<Integer, String> GROW_ENTITY =
      OrchestrationRef.of("GrowEntity", Integer.class, String.class);

  static final EntityOp<Integer, Integer> GROW = EntityOp.of("grow", Integer.class, Integer.class);
  static final EntityType<String> BLOB =
      EntityType.define("Blob", String.class, () -> "")
          .operation(
              GROW,
              (ctx, size) -> {
                ctx.setState(random(size));
                return ctx.state().length();
              });

  private static DurableRuntime runtime;
  private static DurableClient client;

  @BeforeAll
  static void start() {
    Workflows app =
        TestWorkflows.register(Workflows.builder())
            .activity(PRODUCE, (ctx, size) -> random(size))
            .orchestration(
                CALL_PRODUCE,
                (ctx, size) -> {
                  try {
                    return "length " + ctx.call(PRODUCE, size).await().length();
                  } catch (TaskFailedException e) {
                    return "failed: " + e.getMessage();
                  }
                })
            .orchestration(ECHO_LENGTH, (ctx, s) -> s == null ? -1 : s.length())
            .orchestration(BIG_OUTPUT, (ctx, size) -> random(size))
            .orchestration(
                BIG_STATUS,
                (ctx, size) -> {
                  ctx.setCustomStatus(random(size));
                  ctx.timer(Duration.ofMillis(10)).await();
                  return "status set";
                })
            .orchestration(
                GROW_ENTITY,
                (ctx, size) -> {
                  var blob = BLOB.id("b-" + size);
                  String first;
                  try {
                    first = "grew to " + ctx.callEntity(blob, GROW, size).await();
                  } catch (TaskFailedException e) {
                    first = "failed: " + e.getMessage();
                  }
                  // The entity still serves: its next (small) operation succeeds.
                  return first + " / then " + ctx.callEntity(blob, GROW, 10).await();
                })
            .entity(BLOB)
            .build();
    runtime =
        RuntimeTestKit.start(
            app,
            RuntimeTestKit.newTaskHub("limits"),
            // One partition: everything below shares it with the oversized payloads.
            Map.of("netherite.partition-count", 1, "netherite.client.request-timeout", "10s"),
            DurableRuntime.Options.defaults());
    client = runtime.client();
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void anOversizedActivityResultFailsOnlyItsTask() {
    InstanceId big = client.start(CALL_PRODUCE, MB_20);
    // Meanwhile, on the same partition, Hello5 runs as usual.
    long started = System.nanoTime();
    InstanceId hello = client.start(TestWorkflows.HELLO5, null);
    InstanceStatus helloDone = client.waitForCompletion(hello, Duration.ofSeconds(20));
    long helloMs = (System.nanoTime() - started) / 1_000_000;
    assertEquals(TestWorkflows.HELLO5_OUTPUT, helloDone.output(List.class));
    System.out.println("MEASURE hello5 beside a 20 MB activity result: " + helloMs + " ms");

    InstanceStatus bigDone = client.waitForCompletion(big, Duration.ofSeconds(60));
    assertEquals(RuntimeStatus.COMPLETED, bigDone.runtimeStatus());
    String output = bigDone.output(String.class);
    assertTrue(output.startsWith("failed: "), output);
    assertTrue(output.contains("netherite.limits.activity-result"), output);
    assertTrue(output.contains("Produce"), output);

    // A result under the limit still goes through.
    InstanceId small = client.start(CALL_PRODUCE, 1000);
    assertEquals(
        "length 1000",
        client.waitForCompletion(small, Duration.ofSeconds(30)).output(String.class));
  }

  @Test
  void anOversizedInputOrEventIsRefusedAtTheCall() {
    String huge = random(MB_20);
    long started = System.nanoTime();
    IllegalArgumentException input =
        assertThrows(IllegalArgumentException.class, () -> client.start(ECHO_LENGTH, huge));
    assertTrue(input.getMessage().contains("netherite.limits.input"), input.getMessage());
    assertTrue(input.getMessage().contains("EchoLength"), input.getMessage());

    InstanceId waiting =
        client.start(
            TestWorkflows.WAIT_EVENT,
            null,
            StartOptions.defaults().instanceId(InstanceId.of("limits-event")));
    IllegalArgumentException event =
        assertThrows(
            IllegalArgumentException.class, () -> client.raiseEvent(waiting, "Approval", huge));
    assertTrue(event.getMessage().contains("netherite.limits.event-payload"), event.getMessage());
    long ms = (System.nanoTime() - started) / 1_000_000;
    assertTrue(ms < 5000, "refusing took " + ms + " ms");

    // The instance is unharmed and takes a normal event.
    client.raiseEvent(waiting, "Approval", "small");
    assertEquals(
        "got small",
        client.waitForCompletion(waiting, Duration.ofSeconds(30)).output(String.class));
  }

  @Test
  void anOversizedOutputOrCustomStatusFailsItsInstance() {
    InstanceId output = client.start(BIG_OUTPUT, MB_2);
    InstanceStatus o = client.waitForCompletion(output, Duration.ofSeconds(30));
    assertEquals(RuntimeStatus.FAILED, o.runtimeStatus());
    assertTrue(o.failure().message().contains("netherite.limits.output"), o.failure().message());

    InstanceId status = client.start(BIG_STATUS, MB_2);
    InstanceStatus s = client.waitForCompletion(status, Duration.ofSeconds(30));
    assertEquals(RuntimeStatus.FAILED, s.runtimeStatus());
    assertTrue(
        s.failure().message().contains("netherite.limits.custom-status"), s.failure().message());

    InstanceId fine = client.start(BIG_OUTPUT, 100);
    assertEquals(
        100, client.waitForCompletion(fine, Duration.ofSeconds(30)).output(String.class).length());
  }

  @Test
  void anOversizedEntityStateFailsOnlyItsOperation() {
    InstanceId id = client.start(GROW_ENTITY, MB_2);
    String output = client.waitForCompletion(id, Duration.ofSeconds(30)).output(String.class);
    assertTrue(output.startsWith("failed: "), output);
    assertTrue(output.contains("netherite.limits.entity-state"), output);
    assertTrue(output.endsWith(" / then 10"), output);
  }

  static String random(int length) {
    SplittableRandom random = new SplittableRandom(length);
    char[] chars = new char[length];
    for (int i = 0; i < length; i++) {
      chars[i] = (char) ('!' + random.nextInt(90));
    }
    String s = new String(chars);
    return s.replace('"', 'x').replace('\\', 'y');
  }
}
