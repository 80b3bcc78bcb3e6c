package dev.netherite.dsl.spi;

/**
 * A value could not be turned into recorded text, or recorded text into a value of the type asked
 * for.
 */
public class DataConversionException extends RuntimeException {
  public DataConversionException(String message, Throwable cause) {
    super(message, cause);
  }
}
