package dev.netherite.engine.activity;

import dev.netherite.dsl.ActivityContext;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.PayloadTooLargeException;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.PayloadLimits;

/**
 * INTERNAL API
 *
 * <p>Runs one activity call on the calling thread: finds the activity, reads its input, runs it,
 * and turns its output or its exception into an {@link Outcome}. Hosts decide where and how many
 * run at once, and when a call is cancelled ({@link Control}). A result larger than its payload
 * limit becomes the call's failure, so that it never reaches the commit log.
 */
public final class ActivityExecutor {
  /** The result of a call; {@code failure} is null when it succeeded. */
  public record Outcome(String result, FailureDetails failure) {}

  /** What the host tells a running call, and hears from it. */
  public interface Control {
    /** Whether the host has given up on the call (see {@link ActivityContext#isCancelled()}). */
    boolean isCancelled();

    /** The call reports that it is alive (see {@link ActivityContext#heartbeat()}). */
    void heartbeat();

    /** For calls that nothing cancels. */
    Control NONE =
        new Control() {
          @Override
          public boolean isCancelled() {
            return false;
          }

          @Override
          public void heartbeat() {}
        };
  }

  private final Workflows workflows;
  private final DataConverter converter;
  private final PayloadLimits limits;

  public ActivityExecutor(Workflows workflows, DataConverter converter) {
    this(workflows, converter, PayloadLimits.NONE);
  }

  public ActivityExecutor(Workflows workflows, DataConverter converter, PayloadLimits limits) {
    this.workflows = workflows;
    this.converter = converter;
    this.limits = limits;
  }

  public Outcome run(String instanceId, int taskId, String activityName, String input) {
    return run(instanceId, taskId, activityName, input, Control.NONE);
  }

  public Outcome run(
      String instanceId, int taskId, String activityName, String input, Control control) {
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

          @Override
          public boolean isCancelled() {
            return control.isCancelled();
          }

          @Override
          public void heartbeat() {
            control.heartbeat();
          }
        };
    try {
      String result = converter.serialize(invoke(registered, context, input));
      PayloadTooLargeException tooLarge =
          limits.check(
              PayloadLimits.Kind.ACTIVITY_RESULT,
              "the result of activity '"
                  + activityName
                  + "' (instance "
                  + instanceId
                  + ", task "
                  + taskId
                  + ")",
              result);
      return tooLarge == null
          ? new Outcome(result, null)
          : new Outcome(null, FailureDetails.of(tooLarge));
    } catch (Exception | LinkageError | AssertionError | StackOverflowError e) {
      return new Outcome(
          null, limits.capped(PayloadLimits.Kind.ACTIVITY_RESULT, FailureDetails.of(e)));
    }
  }

  private <I, O> O invoke(
      Workflows.RegisteredActivity<I, O> registered, ActivityContext context, String input)
      throws Exception {
    I typed = converter.deserialize(input, registered.ref().inputType());
    return registered.implementation().run(context, typed);
  }
}
