package dev.netherite.dsl;

/** The instance a client request names does not exist. */
public class InstanceNotFoundException extends RuntimeException {
  public InstanceNotFoundException(String message) {
    super(message);
  }
}
