package dev.netherite.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.persistence.TestCassandra;
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
    try (DurableRuntime runtime = DurableRuntime.start(
        Samples.app(), Samples.singleNode(TestCassandra.contactPoint(), hub, Map.of("pekko.actor.serialize-messages", "on")))) {
      InstanceId hello = runtime.client().start(Hello5.HELLO5, null);
      InstanceStatus helloDone = runtime.client().waitForCompletion(hello, Duration.ofSeconds(60));
      assertEquals(Hello5.EXPECTED, helloDone.output(List.class));

      InstanceId seq = runtime.client().start(Sequence.SEQUENCE, 50);
      InstanceStatus seqDone = runtime.client().waitForCompletion(seq, Duration.ofSeconds(60));
      assertEquals(RuntimeStatus.COMPLETED, seqDone.runtimeStatus(), () -> "failure: " + seqDone.failure());
      Sequence.Token token = seqDone.output(Sequence.Token.class);
      assertEquals(50, token.step());
      assertEquals(Sequence.expectedChecksum(50), token.checksum());
    }
  }
}
