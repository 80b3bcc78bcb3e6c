package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.engine.WireSerializable;
import java.util.List;

/**
 * INTERNAL API: what one batch of entity operations produced.
 *
 * @param state the entity's state after the batch, or null when it has none
 * @param outcomes one per operation of the batch, in order
 * @param messages what the operations sent (signals to entities, orchestration starts), in order
 */
public record EntityBatchResult(
    String state, List<Outcome> outcomes, List<PartitionMessage> messages)
    implements WireSerializable {
  public EntityBatchResult {
    outcomes = List.copyOf(outcomes);
    messages = List.copyOf(messages);
  }

  /** The result of one operation; {@code failure} is null when it succeeded. */
  public record Outcome(String result, FailureDetails failure) implements WireSerializable {}
}
