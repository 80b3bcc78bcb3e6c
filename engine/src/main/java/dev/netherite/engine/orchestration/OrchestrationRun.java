package dev.netherite.engine.orchestration;

import dev.netherite.dsl.HistoryEvent;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * INTERNAL API
 *
 * <p>One execution of an orchestration, loaded in memory: its code runs on a thread of its own (a
 * virtual thread in production) and parks in {@code await()} between steps, so a step processes
 * only the step's new events instead of replaying the whole history. The host hands it steps one at
 * a time with {@link #step}; results come back through the {@link StepListener}. {@link #discard}
 * unloads it.
 *
 * <p>The fields {@link #lastStepNumber}, {@link #idle} and {@link #dispatchedNanos} belong to the
 * host's thread.
 */
public final class OrchestrationRun {
  static final Object DISCARD = new Object();

  record StepInput(long stepNumber, Instant time, List<HistoryEvent> events) {}

  private final String instanceId;
  private final String executionId;
  final BlockingQueue<Object> mailbox = new LinkedBlockingQueue<>();
  private long lastStepNumber;
  private boolean idle = true;
  private long dispatchedNanos;
  private volatile boolean ended;

  OrchestrationRun(String instanceId, String executionId) {
    this.instanceId = instanceId;
    this.executionId = executionId;
  }

  public String instanceId() {
    return instanceId;
  }

  public String executionId() {
    return executionId;
  }

  /**
   * Whether this run can take step {@code stepNumber} of {@code executionId} without replay: it has
   * finished exactly the step before, so its position equals the recorded history.
   */
  public boolean canContinueWith(String executionId, long stepNumber) {
    return !ended
        && idle
        && this.executionId.equals(executionId)
        && lastStepNumber == stepNumber - 1;
  }

  /** Hands the run its next step. Call from the host's thread. */
  public void step(long stepNumber, Instant time, List<HistoryEvent> events) {
    idle = false;
    lastStepNumber = stepNumber;
    mailbox.add(new StepInput(stepNumber, time, events));
  }

  /** When the host handed this run its current step, on the host's monotonic clock (a metric). */
  public void markDispatched(long nanos) {
    dispatchedNanos = nanos;
  }

  public long dispatchedNanos() {
    return dispatchedNanos;
  }

  /** Called on the host's thread once the host has taken the result of the last step. */
  public void markIdle() {
    idle = true;
  }

  /** Unloads the run: its thread unwinds the orchestration's stack and ends. */
  public void discard() {
    ended = true;
    mailbox.add(DISCARD);
  }

  void markEnded() {
    ended = true;
  }

  public boolean hasEnded() {
    return ended;
  }
}
