package dev.netherite.engine.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.ClientResponse.Reason;
import dev.netherite.engine.partition.PartitionEvent.ActivityCompleted;
import dev.netherite.engine.partition.PartitionEvent.ClientRequestReceived;
import dev.netherite.engine.partition.PartitionEvent.MessagesReceived;
import dev.netherite.engine.partition.PartitionEvent.StepCompleted;
import dev.netherite.engine.partition.PartitionEvent.TimersFired;
import dev.netherite.engine.partition.PartitionMessage.EventDelivered;
import dev.netherite.engine.partition.PartitionMessage.ExecutionRequested;
import dev.netherite.engine.partition.PartitionMessage.SubOrchestrationEnded;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The partition state machine on its own: events in, effects out. Partition 0 of 3; ids ending in
 * {@code !0} live here, {@code !1} and {@code !2} elsewhere.
 */
class PartitionStateTest {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Set<RuntimeStatus> NOT_ENDED =
      EnumSet.of(RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED);

  /** Every event applied to {@link #state}, to rebuild it. */
  private final List<PartitionEvent> log = new ArrayList<>();

  private final PartitionState state = new PartitionState(0, 3, 100);

  private List<Effect> apply(PartitionEvent e) {
    log.add(e);
    return state.apply(e);
  }

  private List<Effect> request(String requestId, ClientRequest r) {
    return apply(new ClientRequestReceived(requestId, r, T0));
  }

  private static ClientRequest.StartOrchestration startOf(String id) {
    return new ClientRequest.StartOrchestration(id, "Orch", "s2:in", null, NOT_ENDED);
  }

  private static ClientResponse reply(List<Effect> effects) {
    List<Effect.ReplyToClient> replies = only(effects, Effect.ReplyToClient.class);
    assertEquals(1, replies.size(), "one reply expected in " + effects);
    return replies.get(0).response();
  }

  private static <T> List<T> only(List<Effect> effects, Class<T> type) {
    return effects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static Effect.RunStep step(List<Effect> effects) {
    List<Effect.RunStep> steps = only(effects, Effect.RunStep.class);
    assertEquals(1, steps.size(), "one step expected in " + effects);
    return steps.get(0);
  }

  private List<Effect> complete(Effect.RunStep s, StepResult result) {
    return apply(new StepCompleted(s.instanceId(), s.executionId(), s.stepNumber(), result, T0));
  }

  private static StepResult waiting(HistoryEvent.Action... actions) {
    return new StepResult(List.of(actions), false, null, null);
  }

  private static StepResult completed(String output) {
    return new StepResult(List.of(), false, null, new StepResult.Completed(output));
  }

  private static MessagesReceived messages(
      int origin, long firstSeq, PartitionMessage... messages) {
    return new MessagesReceived(origin, firstSeq, List.of(messages), T0);
  }

  private static EventDelivered event(String instanceId, String name) {
    return new EventDelivered(instanceId, name, null);
  }

  private static List<String> eventNames(List<HistoryEvent> events) {
    return events.stream()
        .filter(e -> e instanceof HistoryEvent.EventRaised)
        .map(e -> ((HistoryEvent.EventRaised) e).name())
        .toList();
  }

  /** Starts {@code id} and completes its first step with {@code actions}, leaving it waiting. */
  private Effect.RunStep startWaiting(String id, HistoryEvent.Action... actions) {
    Effect.RunStep first = step(request("start-" + id, startOf(id)));
    complete(first, waiting(actions));
    return first;
  }

  // ---------------------------------------------------------------- starts

  @Test
  void startDispatchesTheFirstStepWithExecutionStarted() {
    List<Effect> effects = request("r1", startOf("a!0"));
    assertEquals(new ClientResponse.Started("a!0"), reply(effects));
    Effect.RunStep s = step(effects);
    assertEquals(1, s.stepNumber());
    assertEquals(0, s.historySize());
    assertEquals(T0, s.stepTime());
    HistoryEvent.ExecutionStarted started =
        assertInstanceOf(HistoryEvent.ExecutionStarted.class, s.newEvents().get(0));
    assertEquals("Orch", started.orchestrationName());
    assertEquals("s2:in", started.input());
    assertEquals(s.executionId(), started.executionId());
    assertEquals(RuntimeStatus.RUNNING, state.instance("a!0").status());
  }

  @Test
  void startIsIdempotentByRequestId() {
    List<Effect> first = request("r1", startOf("a!0"));
    String executionId = step(first).executionId();

    List<Effect> retry = request("r1", startOf("a!0"));
    assertEquals(new ClientResponse.Started("a!0"), reply(retry));
    assertTrue(
        only(retry, Effect.RunStep.class).isEmpty(),
        "a retried start must not start anything: " + retry);
    assertEquals(1, state.instanceCount());
    assertEquals(executionId, state.instance("a!0").executionId());

    // Another request id for a running instance is refused, whatever the options say.
    ClientResponse other =
        reply(
            request(
                "r2", new ClientRequest.StartOrchestration("a!0", "Orch", null, null, Set.of())));
    assertEquals(
        Reason.ALREADY_EXISTS, assertInstanceOf(ClientResponse.Rejected.class, other).reason());
    assertEquals(executionId, state.instance("a!0").executionId());
  }

  @Test
  void startRetriedAfterItsAnswerWasEvictedFromTheRequestLogIsStillAStart() {
    PartitionState small = new PartitionState(0, 3, 2);
    small.apply(new ClientRequestReceived("r1", startOf("a!0"), T0));
    String executionId = small.instance("a!0").executionId();
    small.apply(
        new ClientRequestReceived("r2", new ClientRequest.RaiseEvent("x!0", "e", null), T0));
    small.apply(
        new ClientRequestReceived("r3", new ClientRequest.RaiseEvent("y!0", "e", null), T0));

    List<Effect> retry = small.apply(new ClientRequestReceived("r1", startOf("a!0"), T0));
    assertEquals(new ClientResponse.Started("a!0"), reply(retry));
    assertTrue(only(retry, Effect.RunStep.class).isEmpty());
    assertEquals(1, small.instanceCount());
    assertEquals(executionId, small.instance("a!0").executionId());
  }

  @Test
  void refuseIfExistsDecidesWhetherAnEndedInstanceIsReplaced() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    complete(first, completed("s4:done"));
    assertEquals(RuntimeStatus.COMPLETED, state.instance("a!0").status());

    ClientResponse refused =
        reply(
            request(
                "r2",
                new ClientRequest.StartOrchestration(
                    "a!0", "Orch", null, null, Set.of(RuntimeStatus.COMPLETED))));
    assertEquals(
        Reason.ALREADY_EXISTS, assertInstanceOf(ClientResponse.Rejected.class, refused).reason());
    assertEquals(first.executionId(), state.instance("a!0").executionId());

    List<Effect> replaced =
        request(
            "r3",
            new ClientRequest.StartOrchestration(
                "a!0", "Orch", "s3:new", null, Set.of(RuntimeStatus.FAILED)));
    assertEquals(new ClientResponse.Started("a!0"), reply(replaced));
    assertTrue(replaced.contains(new Effect.DiscardExecutor("a!0")));
    Effect.RunStep second = step(replaced);
    assertNotEquals(first.executionId(), second.executionId());
    assertEquals(1, second.stepNumber());
    assertEquals(RuntimeStatus.RUNNING, state.instance("a!0").status());
    assertTrue(
        state.instance("a!0").history().isEmpty(),
        "the replacing execution starts with a fresh history");
    assertEquals(1, state.instanceCount());

    // The default options refuse an instance that has not ended.
    ClientResponse notEnded = reply(request("r4", startOf("a!0")));
    assertEquals(
        Reason.ALREADY_EXISTS, assertInstanceOf(ClientResponse.Rejected.class, notEnded).reason());
  }

