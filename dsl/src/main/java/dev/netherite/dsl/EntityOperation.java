package dev.netherite.dsl;

/**
 * The code of one entity operation. Operations of one entity run one at a time, in the order their
 * messages arrived. An operation that throws is reported to its caller as failed, and what it did
 * (state changes, signals, starts) is undone; the operations before and after it in the same batch
 * are not affected.
 *
 * @param <S> the entity's state type
 * @param <I> the operation's input type
 * @param <O> the operation's output type
 */
@FunctionalInterface
public interface EntityOperation<S, I, O> {
  O run(EntityContext<S> ctx, I input) throws Exception;
}
