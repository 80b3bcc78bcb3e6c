package dev.netherite.dsl.spi;

import dev.netherite.dsl.Task;

/**
 * What makes progress while an orchestration awaits a task: the engine processes recorded and new
 * events until the task is done, suspending the orchestration durably when there is nothing left to
 * process.
 */
public interface TaskDriver {
  /**
   * Returns once {@code task} is done. May instead throw an {@link Error} that unwinds the
   * orchestration (the engine unloading it); user code must let such errors pass.
   */
  void awaitDone(Task<?> task);
}
