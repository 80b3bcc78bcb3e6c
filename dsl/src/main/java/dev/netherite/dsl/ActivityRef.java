package dev.netherite.dsl;

import java.util.Objects;

/**
 * A typed reference to an activity. The name is what histories record: keep it stable while
 * instances that call it are in flight, whatever the Java method behind it is called.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
public record ActivityRef<I, O>(String name, Class<I> inputType, Class<O> outputType) {
  public ActivityRef {
    Names.requireValid("activity", name);
    Objects.requireNonNull(inputType, "inputType");
    Objects.requireNonNull(outputType, "outputType");
  }

  public static <I, O> ActivityRef<I, O> of(String name, Class<I> inputType, Class<O> outputType) {
    return new ActivityRef<>(name, inputType, outputType);
  }
}
