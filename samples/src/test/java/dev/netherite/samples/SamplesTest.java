package dev.netherite.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.cassandra.TestCassandra;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.runtime.DurableRuntime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The samples run and give their expected outputs, on one node against the test Cassandra. */
@Timeout(180)
class SamplesTest {

  @Test
  void hello5AndSequenceGiveTheExpectedOutputs() {
    String hub = "samples-" + ProcessHandle.current().pid();
    try (DurableRuntime runtime =
        DurableRuntime.start(
            Samples.app(),
            Samples.singleNode(
                TestCassandra.contactPoint(),
                hub,
                Map.of("pekko.actor.serialize-messages", "on")))) {
      InstanceId hello = runtime.client().start(Hello5.HELLO5, null);
      InstanceStatus helloDone = runtime.client().waitForCompletion(hello, Duration.ofSeconds(60));
      assertEquals(Hello5.EXPECTED, helloDone.output(List.class));

      InstanceId seq = runtime.client().start(Sequence.SEQUENCE, 50);
      InstanceStatus seqDone = runtime.client().waitForCompletion(seq, Duration.ofSeconds(60));
      assertEquals(
          RuntimeStatus.COMPLETED, seqDone.runtimeStatus(), () -> "failure: " + seqDone.failure());
      Sequence.Token token = seqDone.output(Sequence.Token.class);
      assertEquals(50, token.step());
      assertEquals(Sequence.expectedChecksum(50), token.checksum());
    }
  }

  @Test
  void wordCountEqualsTheDirectCountAndCollisionSearchFindsThePlantedValue() {
    String hub = "samples-entities-" + ProcessHandle.current().pid();
    try (DurableRuntime runtime =
        DurableRuntime.start(
            Samples.app(),
            Samples.singleNode(
                TestCassandra.contactPoint(),
                hub,
                Map.of("pekko.actor.serialize-messages", "on")))) {
      WordCount.Job job = new WordCount.Job("wc1", 4, 3, 1500, 42, 20);
      InstanceId wc = runtime.client().start(WordCount.WORD_COUNT, job);
      InstanceStatus wcDone = runtime.client().waitForCompletion(wc, Duration.ofSeconds(120));
      assertEquals(
          RuntimeStatus.COMPLETED, wcDone.runtimeStatus(), () -> "failure: " + wcDone.failure());
      WordCount.Result counted = wcDone.output(WordCount.Result.class);
      WordCount.Result direct = WordCount.directCount(job);
      assertEquals(6000, direct.words());
      assertEquals(direct, counted);

      long planted = 1_234_567;
      CollisionSearch.Interval search = CollisionSearch.planted(2_000_000, planted, 25_000);
      InstanceId cs = runtime.client().start(CollisionSearch.SEARCH, search);
      InstanceStatus csDone = runtime.client().waitForCompletion(cs, Duration.ofSeconds(120));
      assertEquals(
          RuntimeStatus.COMPLETED, csDone.runtimeStatus(), () -> "failure: " + csDone.failure());
      List<Long> found = csDone.output(CollisionSearch.Found.class).values();
      assertTrue(found.contains(planted), "found " + found);
      for (long x : found) {
        assertEquals(search.target(), CollisionSearch.hash(x));
      }
    }
  }
}
