package dev.netherite.dsl;

/**
 * A plain function that an orchestration calls: it may do I/O and take its time. It runs at least
 * once per call (again after a crash), and its result is recorded exactly once. A thrown exception
 * is recorded as the call's failure, which the orchestration sees as a {@link TaskFailedException}.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
@FunctionalInterface
public interface Activity<I, O> {
  O run(ActivityContext context, I input) throws Exception;
}
