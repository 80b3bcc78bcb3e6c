package dev.netherite.dsl;

/**
 * A start was refused because an instance with that id exists in a status the start options refuse.
 */
public class InstanceAlreadyExistsException extends RuntimeException {
  public InstanceAlreadyExistsException(String message) {
    super(message);
  }
}
