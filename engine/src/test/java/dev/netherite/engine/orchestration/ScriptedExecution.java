package dev.netherite.engine.orchestration;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Workflows;
import dev.netherite.engine.partition.StepResult;
import dev.netherite.engine.simulation.TestDataConverter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Drives one execution through an {@link OrchestrationExecutor} step by step, with events the test
 * writes, and records the history the way the partition does (one {@code OrchestratorStarted}, the
 * step's events, the step's actions, then {@code ExecutionCompleted} when it ends). A cached run
 * continues when it can; {@link #unload} forces the next step to load a new run that replays the
 * recorded history.
 */
final class ScriptedExecution implements AutoCloseable {
  private final OrchestrationExecutor executor;
  private final String instanceId;
  private final String executionId;
  private final String orchestrationName;
  private final List<HistoryEvent> history = new ArrayList<>();
  private final BlockingQueue<StepResult> results = new LinkedBlockingQueue<>();
  private OrchestrationRun run;
  private long stepNumber;
  private int loads;
  private Duration stepTimeout = Duration.ofSeconds(10);

  ScriptedExecution(Workflows workflows, String instanceId, String orchestrationName) {
    this(workflows, instanceId, "0-1", orchestrationName, List.of());
  }

  private ScriptedExecution(
      Workflows workflows,
      String instanceId,
      String executionId,
      String orchestrationName,
      List<HistoryEvent> past) {
    this.executor =
        new OrchestrationExecutor(workflows, new TestDataConverter(), Thread.ofVirtual().factory());
    this.instanceId = instanceId;
    this.executionId = executionId;
    this.orchestrationName = orchestrationName;
    this.history.addAll(past);
    this.stepNumber =
        past.stream().filter(e -> e instanceof HistoryEvent.OrchestratorStarted).count();
  }

  /** Continues this instance's recorded history with other code, as after a deployment. */
  ScriptedExecution withCode(Workflows workflows) {
    return new ScriptedExecution(workflows, instanceId, executionId, orchestrationName, history);
  }

  /** How long {@link #step} waits for the step's result before it fails. */
  ScriptedExecution stepTimeout(Duration timeout) {
    this.stepTimeout = timeout;
    return this;
  }

  /** The first step: {@code ExecutionStarted} with this input. */
  StepResult start(Instant time, String serializedInput) {
    return step(
        time,
        new HistoryEvent.ExecutionStarted(
            orchestrationName, executionId, serializedInput, null, 0));
  }

  StepResult step(Instant time, HistoryEvent... events) {
    if (run == null || !run.canContinueWith(executionId, stepNumber + 1)) {
      if (run != null) {
        run.discard();
      }
      loads++;
      run =
          executor.load(
              instanceId,
              executionId,
              orchestrationName,
              history,
              (r, n, result) -> results.add(result));
    }
    stepNumber++;
    run.step(stepNumber, time, List.of(events));
    StepResult result;
    try {
      result = results.poll(stepTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    assertNotNull(result, "step " + stepNumber + " did not report within " + stepTimeout);
    run.markIdle();
    history.add(new HistoryEvent.OrchestratorStarted(time));
    history.addAll(List.of(events));
    history.addAll(result.actions());
    switch (result.outcome()) {
      case null -> {}
      case StepResult.Completed c ->
          history.add(
              new HistoryEvent.ExecutionCompleted(RuntimeStatus.COMPLETED, c.output(), null));
      case StepResult.Failed f ->
          history.add(new HistoryEvent.ExecutionCompleted(RuntimeStatus.FAILED, null, f.failure()));
      case StepResult.ContinuedAsNew c -> history.add(new HistoryEvent.ContinuedAsNew(c.input()));
    }
    return result;
  }

  /**
   * Appends records that the partition writes between steps (suspended, resumed, terminated), as it
   * writes them: to the history only, not to any step.
   */
  void recordBetweenSteps(HistoryEvent... records) {
    history.addAll(List.of(records));
  }

  /** Discards the loaded run: the next step replays the history in a new one. */
  void unload() {
    if (run != null) {
      run.discard();
      run = null;
    }
  }

  List<HistoryEvent> history() {
    return List.copyOf(history);
  }

  int loads() {
    return loads;
  }

  @Override
  public void close() {
    unload();
  }
}