  @Test
  void scheduledStartWaitsForItsTimer() {
    Instant at = T0.plus(Duration.ofHours(1));
    List<Effect> effects =
        request("r1", new ClientRequest.StartOrchestration("a!0", "Orch", null, at, NOT_ENDED));
    assertEquals(new ClientResponse.Started("a!0"), reply(effects));
    assertTrue(only(effects, Effect.RunStep.class).isEmpty());
    assertTrue(effects.contains(new Effect.TimersChanged()));
    assertEquals(RuntimeStatus.PENDING, state.instance("a!0").status());
    assertEquals(at, state.timers().nextDue());

    assertTrue(only(apply(new TimersFired(at.minusSeconds(1))), Effect.RunStep.class).isEmpty());
    assertEquals(RuntimeStatus.PENDING, state.instance("a!0").status());

    Effect.RunStep s = step(apply(new TimersFired(at)));
    assertInstanceOf(HistoryEvent.ExecutionStarted.class, s.newEvents().get(0));
    assertEquals(at, s.stepTime());
    assertEquals(RuntimeStatus.RUNNING, state.instance("a!0").status());
    assertNull(state.timers().nextDue());
  }

  // ---------------------------------------------------------------- other client requests

  @Test
  void requestsForAnUnknownInstanceAreRejectedNotFound() {
    for (ClientRequest r :
        List.of(
            new ClientRequest.RaiseEvent("nobody!0", "e", null),
            new ClientRequest.Terminate("nobody!0", "why"),
            new ClientRequest.Suspend("nobody!0", "why"),
            new ClientRequest.Resume("nobody!0", "why"))) {
      ClientResponse response = reply(request("r-" + r.getClass().getSimpleName(), r));
      ClientResponse.Rejected rejected =
          assertInstanceOf(ClientResponse.Rejected.class, response, r.toString());
      assertEquals(Reason.NOT_FOUND, rejected.reason());
      assertTrue(rejected.message().contains("nobody!0"), rejected.message());
    }
    assertEquals(
        new ClientResponse.Purged(false),
        reply(request("r-purge", new ClientRequest.Purge("nobody!0"))));
    assertEquals(0, state.instanceCount());
  }

