package dev.netherite.runtime.internal;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.StepResult;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;

/** INTERNAL API: messages a partition actor sends itself; they never leave the node. */
sealed interface LocalSignal extends NoSerializationVerificationNeeded {

  record StepFinished(OrchestrationRun run, long stepNumber, StepResult result)
      implements LocalSignal {}

  record ActivityFinished(
      String instanceId, String executionId, int taskId, String result, FailureDetails failure)
      implements LocalSignal {}

  record EntityBatchFinished(String entityId, long batchNumber, EntityBatchResult result)
      implements LocalSignal {}

  enum Tick implements LocalSignal {
    TIMER_DUE,
    RESEND,
    CHECKPOINT_IF_IDLE,
    /** The commit linger ran out: write what is buffered. */
    COMMIT_DUE
  }
}
