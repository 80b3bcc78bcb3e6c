package dev.netherite.persistence.internal;

import static dev.netherite.persistence.internal.WireSamples.ORDER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.esotericsoftware.kryo.io.Input;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.PendingActivity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The committed checkpoint fixture, written before the pending activity was a record (it held a
 * {@code String[]}), reads into today's state with its pending activity as a {@link
 * PendingActivity}, and recovery starts that activity again.
 */
class CheckpointCompatibilityTest {

  private static PartitionState committedCheckpoint() throws IOException {
    Path file =
        Path.of(
            System.getProperty("basedir", System.getProperty("user.dir")),
            "src/test/resources/golden/170-PartitionState.bin");
    return (PartitionState)
        WireRegistry.newKryo(null).readClassAndObject(new Input(Files.readAllBytes(file)));
  }

  @Test
  void theCommittedCheckpointReadsItsPendingActivityAsARecord() throws IOException {
    PartitionState state = committedCheckpoint();
    assertEquals(
        Map.of(1, new PendingActivity("Reserve", "{\"sku\":\"A-1\"}")),
        state.instance(ORDER).pendingActivities());
    List<Effect.StartActivity> restarted =
        state.recoveryEffects().stream()
            .filter(Effect.StartActivity.class::isInstance)
            .map(Effect.StartActivity.class::cast)
            .toList();
    assertEquals(
        List.of(
            new Effect.StartActivity(
                ORDER, state.instance(ORDER).executionId(), 1, "Reserve", "{\"sku\":\"A-1\"}")),
        restarted);
  }
}
