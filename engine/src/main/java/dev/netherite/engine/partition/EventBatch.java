package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.List;

/**
 * INTERNAL API: the unit of a partition's commit log, one journal entry. Everything the partition
 * applied while the previous write was in flight goes into the next batch (group commit), so a
 * batch is one storage write.
 */
public record EventBatch(List<PartitionEvent> events) implements WireSerializable {
  public EventBatch {
    events = List.copyOf(events);
  }
}
