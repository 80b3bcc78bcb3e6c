package dev.netherite.engine.host;

import dev.netherite.engine.partition.PartitionCheckpoint;
import dev.netherite.engine.partition.StoredRecord;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>One incremental checkpoint, captured at the host's quiescent point: the records changed or
 * deleted since the last one, each to be written as a row labelled {@code partitionWide.number()},
 * and then the partition-wide state, whose write commits the checkpoint. Until the commit, no
 * reader takes the rows as current; a checkpoint that fails before it leaves rows that the next one
 * supersedes.
 */
public record Checkpoint(PartitionCheckpoint partitionWide, List<StoredRecord> records) {
  public long number() {
    return partitionWide.number();
  }
}
