package dev.netherite.engine.orchestration;

import dev.netherite.engine.partition.StepResult;

/**
 * INTERNAL API: receives step results, on the orchestration's thread; must hand them over and
 * return quickly.
 */
@FunctionalInterface
public interface StepListener {
  void stepDone(OrchestrationRun run, long stepNumber, StepResult result);
}
