package dev.netherite.engine;

import dev.netherite.dsl.spi.DataConverter;

/** INTERNAL API: the input check that orchestrations and entities apply to what they send. */
public final class TypedInputs {
  private TypedInputs() {}

  /**
   * Serializes {@code input} for the callee {@code name}, which takes {@code type}.
   *
   * @throws IllegalArgumentException naming both types when {@code input} is of another type, or
   *     when the converter cannot read back what it wrote for it ({@link RoundTripCheck})
   */
  public static String serialize(
      DataConverter converter, String name, Class<?> type, Object input) {
    if (input != null && !type.isInstance(input)) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' takes input of type "
              + type.getSimpleName()
              + ", but was given "
              + input.getClass().getSimpleName()
              + ".");
    }
    String serialized = converter.serialize(input);
    if (input != null) {
      RoundTripCheck.verify(
          converter, input.getClass(), type, serialized, "the input of '" + name + "'");
    }
    return serialized;
  }
}
