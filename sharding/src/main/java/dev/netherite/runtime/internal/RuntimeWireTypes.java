package dev.netherite.runtime.internal;

import static dev.netherite.engine.WireRegistrar.range;
import static dev.netherite.engine.WireRegistrar.wire;

import dev.netherite.engine.WireRegistrar;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>The runtime's wire classes (commands to a partition, the task hub record), each with its fixed
 * id, found by the serializer in persistence through {@link java.util.ServiceLoader}. To add a
 * class, add one line with the next free id of {@link #ids()}; ids are forever (see {@code
 * WireRegistry}).
 */
public final class RuntimeWireTypes implements WireRegistrar {

  // 190..198 were the runtime's before modules had ranges; new classes take 400 and up.
  private static final List<IdRange> IDS = List.of(range(190, 198), range(400, 499));

  private static final List<Registration> REGISTRATIONS =
      List.of(
          wire(190, PartitionCommand.ClientCommand.class),
          wire(191, PartitionCommand.QueryCommand.class),
          wire(192, PartitionCommand.AwaitCompletion.class),
          wire(193, PartitionCommand.Deliver.class),
          wire(194, PartitionCommand.Ack.class),
          wire(195, PartitionCommand.Wake.class),
          wire(196, PartitionCommand.RestartLog.class),
          wire(197, TaskHubRecord.PartitionCountRecorded.class),
          wire(198, TaskHubRecord.Check.class),
          wire(400, PartitionCommand.Inspect.class),
          wire(401, PartitionReport.class),
          wire(402, PartitionCommand.PurgeSweep.class),
          // ---- 403..404: the global persistence mode
          wire(403, PartitionCommand.Committed.class),
          wire(404, PartitionCommand.AskCommitted.class)
          // ---- next free id: 405
          );

  @Override
  public String module() {
    return "runtime";
  }

  @Override
  public List<IdRange> ids() {
    return IDS;
  }

  @Override
  public List<Registration> registrations() {
    return REGISTRATIONS;
  }
}
