package dev.netherite.engine.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.PartitionEvent.ClientRequestReceived;
import dev.netherite.engine.partition.PartitionEvent.StepCompleted;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What suspension, resumption and continue-as-new leave in an instance's history and status, seen
 * through the partition's entry points.
 */
class LifecycleHistoryTest {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Instant LATER = T0.plusSeconds(30);

  private final PartitionState state = new PartitionState(0, 3, 100);
  private int requests;

  private List<Effect> request(ClientRequest r, Instant at) {
    return state.apply(new ClientRequestReceived("r" + ++requests, r, at));
  }

  private static Effect.RunStep step(List<Effect> effects) {
    List<Effect.RunStep> steps = PartsFixture.only(effects, Effect.RunStep.class);
    assertEquals(1, steps.size(), effects.toString());
    return steps.get(0);
  }

  private static ClientResponse reply(List<Effect> effects) {
    return PartsFixture.only(effects, Effect.ReplyToClient.class).get(0).response();
  }

  private Effect.RunStep start(String id) {
    return step(
        request(new ClientRequest.StartOrchestration(id, "Orch", "in", null, Set.of()), T0));
  }

  private List<Effect> complete(
      Effect.RunStep s, StepResult.Outcome outcome, HistoryEvent.Action... actions) {
    return state.apply(
        new StepCompleted(
            s.instanceId(),
            s.executionId(),
            s.stepNumber(),
            new StepResult(List.of(actions), false, null, outcome),
            T0));
  }

  private InstanceView status(String id) {
    return ((ClientResponse.Status) state.query(new ClientQuery.GetStatus(id, true))).view();
  }

  private List<HistoryEvent> lastOf(List<HistoryEvent> history, int n) {
    return history.subList(history.size() - n, history.size());
  }

  @Test
  void suspendAndResumeRecordTheirEventsWithTheirReasonsAndTheStatusReadsSuspended() {
    complete(start("a!0"), null, new HistoryEvent.TimerCreated(0, T0.plusSeconds(600)));

    assertEquals(
        new ClientResponse.Accepted(),
        reply(request(new ClientRequest.Suspend("a!0", "maintenance"), LATER)));
    InstanceView suspended = status("a!0");
    assertEquals(RuntimeStatus.SUSPENDED, suspended.status());
    assertEquals(LATER, suspended.lastUpdatedAt());
    assertEquals(
        List.of(new HistoryEvent.ExecutionSuspended("maintenance")),
        lastOf(suspended.history(), 1));
    ClientResponse.InstanceList listed =
        (ClientResponse.InstanceList)
            state.query(
                new ClientQuery.ListInstances(
                    Set.of(RuntimeStatus.SUSPENDED), null, null, null, null, 10));
    assertEquals(
        List.of("a!0"), listed.instances().stream().map(InstanceView::instanceId).toList());

    // Suspending a suspended instance is accepted and records nothing more.
    int size = status("a!0").history().size();
    request(new ClientRequest.Suspend("a!0", "again"), LATER);
    assertEquals(size, status("a!0").history().size());

    request(new ClientRequest.Resume("a!0", "maintenance over"), LATER.plusSeconds(1));
    InstanceView resumed = status("a!0");
    assertEquals(RuntimeStatus.RUNNING, resumed.status());
    assertEquals(
        List.of(
            new HistoryEvent.ExecutionSuspended("maintenance"),
            new HistoryEvent.ExecutionResumed("maintenance over")),
        lastOf(resumed.history(), 2));

    // Resuming a running instance is accepted and records nothing.
    request(new ClientRequest.Resume("a!0", "again"), LATER.plusSeconds(2));
    assertEquals(size + 1, status("a!0").history().size());
  }

  @Test
  void aStepInProgressWhenSuspendedRecordsItsEventsAfterTheSuspension() {
    Effect.RunStep first = start("a!0");
    request(new ClientRequest.Suspend("a!0", "pause"), T0);
    complete(first, null, new HistoryEvent.TaskScheduled(0, "Act", null));
    List<HistoryEvent> history = status("a!0").history();
    assertEquals(new HistoryEvent.ExecutionSuspended("pause"), history.get(0));
    assertInstanceOf(HistoryEvent.OrchestratorStarted.class, history.get(1));
    assertInstanceOf(HistoryEvent.ExecutionStarted.class, history.get(2));
    assertEquals(new HistoryEvent.TaskScheduled(0, "Act", null), history.get(3));
    assertEquals(RuntimeStatus.SUSPENDED, status("a!0").status());
  }

  @Test
  void terminatingASuspendedInstanceRecordsBoth() {
    complete(start("a!0"), null, new HistoryEvent.TimerCreated(0, T0.plusSeconds(600)));
    request(new ClientRequest.Suspend("a!0", "pause"), T0);
    request(new ClientRequest.Terminate("a!0", "stop"), T0);
    InstanceView v = status("a!0");
    assertEquals(RuntimeStatus.TERMINATED, v.status());
    assertEquals(
        List.of(
            new HistoryEvent.ExecutionSuspended("pause"),
            new HistoryEvent.ExecutionTerminated("stop")),
        lastOf(v.history(), 2));
  }

  @Test
  void continueAsNewEndsTheExecutionsHistoryWithItsRecordAndStartsAnEmptyOne() {
    Effect.RunStep first = start("a!0");
    // The host's view of the ending execution's history: the list handed to its step.
    List<HistoryEvent> endingHistory = first.history();
    Effect.RunStep next =
        step(
            complete(
                first,
                new StepResult.ContinuedAsNew("round-2", List.of()),
                new HistoryEvent.TaskScheduled(0, "Act", null)));

    assertEquals(
        List.of(
            new HistoryEvent.TaskScheduled(0, "Act", null),
            new HistoryEvent.ContinuedAsNew("round-2")),
        lastOf(endingHistory, 2));
    assertEquals(0, next.historySize());
    assertTrue(status("a!0").history().isEmpty());
    assertEquals(RuntimeStatus.RUNNING, status("a!0").status());
    HistoryEvent.ExecutionStarted started =
        assertInstanceOf(HistoryEvent.ExecutionStarted.class, next.newEvents().get(0));
    assertEquals("round-2", started.input());
  }
}
