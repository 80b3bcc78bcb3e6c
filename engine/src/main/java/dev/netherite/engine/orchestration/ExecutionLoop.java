package dev.netherite.engine.orchestration;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.partition.StepResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>The thread side of one loaded execution. It feeds the orchestration's code its events: first
 * the recorded history (replay), then each step the host hands over, presented as the history will
 * record it ({@code OrchestratorStarted} with the step's time, then the step's events). When a
 * step's events are used up, it reports the step's result and parks until the next step arrives.
 * Runs entirely on the execution's own thread.
 */
final class ExecutionLoop {

  /** Unwinds the orchestration's stack when the run is discarded. User code must not catch it. */
  static final class Discarded extends Error {
    Discarded() {
      super(null, null, false, false);
    }
  }

  private final OrchestrationRun run;
  private final List<HistoryEvent> past;
  private final StepListener listener;
  private ReplayContext context;

  private int pastIndex;
  private List<HistoryEvent> stepEvents = List.of();
  private int stepIndex;
  private boolean stepStarted;
  private long stepNumber;
  private Instant stepTime;
  private boolean replaying = true;

  ExecutionLoop(OrchestrationRun run, List<HistoryEvent> past, StepListener listener) {
    this.run = run;
    this.past = past;
    this.listener = listener;
  }

  String instanceId() {
    return run.instanceId();
  }

  /** The thread's body: runs the code to its end (or until the run is discarded). */
  void run(ReplayContext context) {
    this.context = context;
    try {
      beginStep(takeStep());
      StepResult.Outcome outcome;
      try {
        outcome = context.execute();
      } catch (Discarded d) {
        throw d;
      } catch (Throwable t) {
        // A step must always report, or its instance waits forever with a step in progress.
        outcome = context.failed(t);
      }
      publish(outcome);
    } catch (Discarded d) {
      // unloaded by the host: nothing to report
    } finally {
      run.markEnded();
    }
  }

  /**
   * The next event for the code: from the history, else from the current step; when the step has
   * none left, its result is reported and the thread waits for the next step.
   */
  HistoryEvent next() {
    while (true) {
      if (pastIndex < past.size()) {
        replaying = true;
        return past.get(pastIndex++);
      }
      if (stepIndex < stepEvents.size()) {
        replaying = false;
        if (!stepStarted) {
          stepStarted = true;
          return new HistoryEvent.OrchestratorStarted(stepTime);
        }
        return stepEvents.get(stepIndex++);
      }
      publish(null);
      beginStep(takeStep());
    }
  }

  /** Whether the event last returned by {@link #next} came from the recorded history. */
  boolean isReplaying() {
    return replaying;
  }

  /** The recorded events the code has not reached; they are consumed. */
  List<HistoryEvent> drainHistory() {
    List<HistoryEvent> rest = new ArrayList<>(past.subList(pastIndex, past.size()));
    pastIndex = past.size();
    return rest;
  }

  /** The current step's events that the code has not taken yet. */
  List<HistoryEvent> unreadStepEvents() {
    return stepEvents.subList(stepIndex, stepEvents.size());
  }

  private void beginStep(OrchestrationRun.StepInput step) {
    stepNumber = step.stepNumber();
    stepEvents = step.events();
    stepIndex = 0;
    stepStarted = false;
    stepTime = step.time();
  }

  private OrchestrationRun.StepInput takeStep() {
    try {
      Object next = run.mailbox.take();
      if (next == OrchestrationRun.DISCARD) {
        throw new Discarded();
      }
      return (OrchestrationRun.StepInput) next;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Discarded();
    }
  }

  private void publish(StepResult.Outcome outcome) {
    listener.stepDone(run, stepNumber, context.stepResult(outcome));
  }
}
