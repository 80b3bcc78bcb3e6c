package dev.netherite.dsl;

/** Where an orchestration instance is in its life. */
public enum RuntimeStatus {
  /** Created, not started yet (for example scheduled to start later). */
  PENDING,
  RUNNING,
  /** Paused by {@link DurableClient#suspend}; events are kept and processed on resume. */
  SUSPENDED,
  COMPLETED,
  FAILED,
  TERMINATED;

  /**
   * Whether the instance has ended and will not change again (unless it is started anew with the
   * same id).
   */
  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == TERMINATED;
  }
}
