package dev.netherite.runtime.internal;

import dev.netherite.dsl.ActivityContext;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * INTERNAL API
 *
 * <p>Runs the activities of the partitions hosted on this node, each on a virtual thread, at most {@code
 * maxConcurrent} at once. Results are handed back to the calling partition as completions.
 */
final class ActivityWorkers {
  record Call(String instanceId, int taskId, String activityName, String input) {}

  record Outcome(String result, FailureDetails failure) {}

  private final Workflows workflows;
  private final DataConverter converter;
  private final Semaphore permits;
  private final ThreadFactory threads = Thread.ofVirtual().name("netherite-activity-", 0).factory();

  ActivityWorkers(Workflows workflows, DataConverter converter, int maxConcurrent) {
    this.workflows = workflows;
    this.converter = converter;
    this.permits = new Semaphore(maxConcurrent);
  }

  void submit(Call call, Consumer<Outcome> done) {
    threads.newThread(() -> {
      try {
        permits.acquire();
      } catch (InterruptedException e) {
        return; // node shutting down: the partition re-dispatches the call after recovery
      }
      try {
        done.accept(run(call));
      } finally {
        permits.release();
      }
    }).start();
  }

  private Outcome run(Call call) {
    Workflows.RegisteredActivity<?, ?> registered = workflows.activity(call.activityName()).orElse(null);
    if (registered == null) {
      return new Outcome(
          null,
          FailureDetails.of(
              IllegalStateException.class.getName(),
              "No activity named '" + call.activityName() + "' is registered on this node; registered names are: "
                  + workflows.activityNames() + "."));
    }
    try {
      return new Outcome(converter.serialize(invoke(registered, call)), null);
    } catch (Exception | LinkageError | AssertionError | StackOverflowError e) {
      return new Outcome(null, FailureDetails.of(e));
    }
  }

  private static <I, O> O invokeTyped(
      Workflows.RegisteredActivity<I, O> registered, ActivityContext context, Object input) throws Exception {
    return registered.implementation().run(context, registered.ref().inputType().cast(input));
  }

  private Object invoke(Workflows.RegisteredActivity<?, ?> registered, Call call) throws Exception {
    Object input = converter.deserialize(call.input(), registered.ref().inputType());
    ActivityContext context =
        new ActivityContext() {
          @Override
          public InstanceId instanceId() {
            return InstanceId.of(call.instanceId());
          }

          @Override
          public String activityName() {
            return call.activityName();
          }

          @Override
          public int taskId() {
            return call.taskId();
          }
        };
    return invokeTyped(registered, context, input);
  }
}
