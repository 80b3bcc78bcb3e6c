package dev.netherite.dsl;

import java.util.Objects;

/**
 * A typed reference to an orchestration. The name is what histories and the client record: keep it
 * stable while instances of it are in flight.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
public record OrchestrationRef<I, O>(String name, Class<I> inputType, Class<O> outputType) {
  public OrchestrationRef {
    Names.requireValid("orchestration", name);
    Objects.requireNonNull(inputType, "inputType");
    Objects.requireNonNull(outputType, "outputType");
  }

  public static <I, O> OrchestrationRef<I, O> of(
      String name, Class<I> inputType, Class<O> outputType) {
    return new OrchestrationRef<>(name, inputType, outputType);
  }
}
