package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.time.Instant;

/** INTERNAL API: an entity as a client sees it; {@code state} is null when it has none. */
public record EntityView(
    String entityId, String state, String lockedBy, int backlog, Instant lastModified)
    implements WireSerializable {}
