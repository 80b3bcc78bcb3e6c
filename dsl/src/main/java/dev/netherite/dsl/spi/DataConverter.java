package dev.netherite.dsl.spi;

import java.lang.reflect.Type;

/**
 * Turns the values that user code passes around (orchestration and activity inputs and outputs,
 * event payloads, custom status, entity state) into the text that the engine records in histories,
 * and back.
 *
 * <p>The engine never looks inside a payload; it stores the text as it is. An implementation must
 * be deterministic (the same value gives the same text) and must accept {@code null} both ways.
 */
public interface DataConverter {

  /**
   * The text for {@code value}, or {@code null} when {@code value} is {@code null}.
   *
   * @throws DataConversionException when the value cannot be represented
   */
  String serialize(Object value);

  /**
   * The value of {@code type} that {@code data} holds, or {@code null} when {@code data} is {@code
   * null}.
   *
   * @throws DataConversionException when the text does not hold a value of that type
   */
  <T> T deserialize(String data, Class<T> type);

  /** As {@link #deserialize(String, Class)}, for a generic type such as {@code List<String>}. */
  Object deserialize(String data, Type type);
}
