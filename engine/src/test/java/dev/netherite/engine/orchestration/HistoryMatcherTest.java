package dev.netherite.engine.orchestration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.HistoryEvent.Action;
import dev.netherite.dsl.NonDeterministicOrchestrationException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Replay's matching of the code's actions against the recorded ones, on its own. */
class HistoryMatcherTest {
  private static final Instant T = Instant.parse("2030-01-01T00:00:00Z");

  private final HistoryMatcher matcher = new HistoryMatcher("Transfer", "42");

  private static Action activity(int taskId, String name) {
    return new HistoryEvent.TaskScheduled(taskId, name, "in");
  }

  @Test
  void everyKindOfActionReadsAsWhatTheCodeDid() {
    Map<Action, String> expected =
        Map.of(
            activity(0, "Debit"),
            "called activity 'Debit'",
            new HistoryEvent.TimerCreated(1, T),
            "created a timer",
            new HistoryEvent.SubOrchestrationCreated(2, "Audit", "42:2", null),
            "called sub-orchestration 'Audit'",
            new HistoryEvent.EventSent(3, "other", "Done", null),
            "raised event 'Done' on instance 'other'",
            new HistoryEvent.EntityCalled(4, "@Account@a", "add", "1"),
            "called operation 'add' of entity @Account@a",
            new HistoryEvent.EntitySignaled(5, "@Account@a", "add", "1", null),
            "signaled operation 'add' of entity @Account@a",
            new HistoryEvent.EntityLockRequested(6, List.of("@Account@a", "@Account@b")),
            "locked entities [@Account@a, @Account@b]",
            new HistoryEvent.EntityUnlockSent(7, 6, List.of("@Account@a")),
            "left a critical section");
    expected.forEach(
        (action, text) -> assertEquals(text, HistoryMatcher.signature(action).description()));
  }

  @Test
  void anActionMatchesByKindAndIdentifyingNamesOnly() {
    // Inputs and times are not compared: they may legitimately differ between runs.
    assertTrue(
        HistoryMatcher.sameAction(
            new HistoryEvent.TaskScheduled(0, "Debit", "1"),
            new HistoryEvent.TaskScheduled(0, "Debit", "2")));
    assertTrue(
        HistoryMatcher.sameAction(
            new HistoryEvent.TimerCreated(1, T),
            new HistoryEvent.TimerCreated(1, T.plusSeconds(1))));
    assertFalse(HistoryMatcher.sameAction(activity(0, "Debit"), activity(0, "Withdraw")));
    assertFalse(
        HistoryMatcher.sameAction(
            activity(0, "Audit"), new HistoryEvent.SubOrchestrationCreated(0, "Audit", "x", null)));
    assertFalse(
        HistoryMatcher.sameAction(
            new HistoryEvent.EventSent(3, "a", "Done", null),
            new HistoryEvent.EventSent(3, "b", "Done", null)));
    assertFalse(
        HistoryMatcher.sameAction(
            new HistoryEvent.EntityLockRequested(6, List.of("@A@a")),
            new HistoryEvent.EntityLockRequested(6, List.of("@A@a", "@A@b"))));
  }

  @Test
  void matchedActionsAreOldAndTheRestAreTheStepsNewActionsInTaskIdOrder() {
    matcher.taken(activity(0, "Debit"));
    matcher.recorded(activity(0, "Debit"));
    matcher.taken(activity(1, "Credit"));
    matcher.taken(new HistoryEvent.TimerCreated(2, T));
    assertEquals(
        List.of(activity(1, "Credit"), new HistoryEvent.TimerCreated(2, T)),
        matcher.takeNewActions());
    assertEquals(List.of(), matcher.takeNewActions());
    assertNull(matcher.mismatch());
  }

  @Test
  void aDifferentActionIsNamedOnBothSides() {
    matcher.taken(activity(3, "Withdraw"));
    NonDeterministicOrchestrationException e =
        assertThrows(
            NonDeterministicOrchestrationException.class,
            () -> matcher.recorded(activity(3, "Debit")));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Orchestration 'Transfer' (instance 42) is not deterministic: the history says step"
                    + " 3 called activity 'Debit', the code now called activity 'Withdraw'."),
        e.getMessage());
  }

  @Test
  void aRecordedActionTheCodeDoesNotTakeOrSkipsIsAMismatch() {
    assertTrue(
        assertThrows(
                NonDeterministicOrchestrationException.class,
                () -> matcher.recorded(activity(0, "Debit")))
            .getMessage()
            .contains("the history says step 0 called activity 'Debit', the code now does not"));

    HistoryMatcher ended = new HistoryMatcher("Transfer", "42");
    ended.taken(activity(0, "Debit"));
    assertTrue(
        assertThrows(
                NonDeterministicOrchestrationException.class,
                () ->
                    ended.codeEnded(
                        List.of(
                            new HistoryEvent.OrchestratorStarted(T),
                            activity(0, "Debit"),
                            new HistoryEvent.TaskCompleted(0, "ok"),
                            activity(1, "Credit"))))
            .getMessage()
            .contains("step 1 called activity 'Credit', the code now completes before it"));

    HistoryMatcher skipped = new HistoryMatcher("Transfer", "42");
    skipped.taken(activity(0, "Debit"));
    skipped.taken(activity(1, "Credit"));
    assertTrue(
        assertThrows(
                NonDeterministicOrchestrationException.class,
                () -> skipped.recorded(activity(1, "Credit")))
            .getMessage()
            .contains("the history has no record of step 0, the code now called activity 'Debit'"));
  }

  @Test
  void theFirstMismatchIsKeptAndNewActionsAreDroppedOnFailure() {
    matcher.taken(activity(0, "Withdraw"));
    NonDeterministicOrchestrationException first =
        assertThrows(
            NonDeterministicOrchestrationException.class,
            () -> matcher.recorded(activity(0, "Debit")));
    NonDeterministicOrchestrationException second =
        assertThrows(
            NonDeterministicOrchestrationException.class,
            () -> matcher.recorded(activity(1, "Other")));
    assertSame(first, second);
    assertSame(first, matcher.mismatch());
    matcher.taken(activity(2, "New"));
    matcher.dropNewActions();
    assertEquals(List.of(), matcher.takeNewActions());
  }
}
