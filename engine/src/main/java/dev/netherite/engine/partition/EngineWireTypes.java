package dev.netherite.engine.partition;

import static dev.netherite.engine.WireRegistrar.range;
import static dev.netherite.engine.WireRegistrar.wire;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.RetryPolicy;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.WireRegistrar;
import dev.netherite.engine.host.CommitInfo;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>The engine's wire classes and the dsl values they embed, each with its fixed id. To add a
 * class, add one line, {@code wire(<next free id>, MyEvent.class),}, then a sample of it to {@code
 * WireSamples} (persistence tests) and write its golden fixture (see {@code GoldenFixturesTest}).
 * Ids are forever: never reuse, renumber or remove one (see {@code WireRegistry}).
 *
 * <p>It lives in this package because some of the classes it lists are package-private here.
 */
public final class EngineWireTypes implements WireRegistrar {

  // 190..198 belong to the runtime, which took them before modules had ranges.
  private static final List<IdRange> IDS = List.of(range(100, 189), range(199, 399));

  private static final List<Registration> REGISTRATIONS =
      List.of(
          // ---- dsl values embedded in engine events
          // 100 and 102 are retired: no event, message or state holds them (ids are strings, retry
          // policies live in the code). Kept registered, so that bytes holding them still read.
          wire(100, InstanceId.class),
          wire(101, FailureDetails.class),
          wire(102, RetryPolicy.class),
          wire(103, RuntimeStatus.class),
          // ---- engine (dev.netherite.engine.WireSerializable implementors)
          wire(104, PartitionMessage.ExecutionRequested.class),
          wire(105, PartitionMessage.SubOrchestrationEnded.class),
          wire(106, PartitionMessage.EventDelivered.class),
          // ---- dsl history events (embedded in engine events and state)
          wire(110, HistoryEvent.ExecutionStarted.class),
          wire(111, HistoryEvent.OrchestratorStarted.class),
          wire(112, HistoryEvent.TaskScheduled.class),
          wire(113, HistoryEvent.TaskCompleted.class),
          wire(114, HistoryEvent.TaskFailed.class),
          wire(115, HistoryEvent.TimerCreated.class),
          wire(116, HistoryEvent.TimerFired.class),
          wire(117, HistoryEvent.SubOrchestrationCreated.class),
          wire(118, HistoryEvent.SubOrchestrationCompleted.class),
          wire(119, HistoryEvent.SubOrchestrationFailed.class),
          wire(120, HistoryEvent.EventRaised.class),
          wire(121, HistoryEvent.EventSent.class),
          wire(122, HistoryEvent.ExecutionCompleted.class),
          wire(123, HistoryEvent.ContinuedAsNew.class),
          wire(124, HistoryEvent.ExecutionTerminated.class),
          wire(125, HistoryEvent.ExecutionSuspended.class),
          wire(126, HistoryEvent.ExecutionResumed.class),
          // ---- engine: client requests, queries, responses
          wire(130, ClientRequest.StartOrchestration.class),
          wire(131, ClientRequest.RaiseEvent.class),
          wire(132, ClientRequest.Terminate.class),
          wire(133, ClientRequest.Suspend.class),
          wire(134, ClientRequest.Resume.class),
          wire(135, ClientRequest.Purge.class),
          wire(136, ClientQuery.GetStatus.class),
          wire(137, ClientQuery.ListInstances.class),
          wire(138, ClientResponse.Started.class),
          wire(139, ClientResponse.Accepted.class),
          wire(140, ClientResponse.Purged.class),
          wire(141, ClientResponse.Rejected.class),
          wire(142, ClientResponse.Reason.class),
          wire(143, ClientResponse.Status.class),
          wire(144, ClientResponse.InstanceList.class),
          wire(145, InstanceView.class),
          // ---- engine: the commit log
          wire(150, EventBatch.class),
          wire(151, PartitionEvent.ClientRequestReceived.class),
          wire(152, PartitionEvent.MessagesReceived.class),
          wire(153, PartitionEvent.DeliveryAcknowledged.class),
          wire(154, PartitionEvent.StepCompleted.class),
          wire(155, PartitionEvent.ActivityCompleted.class),
          wire(156, PartitionEvent.TimersFired.class),
          wire(157, StepResult.class),
          wire(158, StepResult.Completed.class),
          wire(159, StepResult.Failed.class),
          wire(160, StepResult.ContinuedAsNew.class),
          // ---- engine: the checkpoint (PartitionState and what it holds)
          wire(170, PartitionState.class),
          wire(171, InstanceState.class),
          wire(172, Outbox.class),
          wire(173, Outbox.Channel.class),
          wire(174, Outbox.Entry.class),
          wire(175, DedupVector.class),
          wire(176, TimerTable.class),
          wire(177, TimerTable.Timer.class),
          wire(178, RequestLog.class),
          // ---- entities: history events, messages, state, log events, client requests
          wire(199, HistoryEvent.EntityCalled.class),
          wire(200, HistoryEvent.EntitySignaled.class),
          wire(201, HistoryEvent.EntityLockRequested.class),
          wire(202, HistoryEvent.EntityUnlockSent.class),
          wire(203, HistoryEvent.EntityCallCompleted.class),
          wire(204, HistoryEvent.EntityCallFailed.class),
          wire(205, HistoryEvent.EntityLocksGranted.class),
          wire(206, PartitionMessage.EntityOperationRequested.class),
          wire(207, PartitionMessage.LockRequested.class),
          wire(208, PartitionMessage.LockReleased.class),
          wire(209, PartitionMessage.EntityResponded.class),
          wire(210, PartitionMessage.LocksGranted.class),
          wire(211, LockOwner.class),
          wire(212, EntityBatchResult.class),
          wire(213, EntityBatchResult.Outcome.class),
          wire(214, EntityView.class),
          wire(215, PartitionEvent.EntityBatchCompleted.class),
          wire(216, PartitionEvent.EntityBatchLimitSet.class),
          wire(217, ClientRequest.SignalEntity.class),
          wire(218, ClientQuery.ReadEntity.class),
          wire(219, ClientResponse.EntityStatus.class),
          wire(220, EntityRecord.class),
          // ---- the checkpoint of partition-wide state (records are in the instance store)
          wire(221, PartitionCheckpoint.class),
          // ---- 225..226: entity listing
          wire(225, ClientQuery.ListEntities.class),
          wire(226, ClientResponse.EntityList.class),
          // ---- 222..224: purge sweeps inside a partition
          wire(222, PurgeFilter.class),
          wire(223, ClientResponse.PurgeProgress.class),
          wire(224, PartitionEvent.InstancesPurged.class),
          // ---- 227..230: records out of memory, and the input that waits for them
          wire(227, PartitionEvent.RecordsEvicted.class),
          wire(228, PartitionEvent.RecordsLoaded.class),
          wire(229, Residency.class),
          wire(230, PartitionState.Parked.class),
          // ---- 231..235: the global persistence mode
          wire(231, StepId.class),
          wire(232, Incarnations.class),
          wire(233, PartitionEvent.IncarnationStarted.class),
          wire(234, PartitionEvent.DependsOn.class),
          wire(235, PartitionEvent.Voided.class),
          wire(236, CommitInfo.class),
          // ---- next free id: 237
          // ---- 300..309: the parts of the partition state. PendingActivity is written as the
          //      String[] {name, input} it replaced (persistence's PendingActivitySerializer), so
          //      checkpoints that hold one read unchanged.
          wire(300, PendingActivity.class));

  @Override
  public String module() {
    return "engine";
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
