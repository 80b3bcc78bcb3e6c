package dev.netherite.dsl;

/**
 * Workflow code: plain Java that the engine resumes by replaying its recorded history.
 *
 * <p>It must be deterministic: given the same history it must make the same calls in the same
 * order. Take time, ids and randomness from the {@link OrchestrationContext}, never from the JDK;
 * do I/O only in activities. Every {@link Task#await()} is a durable step: the engine may unload
 * the code there and resume it later, on another node, by running it again from the start against
 * the history.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
@FunctionalInterface
public interface Orchestration<I, O> {
  O run(OrchestrationContext context, I input);
}
