package dev.netherite.dsl;

import java.util.UUID;

/**
 * The id of an orchestration instance. An id decides the partition that hosts the instance: an id
 * ending in {@code !n} (n a decimal number) is placed on partition {@code n mod P}; any other id by
 * a stable hash.
 */
public record InstanceId(String value) {
  public InstanceId {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("An instance id must not be empty.");
    }
    if (value.startsWith("@")) {
      throw new IllegalArgumentException(
          "Instance id '" + value + "' starts with '@', which is reserved for entity ids.");
    }
  }

  public static InstanceId of(String value) {
    return new InstanceId(value);
  }

  /** A new random id. */
  public static InstanceId random() {
    return new InstanceId(UUID.randomUUID().toString());
  }

  @Override
  public String toString() {
    return value;
  }
}
