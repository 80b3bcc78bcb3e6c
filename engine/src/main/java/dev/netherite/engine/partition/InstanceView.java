package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.WireSerializable;
import java.time.Instant;
import java.util.List;

/** INTERNAL API: what a client may see of an instance. {@code history} is null unless asked for. */
public record InstanceView(
    String instanceId,
    String name,
    RuntimeStatus status,
    Instant createdAt,
    Instant lastUpdatedAt,
    String input,
    String output,
    String customStatus,
    FailureDetails failure,
    List<HistoryEvent> history)
    implements WireSerializable {}
