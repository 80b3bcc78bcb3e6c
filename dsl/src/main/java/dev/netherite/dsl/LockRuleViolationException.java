package dev.netherite.dsl;

/**
 * An orchestration broke a rule of critical sections (see {@link CriticalSection}). It fails the
 * orchestration even when the orchestration's code catches it.
 */
public class LockRuleViolationException extends IllegalStateException {
  public LockRuleViolationException(String message) {
    super(message);
  }
}