  @Test
  void raisedEventGoesToTheNextStepAndIsRefusedOnceEnded() {
    startWaiting("a!0");
    Effect.RunStep s = step(request("r1", new ClientRequest.RaiseEvent("a!0", "go", "s1:x")));
    assertEquals(List.of(new HistoryEvent.EventRaised("go", "s1:x")), s.newEvents());
    complete(s, completed(null));

    ClientResponse late = reply(request("r2", new ClientRequest.RaiseEvent("a!0", "go", null)));
    assertEquals(
        Reason.INVALID_STATE, assertInstanceOf(ClientResponse.Rejected.class, late).reason());
  }

  @Test
  void terminateEndsTheInstanceAndIgnoresLateResults() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    complete(first, waiting(new HistoryEvent.TaskScheduled(0, "Act", null)));
    Effect.RunStep second = step(request("r2", new ClientRequest.RaiseEvent("a!0", "e", null)));
    int historySize = state.instance("a!0").history().size();

    List<Effect> effects = request("r3", new ClientRequest.Terminate("a!0", "enough"));
    assertEquals(new ClientResponse.Accepted(), reply(effects));
    assertTrue(effects.contains(new Effect.DiscardExecutor("a!0")));
    Effect.InstanceEnded ended = only(effects, Effect.InstanceEnded.class).get(0);
    assertEquals(RuntimeStatus.TERMINATED, ended.view().status());
    assertTrue(ended.view().failure().message().contains("enough"));
    InstanceState i = state.instance("a!0");
    assertEquals(RuntimeStatus.TERMINATED, i.status());
    assertEquals(
        new HistoryEvent.ExecutionTerminated("enough"), i.history().get(i.history().size() - 1));
    assertTrue(i.pendingActivities().isEmpty());

    // The step in progress and the activity come back late: both are ignored.
    assertEquals(
        List.of(), complete(second, waiting(new HistoryEvent.TaskScheduled(1, "Act", null))));
    assertEquals(
        List.of(), apply(new ActivityCompleted("a!0", first.executionId(), 0, "s2:ok", null, T0)));
    assertEquals(historySize + 1, i.history().size());
    assertFalse(
        state.recoveryEffects().stream()
            .anyMatch(e -> e instanceof Effect.RunStep || e instanceof Effect.StartActivity));

