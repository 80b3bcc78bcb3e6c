package dev.netherite.dsl.spi;

import dev.netherite.dsl.Task;

/** A task the engine completes. Not for orchestration code, which only awaits tasks. */
public class CompletableTask<T> extends Task<T> {
  public CompletableTask(TaskDriver driver) {
    super(driver);
  }

  public boolean complete(T value) {
    return completeWith(value);
  }

  public boolean fail(RuntimeException error) {
    return failWith(error);
  }

  @Override
  public void whenDone(Runnable action) {
    super.whenDone(action);
  }
}
