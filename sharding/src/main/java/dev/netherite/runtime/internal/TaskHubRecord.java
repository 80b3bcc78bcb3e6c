package dev.netherite.runtime.internal;

import dev.netherite.engine.WireSerializable;
import org.apache.pekko.actor.Props;
import org.apache.pekko.persistence.AbstractPersistentActor;
import org.apache.pekko.persistence.RecoveryCompleted;

/**
 * INTERNAL API
 *
 * <p>The durable record of a task hub's partition count. The count decides where every instance
 * lives, so a start with another count would strand them: it is refused with an answer that says
 * so.
 */
final class TaskHubRecord extends AbstractPersistentActor {
  /** The event: the task hub was created with this many partitions. */
  record PartitionCountRecorded(int partitionCount) implements WireSerializable {}

  /**
   * Asks to check (and on first start, record) the partition count; answered with a String, empty
   * when fine.
   */
  record Check(int partitionCount) implements WireSerializable {}

  private final String taskHub;
  private int recorded;

  static Props props(String taskHub) {
    return Props.create(TaskHubRecord.class, () -> new TaskHubRecord(taskHub));
  }

  private TaskHubRecord(String taskHub) {
    this.taskHub = taskHub;
  }

  @Override
  public String persistenceId() {
    return taskHub + "-metadata";
  }

  @Override
  public Receive createReceiveRecover() {
    return receiveBuilder()
        .match(PartitionCountRecorded.class, e -> recorded = e.partitionCount())
        .match(RecoveryCompleted.class, r -> {})
        .build();
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(
            Check.class,
            c -> {
              if (recorded == 0) {
                persist(
                    new PartitionCountRecorded(c.partitionCount()),
                    e -> {
                      recorded = e.partitionCount();
                      getSender().tell("", getSelf());
                    });
              } else if (recorded != c.partitionCount()) {
                getSender()
                    .tell(
                        "Task hub '"
                            + taskHub
                            + "' was created with "
                            + recorded
                            + " partitions, but netherite.partition-count is "
                            + c.partitionCount()
                            + ". The partition count cannot change: it decides where every stored instance "
                            + "lives. Set netherite.partition-count = "
                            + recorded
                            + ", or use a new netherite.task-hub.",
                        getSelf());
              } else {
                getSender().tell("", getSelf());
              }
            })
        .build();
  }
}