    // Terminating again is accepted and changes nothing.
    List<Effect> again = request("r4", new ClientRequest.Terminate("a!0", "again"));
    assertEquals(new ClientResponse.Accepted(), reply(again));
    assertTrue(only(again, Effect.InstanceEnded.class).isEmpty());
  }

  @Test
  void terminatedSubOrchestrationReportsAFailureToItsParent() {
    // A child on partition 0 whose parent is on partition 1.
    apply(messages(1, 1, new ExecutionRequested("c!0", "Child", null, "p!1", "1-1", 4)));
    List<Effect> effects = request("r1", new ClientRequest.Terminate("c!0", "stop"));
    assertTrue(effects.contains(new Effect.OutboxReady(1, 1)), effects.toString());
    SubOrchestrationEnded sent =
        assertInstanceOf(
            SubOrchestrationEnded.class, state.outbox().entries(1, 0, 1, 10).get(0).message());
    assertEquals("p!1", sent.parentInstanceId());
    assertEquals("1-1", sent.parentExecutionId());
    assertEquals(4, sent.parentTaskId());
    assertTrue(sent.failure().message().contains("stop"));
  }

  @Test
  void suspendedInstanceTakesNoStepUntilResumed() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    assertEquals(
        new ClientResponse.Accepted(),
        reply(request("r2", new ClientRequest.Suspend("a!0", "pause"))));
    assertEquals(RuntimeStatus.SUSPENDED, state.instance("a!0").status());

    // The step in progress finishes; its activity starts, but its result does not start a step.
    List<Effect> afterStep =
        complete(first, waiting(new HistoryEvent.TaskScheduled(0, "Act", "s1:x")));
    assertEquals(1, only(afterStep, Effect.StartActivity.class).size());
    assertTrue(
        only(
                apply(new ActivityCompleted("a!0", first.executionId(), 0, "s2:ok", null, T0)),
                Effect.RunStep.class)
            .isEmpty());
    assertTrue(
        only(request("r3", new ClientRequest.RaiseEvent("a!0", "e", null)), Effect.RunStep.class)
            .isEmpty());
    assertFalse(state.recoveryEffects().stream().anyMatch(e -> e instanceof Effect.RunStep));
    // Suspending again is accepted.
    assertEquals(
        new ClientResponse.Accepted(),
        reply(request("r4", new ClientRequest.Suspend("a!0", "again"))));

    List<Effect> resumed = request("r5", new ClientRequest.Resume("a!0", "go on"));
    assertEquals(new ClientResponse.Accepted(), reply(resumed));
    Effect.RunStep s = step(resumed);
    assertEquals(2, s.stepNumber());
    assertEquals(
        List.of(
            new HistoryEvent.TaskCompleted(0, "s2:ok"), new HistoryEvent.EventRaised("e", null)),
        s.newEvents());
    assertEquals(RuntimeStatus.RUNNING, state.instance("a!0").status());

    // Resuming a running instance is a no-op; suspending an ended one is refused.
    List<Effect> noop = request("r6", new ClientRequest.Resume("a!0", "again"));
    assertEquals(new ClientResponse.Accepted(), reply(noop));
    assertTrue(only(noop, Effect.RunStep.class).isEmpty());
    complete(s, completed(null));
    ClientResponse refused = reply(request("r7", new ClientRequest.Suspend("a!0", "late")));
    assertEquals(
        Reason.INVALID_STATE, assertInstanceOf(ClientResponse.Rejected.class, refused).reason());
    ClientResponse notSuspended = reply(request("r8", new ClientRequest.Resume("a!0", "late")));
    assertEquals(
        Reason.INVALID_STATE,
        assertInstanceOf(ClientResponse.Rejected.class, notSuspended).reason());
  }

  @Test
  void purgeDeletesOnlyEndedInstances() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    ClientResponse running = reply(request("r2", new ClientRequest.Purge("a!0")));
    assertEquals(
        Reason.INVALID_STATE, assertInstanceOf(ClientResponse.Rejected.class, running).reason());
    assertEquals(1, state.instanceCount());

    complete(first, completed("s2:ok"));
    List<Effect> purged = request("r3", new ClientRequest.Purge("a!0"));
    assertEquals(new ClientResponse.Purged(true), reply(purged));
    assertTrue(purged.contains(new Effect.DiscardExecutor("a!0")));
    assertNull(state.instance("a!0"));
    assertNull(
        ((ClientResponse.Status) state.query(new ClientQuery.GetStatus("a!0", false))).view());
    assertEquals(
        new ClientResponse.Purged(false), reply(request("r4", new ClientRequest.Purge("a!0"))));
  }

  // ---------------------------------------------------------------- messages between partitions

  @Test
  void onlyTheNextMessageOfAChannelIsApplied() {
    Effect.RunStep first = startWaiting("w!0");

    // A gap (seq 2 before seq 1): nothing applied, the position stays, the acknowledgement says so.
    List<Effect> gap = apply(messages(1, 2, event("w!0", "e2")));
    assertTrue(only(gap, Effect.RunStep.class).isEmpty());
    assertEquals(
        List.of(new Effect.AcknowledgeOrigin(1, 0)), only(gap, Effect.AcknowledgeOrigin.class));
    assertEquals(0, state.dedup().lastApplied(1));

    // Consecutive from 1: both applied.
    List<Effect> inOrder = apply(messages(1, 1, event("w!0", "e1"), event("w!0", "e2")));
    Effect.RunStep second = step(inOrder);
    assertEquals(List.of("e1"), eventNames(second.newEvents()));
    assertEquals(
        List.of(new Effect.AcknowledgeOrigin(1, 2)), only(inOrder, Effect.AcknowledgeOrigin.class));

    // A duplicate: ignored, acknowledged again.
    List<Effect> duplicate = apply(messages(1, 1, event("w!0", "e1"), event("w!0", "e2")));
    assertTrue(only(duplicate, Effect.RunStep.class).isEmpty());
    assertEquals(
        List.of(new Effect.AcknowledgeOrigin(1, 2)),
        only(duplicate, Effect.AcknowledgeOrigin.class));

    // Overlapping: only the new one.
    List<Effect> overlap = apply(messages(1, 2, event("w!0", "e2"), event("w!0", "e3")));
    assertEquals(
        List.of(new Effect.AcknowledgeOrigin(1, 3)), only(overlap, Effect.AcknowledgeOrigin.class));
    assertEquals(3, state.dedup().lastApplied(1));

    // Another origin has a channel of its own.
    List<Effect> other = apply(messages(2, 1, event("w!0", "f1")));
    assertEquals(
        List.of(new Effect.AcknowledgeOrigin(2, 1)), only(other, Effect.AcknowledgeOrigin.class));

    Effect.RunStep third = step(complete(second, waiting()));
    assertEquals(List.of("e2", "e3", "f1"), eventNames(third.newEvents()));
    complete(third, waiting());
    assertEquals(List.of("e1", "e2", "e3", "f1"), eventNames(state.instance("w!0").history()));
    assertEquals(first.executionId(), third.executionId());
  }

  @Test
  void messagesToOtherPartitionsGoThroughTheOutboxUntilAcknowledged() {
    Effect.RunStep first = step(request("r1", startOf("p!0")));
    List<Effect> effects =
        complete(
            first,
            waiting(
                new HistoryEvent.SubOrchestrationCreated(0, "Child", "c!1", "s1:x"),
                new HistoryEvent.EventSent(1, "d!2", "ping", null),
                new HistoryEvent.SubOrchestrationCreated(2, "Child", "e!1", null)));
    assertEquals(
        List.of(
            new Effect.OutboxReady(1, 1),
            new Effect.OutboxReady(2, 1),
            new Effect.OutboxReady(1, 2)),
        only(effects, Effect.OutboxReady.class));
    List<Outbox.Entry> toOne = state.outbox().entries(1, 0, Long.MAX_VALUE, 10);
    assertEquals(
        List.of(
            new Outbox.Entry(
                1, new ExecutionRequested("c!1", "Child", "s1:x", "p!0", first.executionId(), 0)),
            new Outbox.Entry(
                2, new ExecutionRequested("e!1", "Child", null, "p!0", first.executionId(), 2))),
        toOne);
    assertEquals(List.of(1, 2), state.outbox().pendingDestinations());

    apply(new PartitionEvent.DeliveryAcknowledged(1, 1, T0));
    assertEquals(1, state.outbox().entries(1, 0, Long.MAX_VALUE, 10).size());
    apply(new PartitionEvent.DeliveryAcknowledged(1, 1, T0)); // duplicate ack
    apply(new PartitionEvent.DeliveryAcknowledged(1, 2, T0));
    assertEquals(List.of(2), state.outbox().pendingDestinations());
    assertEquals(2, state.outbox().acknowledged(1));
    assertEquals(2, state.outbox().lastSeq(1));
  }

  @Test
  void executionRequestedForARunningInstanceFailsTheCallInsteadOfStartingTwice() {
    apply(messages(1, 1, new ExecutionRequested("c!0", "Child", null, "p!1", "1-1", 0)));
    String executionId = state.instance("c!0").executionId();
    List<Effect> effects =
        apply(messages(2, 1, new ExecutionRequested("c!0", "Child", null, "q!2", "2-1", 3)));
    assertTrue(only(effects, Effect.RunStep.class).isEmpty());
    assertEquals(executionId, state.instance("c!0").executionId());
    SubOrchestrationEnded answer =
        assertInstanceOf(
            SubOrchestrationEnded.class, state.outbox().entries(2, 0, 1, 1).get(0).message());
    assertEquals("q!2", answer.parentInstanceId());
    assertEquals(3, answer.parentTaskId());
    assertEquals("InstanceAlreadyExists", answer.failure().errorType());
  }

  @Test
  void subOrchestrationOnTheSamePartitionIsDeliveredAtOnce() {
    Effect.RunStep parent = step(request("r1", startOf("p!0")));
    List<Effect> effects =
        complete(
            parent, waiting(new HistoryEvent.SubOrchestrationCreated(0, "Child", "c!0", "s1:x")));
    Effect.RunStep child = step(effects);
    assertEquals("c!0", child.instanceId());
    assertTrue(only(effects, Effect.OutboxReady.class).isEmpty());
    assertEquals(0, state.outbox().unacknowledgedCount());

    Effect.RunStep parentAgain = step(complete(child, completed("s2:ok")));
    assertEquals("p!0", parentAgain.instanceId());
    assertEquals(
        List.of(new HistoryEvent.SubOrchestrationCompleted(0, "s2:ok")), parentAgain.newEvents());
  }

  // ---------------------------------------------------------------- steps, activities, timers

  @Test
  void staleOrDuplicateStepResultsAreIgnored() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    StepResult result = waiting(new HistoryEvent.TaskScheduled(0, "Act", null));

    assertEquals(List.of(), apply(new StepCompleted("a!0", first.executionId(), 2, result, T0)));
    assertEquals(List.of(), apply(new StepCompleted("a!0", "0-zz", 1, result, T0)));
    assertEquals(
        List.of(), apply(new StepCompleted("nobody!0", first.executionId(), 1, result, T0)));
    assertTrue(state.instance("a!0").history().isEmpty());

    assertEquals(1, only(complete(first, result), Effect.StartActivity.class).size());
    int size = state.instance("a!0").history().size();
    assertEquals(List.of(), complete(first, result), "a second result of step 1 must be ignored");
    assertEquals(size, state.instance("a!0").history().size());
    assertEquals(1, state.instance("a!0").pendingActivities().size());
  }

  @Test
  void stepResultIsRecordedAsOneOrchestratorStartedPlusEventsPlusActions() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    complete(
        first,
        new StepResult(
            List.of(new HistoryEvent.TaskScheduled(0, "Act", "s1:x")), true, "s3:cs1", null));
    InstanceState i = state.instance("a!0");
    assertEquals(3, i.history().size());
    assertEquals(new HistoryEvent.OrchestratorStarted(T0), i.history().get(0));
    assertInstanceOf(HistoryEvent.ExecutionStarted.class, i.history().get(1));
    assertEquals(new HistoryEvent.TaskScheduled(0, "Act", "s1:x"), i.history().get(2));
    assertEquals(
        "s3:cs1",
        ((ClientResponse.Status) state.query(new ClientQuery.GetStatus("a!0", false)))
            .view()
            .customStatus());
  }

  @Test
  void activityResultIsAppliedOnce() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    complete(first, waiting(new HistoryEvent.TaskScheduled(0, "Act", null)));
    Effect.RunStep second =
        step(apply(new ActivityCompleted("a!0", first.executionId(), 0, "s1:r", null, T0)));
    assertEquals(List.of(new HistoryEvent.TaskCompleted(0, "s1:r")), second.newEvents());
    assertEquals(
        List.of(), apply(new ActivityCompleted("a!0", first.executionId(), 0, "s1:r", null, T0)));
    assertEquals(
        List.of(), apply(new ActivityCompleted("a!0", first.executionId(), 7, "s1:r", null, T0)));
  }

  @Test
  void timerFiresIntoTheNextStep() {
    Instant due = T0.plusSeconds(30);
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    assertTrue(
        complete(first, waiting(new HistoryEvent.TimerCreated(0, due)))
            .contains(new Effect.TimersChanged()));
    assertEquals(due, state.timers().nextDue());
    assertTrue(only(apply(new TimersFired(due.minusMillis(1))), Effect.RunStep.class).isEmpty());
    Effect.RunStep second = step(apply(new TimersFired(due.plusSeconds(5))));
    assertEquals(List.of(new HistoryEvent.TimerFired(0, due)), second.newEvents());
    assertEquals(due.plusSeconds(5), second.stepTime());
    assertNull(state.timers().nextDue());
  }

  @Test
  void continueAsNewStartsAFreshExecutionWithCarriedAndLateEvents() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    complete(
        first,
        waiting(
            new HistoryEvent.TimerCreated(0, T0.plusSeconds(60)),
            new HistoryEvent.TaskScheduled(1, "Act", null)));
    Effect.RunStep second = step(request("r2", new ClientRequest.RaiseEvent("a!0", "e1", null)));
    request("r3", new ClientRequest.RaiseEvent("a!0", "late", null)); // arrives during the step
    apply(
        new ActivityCompleted(
            "a!0", first.executionId(), 1, null, null, T0)); // a result of the old execution

    List<Effect> effects =
        complete(
            second,
            new StepResult(
                List.of(),
                false,
                null,
                new StepResult.ContinuedAsNew(
                    "s3:new", List.of(new HistoryEvent.EventRaised("carried", null)))));
    assertTrue(effects.contains(new Effect.DiscardExecutor("a!0")));
    Effect.RunStep s = step(effects);
    assertNotEquals(first.executionId(), s.executionId());
    assertEquals(1, s.stepNumber());
    assertEquals(0, s.historySize());
    HistoryEvent.ExecutionStarted started =
        assertInstanceOf(HistoryEvent.ExecutionStarted.class, s.newEvents().get(0));
    assertEquals("s3:new", started.input());
    assertEquals(s.executionId(), started.executionId());
    assertEquals(List.of("carried", "late"), eventNames(s.newEvents()));
    assertEquals(
        3,
        s.newEvents().size(),
        "the old execution's activity result must not be carried: " + s.newEvents());
    assertNull(state.timers().nextDue(), "the old execution's timers must be gone");
    assertTrue(state.instance("a!0").pendingActivities().isEmpty());
  }

  @Test
  void failedStepEndsTheInstanceWithItsFailure() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    List<Effect> effects =
        complete(
            first,
            new StepResult(
                List.of(),
                false,
                null,
                new StepResult.Failed(dev.netherite.dsl.FailureDetails.of("Boom", "it broke"))));
    Effect.InstanceEnded ended = only(effects, Effect.InstanceEnded.class).get(0);
    assertEquals(RuntimeStatus.FAILED, ended.view().status());
    assertEquals("it broke", ended.view().failure().message());
    HistoryEvent last =
        state.instance("a!0").history().get(state.instance("a!0").history().size() - 1);
    assertEquals(RuntimeStatus.FAILED, ((HistoryEvent.ExecutionCompleted) last).status());
  }

  // ---------------------------------------------------------------- recovery

  @Test
  void recoveryEffectsRedispatchEverythingPending() {
    Effect.RunStep first = step(request("r1", startOf("a!0")));
    complete(
        first,
        waiting(
            new HistoryEvent.TaskScheduled(0, "Act", "s1:x"),
            new HistoryEvent.SubOrchestrationCreated(1, "Child", "c!1", null),
            new HistoryEvent.TimerCreated(2, T0.plusSeconds(60)),
            new HistoryEvent.TaskScheduled(3, "Other", null)));
    apply(new ActivityCompleted("a!0", first.executionId(), 3, null, null, T0));
    // Step 2 of a!0 (for task 3's result) is in progress now; b!0 got a message from partition 2
    // and is in step 2.
    startWaiting("b!0");
    apply(messages(2, 1, event("b!0", "x")));

    List<Effect> recovery = state.recoveryEffects();
    List<Effect.RunStep> steps = only(recovery, Effect.RunStep.class);
    assertEquals(2, steps.size(), recovery.toString());
    assertTrue(
        steps.stream()
            .anyMatch(
                s ->
                    s.instanceId().equals("a!0")
                        && s.stepNumber() == 2
                        && s.newEvents().equals(List.of(new HistoryEvent.TaskCompleted(3, null)))),
        steps.toString());
    assertTrue(
        steps.stream().anyMatch(s -> s.instanceId().equals("b!0") && s.stepNumber() == 2),
        steps.toString());
    assertEquals(
        List.of(new Effect.StartActivity("a!0", first.executionId(), 0, "Act", "s1:x")),
        only(recovery, Effect.StartActivity.class));
    assertEquals(List.of(new Effect.OutboxReady(1, 1)), only(recovery, Effect.OutboxReady.class));
    assertEquals(
        List.of(new Effect.AcknowledgeOrigin(2, 1)),
        only(recovery, Effect.AcknowledgeOrigin.class));
    assertTrue(recovery.contains(new Effect.TimersChanged()));

    // Recovery is replay: a fresh state fed the same log asks for the same things.
    PartitionState rebuilt = new PartitionState(0, 3, 100);
    log.forEach(rebuilt::apply);
    assertEquals(recovery, rebuilt.recoveryEffects());
  }

  @Test
  void applyIsDeterministic() {
    startWaiting(
        "a!0",
        new HistoryEvent.TaskScheduled(0, "Act", null),
        new HistoryEvent.SubOrchestrationCreated(1, "C", "c!2", null));
    apply(messages(1, 1, event("a!0", "e")));
    request("r9", new ClientRequest.Terminate("a!0", "t"));

    PartitionState other = new PartitionState(0, 3, 100);
    PartitionState third = new PartitionState(0, 3, 100);
    for (PartitionEvent e : log) {
      assertEquals(other.apply(e), third.apply(e), "effects of " + e);
    }
    assertEquals(state.statusCounts(), other.statusCounts());
    assertEquals(state.instance("a!0").history(), other.instance("a!0").history());
    assertEquals(state.instance("a!0").executionId(), other.instance("a!0").executionId());
    assertEquals(state.outbox().entries(2, 0, 10, 10), other.outbox().entries(2, 0, 10, 10));
  }

  @Test
  void listReturnsMatchingInstancesInIdOrderOnePageAtATime() {
    startWaiting("b!0");
    Effect.RunStep a = step(request("ra", startOf("a!0")));
    complete(a, completed(null));
    startWaiting("c!0");
    ClientResponse.InstanceList page =
        (ClientResponse.InstanceList)
            state.query(new ClientQuery.ListInstances(Set.of(), null, null, null, null, 2));
    assertEquals(
        List.of("a!0", "b!0"), page.instances().stream().map(InstanceView::instanceId).toList());
    assertTrue(page.more());
    ClientResponse.InstanceList rest =
        (ClientResponse.InstanceList)
            state.query(new ClientQuery.ListInstances(Set.of(), null, null, null, "b!0", 2));
    assertEquals(List.of("c!0"), rest.instances().stream().map(InstanceView::instanceId).toList());
    assertFalse(rest.more());
    ClientResponse.InstanceList running =
        (ClientResponse.InstanceList)
            state.query(
                new ClientQuery.ListInstances(
                    Set.of(RuntimeStatus.RUNNING), null, null, null, null, 10));
    assertEquals(
        List.of("b!0", "c!0"), running.instances().stream().map(InstanceView::instanceId).toList());
  }

  // ---------------------------------------------------------------- entities

  private static final String E1 = "@Acct@x!0";
  private static final String E2 = "@Acct@y!0";

  private static PartitionMessage.EntityOperationRequested signal(String entity, String op) {
    return new PartitionMessage.EntityOperationRequested(entity, op, null, null, null, 0, null);
  }

  private static Effect.RunEntityBatch batch(List<Effect> effects) {
    List<Effect.RunEntityBatch> batches = only(effects, Effect.RunEntityBatch.class);
    assertEquals(1, batches.size(), "one entity batch expected in " + effects);
    return batches.get(0);
  }

  private List<Effect> batchDone(Effect.RunEntityBatch b, String state) {
    List<EntityBatchResult.Outcome> outcomes = new ArrayList<>();
    b.operations().forEach(op -> outcomes.add(new EntityBatchResult.Outcome("i1;", null)));
    return apply(
        new PartitionEvent.EntityBatchCompleted(
            b.entityId(), b.batchNumber(), new EntityBatchResult(state, outcomes, List.of()), T0));
  }

  @Test
  void queuedOperationsRunInArrivalOrderInBatchesOfAtMostTheLimit() {
    apply(new PartitionEvent.EntityBatchLimitSet(3, T0));
    Effect.RunEntityBatch first =
        batch(request("s0", new ClientRequest.SignalEntity(E1, "op0", null)));
    assertEquals(1, first.operations().size());
    for (int k = 1; k <= 5; k++) {
      assertTrue(
          only(
                  request("s" + k, new ClientRequest.SignalEntity(E1, "op" + k, null)),
                  Effect.RunEntityBatch.class)
              .isEmpty(),
          "one batch at a time");
    }
    Effect.RunEntityBatch second = batch(batchDone(first, "s1:a"));
    assertEquals(
        List.of("op1", "op2", "op3"),
        second.operations().stream().map(o -> o.operation()).toList());
    assertEquals("s1:a", second.state(), "the next batch starts from the state the last one wrote");
    Effect.RunEntityBatch third = batch(batchDone(second, "s1:b"));
    assertEquals(
        List.of("op4", "op5"), third.operations().stream().map(o -> o.operation()).toList());
    assertTrue(only(batchDone(third, null), Effect.RunEntityBatch.class).isEmpty());
    assertNull(state.entity(E1), "no state, no lock, nothing queued: the entity is gone");
  }

  @Test
  void aLockedEntityServesOnlyItsOwnerAndReleasesOnTheOwnersEnd() {
    Effect.RunStep holder = step(request("h", startOf("h!0")));
    List<Effect> locking =
        complete(holder, waiting(new HistoryEvent.EntityLockRequested(0, List.of(E1, E2))));
    // Both entities are here: the chain grants E1, then E2, then answers the owner, all in one
    // event.
    assertEquals("h!0", state.entity(E1).lockedBy().instanceId());
    assertEquals("h!0", state.entity(E2).lockedBy().instanceId());
    Effect.RunStep granted = step(locking);
    assertInstanceOf(HistoryEvent.EntityLocksGranted.class, granted.newEvents().get(0));

    // Someone else's signal waits; the owner's call runs.
    assertTrue(
        only(
                request("other", new ClientRequest.SignalEntity(E1, "other", null)),
                Effect.RunEntityBatch.class)
            .isEmpty());
    Effect.RunEntityBatch ownerBatch =
        batch(complete(granted, waiting(new HistoryEvent.EntityCalled(1, E1, "get", null))));
    assertEquals("h!0", ownerBatch.operations().get(0).callerInstanceId());
    assertEquals(
        1, state.entity(E1).backlog() - 1, "the other signal still waits behind the running batch");
    batchDone(ownerBatch, "i5;");

    // The owner is terminated: its locks are released and the waiting signal runs.
    List<Effect> terminated = request("t", new ClientRequest.Terminate("h!0", "stop"));
    Effect.RunEntityBatch freed = batch(terminated);
    assertEquals("other", freed.operations().get(0).operation());
    assertNull(state.entity(E1).lockedBy());
    assertNull(state.entity(E2), "E2 had no state and nothing queued");
  }

  @Test
  void aGrantArrivingForAnEndedOwnerIsReleasedAtOnce() {
    LockOwner gone = new LockOwner("gone!0", "0-1", 3);
    apply(messages(1, 1, new PartitionMessage.LockRequested(List.of(E1), 0, gone)));
    assertNull(state.entity(E1), "granted, then released on the grant's arrival, and removed");
  }

  @Test
  void aDelayedSignalWaitsInTheTimerTableAndSurvivesItsSendersEnd() {
    Effect.RunStep s = step(request("d", startOf("d!0")));
    complete(
        s,
        new StepResult(
            List.of(new HistoryEvent.EntitySignaled(0, E1, "later", null, T0.plusSeconds(60))),
            false,
            null,
            new StepResult.Completed(null)));
    assertEquals(1, state.timers().size(), "the signal waits; the instance's end leaves it");
    assertNull(state.entity(E1));
    Effect.RunEntityBatch b = batch(apply(new TimersFired(T0.plusSeconds(60))));
    assertEquals("later", b.operations().get(0).operation());
  }

  @Test
  void aDeliveryIsCutToWhatMayBeAppliedNext() {
    apply(messages(1, 1, event("a!0", "e1"), event("a!0", "e2")));
    List<PartitionMessage> three =
        List.of(event("a!0", "e1"), event("a!0", "e2"), event("a!0", "e3"));
    assertEquals(
        List.of(three.get(2)),
        state.dedup().applicable(1, 1, three),
        "the applied prefix is cut off");
    assertEquals(List.of(), state.dedup().applicable(1, 1, three.subList(0, 2)), "only duplicates");
    assertEquals(List.of(), state.dedup().applicable(1, 4, three), "after a gap");
    assertEquals(three, state.dedup().applicable(2, 1, three), "another origin starts at 1");
  }
}
