package dev.netherite.engine.activity;

import dev.netherite.dsl.ActivityContext;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;

/**
 * INTERNAL API
 *
 * <p>Runs one activity call on the calling thread: finds the activity, reads its input, runs it,
 * and turns its output or its exception into an {@link Outcome}. Hosts decide where and how many
 * run at once.
 */
public final class ActivityExecutor {
  /** The result of a call; {@code failure} is null when it succeeded. */
  public record Outcome(String result, FailureDetails failure) {}

  private final Workflows workflows;
  private final DataConverter converter;

  public ActivityExecutor(Workflows workflows, DataConverter converter) {
    this.workflows = workflows;
    this.converter = converter;
  }

  public Outcome run(String instanceId, int taskId, String activityName, String input) {
    Workflows.RegisteredActivity<?, ?> registered = workflows.activity(activityName).orElse(null);
    if (registered == null) {
      return new Outcome(
          null,
          FailureDetails.of(
              IllegalStateException.class.getName(),
              "No activity named '"
                  + activityName
                  + "' is registered on this node; registered names are: "
                  + workflows.activityNames()
                  + "."));
    }
    ActivityContext context =
        new ActivityContext() {
          @Override
          public InstanceId instanceId() {
            return InstanceId.of(instanceId);
          }

          @Override
          public String activityName() {
            return activityName;
          }

          @Override
          public int taskId() {
            return taskId;
          }
        };
    try {
      return new Outcome(converter.serialize(invoke(registered, context, input)), null);
    } catch (Exception | LinkageError | AssertionError | StackOverflowError e) {
      return new Outcome(null, FailureDetails.of(e));
    }
  }

  private <I, O> O invoke(
      Workflows.RegisteredActivity<I, O> registered, ActivityContext context, String input)
      throws Exception {
    I typed = converter.deserialize(input, registered.ref().inputType());
    return registered.implementation().run(context, typed);
  }
}
