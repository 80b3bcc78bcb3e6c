package dev.netherite.dsl;

import dev.netherite.dsl.spi.TaskDriver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The result of something an orchestration started: an activity call, a timer, an external event, a
 * sub-orchestration. {@link #await()} is the durable step: the orchestration waits there, possibly
 * across crashes and moves, until the result is recorded.
 *
 * <p>Tasks are not thread-safe and belong to the orchestration that created them. Combine them with
 * {@link #allOf} and {@link #anyOf}.
 *
 * @param <T> the type of the result
 */
public abstract class Task<T> {
  private final TaskDriver driver;
  private boolean done;
  private T value;
  private RuntimeException failure;
  private List<Runnable> whenDone;

  /**
   * @param driver what makes progress while this task is awaited; {@code null} only for a task that
   *     is created complete
   */
  protected Task(TaskDriver driver) {
    this.driver = driver;
  }

  /**
   * Waits until the task has a result and returns it.
   *
   * @throws TaskFailedException when the activity or sub-orchestration failed
   * @throws RuntimeException the failure the task completed with, as it was recorded
   */
  public final T await() {
    if (!done) {
      driver.awaitDone(this);
      if (!done) {
        throw new IllegalStateException("task driver returned before the task was done");
      }
    }
    if (failure != null) {
      throw failure;
    }
    return value;
  }

  public final boolean isDone() {
    return done;
  }

  /** Whether the task is done and failed. */
  public final boolean isFailed() {
    return done && failure != null;
  }

  /** The driver of this task, for combinators. */
  protected final TaskDriver driver() {
    return driver;
  }

  /**
   * Runs {@code action} when the task completes, or now if it has. Actions run in registration
   * order.
   */
  protected void whenDone(Runnable action) {
    if (done) {
      action.run();
      return;
    }
    if (whenDone == null) {
      whenDone = new ArrayList<>(2);
    }
    whenDone.add(action);
  }

  /** Completes the task with a value; returns false if it was already done. */
  protected final boolean completeWith(T result) {
    if (done) {
      return false;
    }
    done = true;
    value = result;
    fireWhenDone();
    return true;
  }

  /** Completes the task with a failure; returns false if it was already done. */
  protected final boolean failWith(RuntimeException error) {
    Objects.requireNonNull(error, "error");
    if (done) {
      return false;
    }
    done = true;
    failure = error;
    fireWhenDone();
    return true;
  }

  private void fireWhenDone() {
    if (whenDone != null) {
      List<Runnable> actions = whenDone;
      whenDone = null;
      actions.forEach(Runnable::run);
    }
  }

  /**
   * A task that completes with the results of all {@code tasks}, in their order, once all are done.
   */
  public static <T> Task<List<T>> allOf(List<? extends Task<? extends T>> tasks) {
    return new AllOf<>(List.copyOf(tasks));
  }

  /** A task that completes once all {@code tasks} are done. */
  public static Task<Void> allOf(Task<?>... tasks) {
    Task<List<Object>> all = allOf(Arrays.asList(tasks));
    Combined<Void> result = new Combined<>(all.driver());
    all.whenDone(
        () -> {
          if (all.failure != null) {
            result.failWith(all.failure);
          } else {
            result.completeWith(null);
          }
        });
    return result;
  }

  /**
   * A task that completes with the first of {@code tasks} to complete (successfully or not); the
   * first in the list wins when several are already done.
   */
  public static Task<Task<?>> anyOf(Task<?>... tasks) {
    return anyOf(Arrays.asList(tasks));
  }

  /** As {@link #anyOf(Task[])}. */
  public static Task<Task<?>> anyOf(List<? extends Task<?>> tasks) {
    if (tasks.isEmpty()) {
      throw new IllegalArgumentException("anyOf needs at least one task.");
    }
    Combined<Task<?>> result = new Combined<>(driverOf(tasks));
    for (Task<?> t : tasks) {
      t.whenDone(() -> result.completeWith(t));
    }
    return result;
  }

  private static TaskDriver driverOf(List<? extends Task<?>> tasks) {
    for (Task<?> t : tasks) {
      if (t.driver != null) {
        return t.driver;
      }
    }
    return null;
  }

  private static final class Combined<T> extends Task<T> {
    Combined(TaskDriver driver) {
      super(driver);
    }
  }

  /**
   * Completes when every task is done. Fails with the failure of the first failed task in list
   * order, like .NET's WhenAll: waiting for all keeps the outcome independent of the order in which
   * results arrive.
   */
  private static final class AllOf<T> extends Task<List<T>> {
    private final List<? extends Task<? extends T>> tasks;
    private int remaining;

    AllOf(List<? extends Task<? extends T>> tasks) {
      super(driverOf(tasks));
      this.tasks = tasks;
      this.remaining = tasks.size();
      if (remaining == 0) {
        completeWith(List.of());
        return;
      }
      for (Task<? extends T> t : tasks) {
        t.whenDone(this::oneDone);
      }
    }

    private void oneDone() {
      if (--remaining > 0) {
        return;
      }
      List<T> results = new ArrayList<>(tasks.size());
      for (Task<? extends T> t : tasks) {
        if (t.failure != null) {
          failWith(t.failure);
          return;
        }
        results.add(t.value);
      }
      completeWith(results);
    }
  }
}
