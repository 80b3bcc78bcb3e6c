package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.TaskFailedException;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The commit log's last lines of defence, on the real Cassandra, with the payload limits raised so
 * that what they normally stop gets through to the journal: a write is cut at {@code
 * netherite.commit-log.max-batch-bytes}; one event above it fails only its task; and a write that
 * Cassandra itself refuses (an 18 MiB activity result, with the cap raised above Cassandra's 16 MiB
 * request limit) is isolated to the activity call that produced it, while the partition goes on.
 * The payloads are random text, which nothing can compress.
 */
@Timeout(180)
class CommitLogLimitsTest {
  static final int MIB = 1024 * 1024;

  static final ActivityRef<Integer, String> PRODUCE =
      ActivityRef.of("Produce", Integer.class, String.class);
  static final OrchestrationRef<Integer, String> CALL_PRODUCE =
      OrchestrationRef.of("CallProduce", Integer.class, String.class);
  static final OrchestrationRef<Integer, Integer> FAN_OUT =
      OrchestrationRef.of("ProduceInParallel", Integer.class, Integer.class);

  private static DurableRuntime runtime;
  private static DurableClient client;

  static Workflows app() {
    return TestWorkflows.register(Workflows.builder())
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
        .orchestration(
            FAN_OUT,
            (ctx, count) -> {
              List<Task<String>> calls = new ArrayList<>();
              for (int k = 0; k < count; k++) {
                calls.add(ctx.call(PRODUCE, 3 * MIB));
              }
              Task.allOf(calls).await();
              int total = 0;
              for (Task<String> c : calls) {
                total += c.await().length();
              }
              return total;
            })
        .build();
  }

  @BeforeAll
  static void start() {
    runtime =
        RuntimeTestKit.start(
            app(),
            RuntimeTestKit.newTaskHub("commitlog"),
            // One partition, so that everything shares it; activity results up to 32 MiB pass
            // their own limit and meet the commit log's byte cap (8 MiB by default).
            Map.of(
                "netherite.partition-count",
                1,
                "netherite.limits.activity-result",
                "32 MiB",
                "netherite.client.request-timeout",
                "20s"),
            DurableRuntime.Options.defaults());
    client = runtime.client();
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void anEventAboveTheByteCapFailsOnlyItsTask() {
    InstanceId big = client.start(CALL_PRODUCE, 9 * MIB);
    assertHello5Completes(client);
    InstanceStatus done = client.waitForCompletion(big, Duration.ofSeconds(60));
    assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus());
    String output = done.output(String.class);
    assertTrue(output.startsWith("failed: "), output);
    assertTrue(output.contains("netherite.commit-log.max-batch-bytes"), output);
    assertTrue(output.contains("activity call"), output);
  }

  @Test
  void resultsThatTogetherExceedTheCapAreWrittenInSeveralWrites() {
    // Six results of 3 MiB: 18 MiB if their events shared one write, more than Cassandra takes.
    InstanceId fan = client.start(FAN_OUT, 6);
    InstanceStatus done = client.waitForCompletion(fan, Duration.ofSeconds(90));
    assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus(), String.valueOf(done.failure()));
    assertEquals(18 * MIB, done.output(Integer.class));
  }

  /**
   * With the cap raised above what Cassandra takes, Cassandra refuses the write: the partition
   * restarts, writes one event at a time, finds the refused one and fails its activity call.
   */
  @Test
  void aWriteCassandraRefusesFailsOnlyTheActivityCallThatProducedIt() {
    ErrorLogGuard.expect("the commit log refused");
    try (DurableRuntime raised =
        RuntimeTestKit.start(
            app(),
            RuntimeTestKit.newTaskHub("refused"),
            Map.of(
                "netherite.partition-count",
                1,
                "netherite.limits.activity-result",
                "64 MiB",
                "netherite.commit-log.max-batch-bytes",
                "64 MiB",
                "netherite.client.request-timeout",
                "30s"),
            DurableRuntime.Options.defaults())) {
      DurableClient c = raised.client();
      InstanceId big = c.start(CALL_PRODUCE, 18 * MIB);
      InstanceStatus done = c.waitForCompletion(big, Duration.ofSeconds(90));
      assertEquals(RuntimeStatus.COMPLETED, done.runtimeStatus());
      String output = done.output(String.class);
      assertTrue(output.startsWith("failed: "), output);
      assertTrue(output.contains("The commit log refused to store the result of activity"), output);
      assertHello5Completes(c);
      // The partition still takes results it can store.
      InstanceId small = c.start(CALL_PRODUCE, 1000);
      assertEquals(
          "length 1000", c.waitForCompletion(small, Duration.ofSeconds(30)).output(String.class));
    }
  }

  private static void assertHello5Completes(DurableClient c) {
    long started = System.nanoTime();
    InstanceId hello = c.start(TestWorkflows.HELLO5, null);
    InstanceStatus helloDone = c.waitForCompletion(hello, Duration.ofSeconds(30));
    assertEquals(TestWorkflows.HELLO5_OUTPUT, helloDone.output(List.class));
    System.out.println(
        "MEASURE hello5 beside an oversized write: "
            + (System.nanoTime() - started) / 1_000_000
            + " ms");
  }

  static String random(int size) {
    SplittableRandom random = new SplittableRandom(size);
    char[] chars = new char[size];
    for (int i = 0; i < size; i++) {
      chars[i] = (char) ('a' + random.nextInt(26));
    }
    return new String(chars);
  }
}
