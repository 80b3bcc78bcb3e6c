package dev.netherite.runtime.internal;

import dev.netherite.engine.host.HostInput;
import dev.netherite.engine.partition.StoredRecord;
import java.util.List;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;

/**
 * INTERNAL API: messages a partition actor sends itself (results of local work, timers); they never
 * leave the node.
 */
sealed interface LocalSignal extends NoSerializationVerificationNeeded {

  record ToHost(HostInput input) implements LocalSignal {}

  /** The records of a checkpoint are written (or failed: {@code failure} is set). */
  record RecordsWritten(Object attempt, Throwable failure) implements LocalSignal {}

  /** The records of the recovered checkpoint are read (or failed: {@code failure} is set). */
  record RecordsLoaded(List<StoredRecord> records, Throwable failure) implements LocalSignal {}

  /** One record is read: null if the store holds none (or failed: {@code failure} is set). */
  record RecordLoaded(String key, StoredRecord record, Throwable failure) implements LocalSignal {}

  /** A page of instance records for a list is read (or failed: {@code failure} is set). */
  record InstancesScanned(long listId, List<StoredRecord> records, boolean more, Throwable failure)
      implements LocalSignal {}
}
