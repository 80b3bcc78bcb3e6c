package dev.netherite.dsl;

/**
 * The orchestration code no longer matches its recorded history: on replay it made a different call
 * than the one recorded. The instance fails with this exception; its message names the recorded and
 * the actual action.
 */
public class NonDeterministicOrchestrationException extends RuntimeException {
  public NonDeterministicOrchestrationException(String message) {
    super(message);
  }
}
