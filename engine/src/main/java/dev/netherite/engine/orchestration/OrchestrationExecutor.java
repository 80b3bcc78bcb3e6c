package dev.netherite.engine.orchestration;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.PayloadLimits;
import java.util.List;
import java.util.concurrent.ThreadFactory;

/**
 * INTERNAL API
 *
 * <p>Loads orchestration executions: a new {@link OrchestrationRun} replays {@code history}
 * silently and then takes steps. Threads come from the factory the host passes in (virtual threads
 * in production), which keeps thread creation out of the engine's logic.
 */
public final class OrchestrationExecutor {
  private final Workflows workflows;
  private final DataConverter converter;
  private final ThreadFactory threads;
  private final StepLimits limits;

  public OrchestrationExecutor(
      Workflows workflows, DataConverter converter, ThreadFactory threads) {
    this(workflows, converter, threads, PayloadLimits.NONE);
  }

  /** With {@code limits} applied to every step's payloads ({@link StepLimits}). */
  public OrchestrationExecutor(
      Workflows workflows, DataConverter converter, ThreadFactory threads, PayloadLimits limits) {
    this.workflows = workflows;
    this.converter = converter;
    this.threads = threads;
    this.limits = limits == PayloadLimits.NONE ? null : new StepLimits(limits);
  }

  /**
   * Loads an execution whose completed steps recorded {@code history} (an immutable copy), ready
   * for its next step.
   */
  public OrchestrationRun load(
      String instanceId,
      String executionId,
      String orchestrationName,
      List<HistoryEvent> history,
      StepListener listener) {
    OrchestrationRun run = new OrchestrationRun(instanceId, executionId);
    StepListener checked =
        limits == null
            ? listener
            : (r, stepNumber, result) ->
                listener.stepDone(
                    r, stepNumber, limits.check(instanceId, orchestrationName, result));
    ExecutionLoop loop = new ExecutionLoop(run, List.copyOf(history), checked);
    ReplayContext context = new ReplayContext(loop, orchestrationName, workflows, converter);
    Thread thread = threads.newThread(() -> loop.run(context));
    thread.start();
    return run;
  }
}
