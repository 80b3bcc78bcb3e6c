package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.WireSerializable;
import java.util.List;

/**
 * INTERNAL API: what one orchestration step produced.
 *
 * @param actions the actions the step's code took that the history did not hold yet, in task-id
 *     order
 * @param customStatus the custom status after the step, when {@code customStatusChanged}
 * @param outcome null while the orchestration waits; otherwise how the execution ended
 */
public record StepResult(
    List<HistoryEvent.Action> actions,
    boolean customStatusChanged,
    String customStatus,
    Outcome outcome)
    implements WireSerializable {
  public StepResult {
    actions = List.copyOf(actions);
  }

  /** How an execution ended. */
  public sealed interface Outcome extends WireSerializable {}

  public record Completed(String output) implements Outcome {}

  public record Failed(FailureDetails failure) implements Outcome {}

  /**
   * The instance starts again with {@code input}; {@code carriedEvents} go to the new execution
   * first.
   */
  public record ContinuedAsNew(String input, List<HistoryEvent> carriedEvents) implements Outcome {
    public ContinuedAsNew {
      carriedEvents = List.copyOf(carriedEvents);
    }
  }
}
