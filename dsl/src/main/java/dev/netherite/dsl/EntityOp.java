package dev.netherite.dsl;

import java.util.Objects;

/**
 * A typed reference to an operation of an entity. The name is what queues and histories record:
 * keep it stable while messages for it may be in flight.
 *
 * @param <I> the input type ({@code Void} when the operation takes none)
 * @param <O> the output type ({@code Void} when it returns nothing)
 */
public record EntityOp<I, O>(String name, Class<I> inputType, Class<O> outputType) {
  public EntityOp {
    Names.requireValid("entity operation", name);
    Objects.requireNonNull(inputType, "inputType");
    Objects.requireNonNull(outputType, "outputType");
  }

  public static <I, O> EntityOp<I, O> of(String name, Class<I> inputType, Class<O> outputType) {
    return new EntityOp<>(name, inputType, outputType);
  }
}
