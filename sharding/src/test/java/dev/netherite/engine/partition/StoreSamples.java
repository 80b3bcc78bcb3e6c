package dev.netherite.engine.partition;

import java.time.Instant;

/** Records to write to the instance store in tests, built as the state machine builds them. */
public final class StoreSamples {
  private StoreSamples() {}

  /** An entity record with the given serialized state. */
  public static EntityRecord entity(String entityId, String state) {
    EntityRecord r = new EntityRecord(entityId, "Sample", Instant.EPOCH);
    r.state = state;
    return r;
  }
}
