package dev.netherite.engine.orchestration;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.HistoryEvent.Action;
import dev.netherite.dsl.NonDeterministicOrchestrationException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>Checks that the code takes the actions its history recorded. Actions the code takes are held
 * by task id until the history matches them; each recorded action must meet the code's action with
 * the same task id, of the same kind and with the same identifying names ({@link #signature}).
 * Actions the history does not hold are the step's new actions. A mismatch becomes a {@link
 * NonDeterministicOrchestrationException} naming the recorded and the taken action; the first one
 * is kept, so that code that catches it cannot hide it.
 */
final class HistoryMatcher {

  /**
   * What identifies an action for replay, and how it reads in a message.
   *
   * @param description what the code did, e.g. "called activity 'Debit'"
   * @param key the names that must be equal for the code's action to match a recorded one of the
   *     same kind
   */
  record Signature(String description, List<Object> key) {
    static Signature of(String description, Object... key) {
      return new Signature(description, Arrays.asList(key));
    }
  }

  /** The one place that knows, for each kind of action, what identifies it and how it reads. */
  static Signature signature(Action action) {
    return switch (action) {
      case HistoryEvent.TaskScheduled a ->
          Signature.of("called activity '" + a.activityName() + "'", a.activityName());
      case HistoryEvent.TimerCreated a -> Signature.of("created a timer");
      case HistoryEvent.SubOrchestrationCreated a ->
          Signature.of(
              "called sub-orchestration '" + a.orchestrationName() + "'", a.orchestrationName());
      case HistoryEvent.EventSent a ->
          Signature.of(
              "raised event '" + a.name() + "' on instance '" + a.instanceId() + "'",
              a.name(),
              a.instanceId());
      case HistoryEvent.EntityCalled a ->
          Signature.of(
              "called operation '" + a.operation() + "' of entity " + a.entityId(),
              a.entityId(),
              a.operation());
      case HistoryEvent.EntitySignaled a ->
          Signature.of(
              "signaled operation '" + a.operation() + "' of entity " + a.entityId(),
              a.entityId(),
              a.operation());
      case HistoryEvent.EntityLockRequested a ->
          Signature.of("locked entities " + a.entityIds(), a.entityIds());
      case HistoryEvent.EntityUnlockSent a -> Signature.of("left a critical section");
    };
  }

  /** Whether the code's action {@code taken} is the recorded action {@code recorded}. */
  static boolean sameAction(Action recorded, Action taken) {
    return recorded.getClass() == taken.getClass()
        && signature(recorded).key().equals(signature(taken).key());
  }

  private final String orchestrationName;
  private final String instanceId;

  /** Actions the code took that the history has not (yet) matched, in task-id order. */
  private final LinkedHashMap<Integer, Action> unmatched = new LinkedHashMap<>();

  private NonDeterministicOrchestrationException mismatch;

  HistoryMatcher(String orchestrationName, String instanceId) {
    this.orchestrationName = orchestrationName;
    this.instanceId = instanceId;
  }

  /** The code took {@code action}. */
  void taken(Action action) {
    unmatched.put(action.taskId(), action);
  }

  /** The history recorded {@code action}, met while the code runs. */
  void recorded(Action action) {
    match(action, false);
  }

  /**
   * The code has ended: the rest of the history must only hold the matches of actions it took; a
   * recorded action it did not take means the code changed.
   */
  void codeEnded(List<HistoryEvent> restOfHistory) {
    for (HistoryEvent e : restOfHistory) {
      if (e instanceof Action a) {
        match(a, true);
      }
    }
  }

  /** The actions of this step that the history did not hold; they are the step's output. */
  List<Action> takeNewActions() {
    List<Action> actions = new ArrayList<>(unmatched.values());
    unmatched.clear();
    return actions;
  }

  /**
   * Forgets the step's new actions: after a mismatch they come from code that no longer matches its
   * history, and an ending execution must start no new work.
   */
  void dropNewActions() {
    unmatched.clear();
  }

  /** The first mismatch found, or null. */
  NonDeterministicOrchestrationException mismatch() {
    return mismatch;
  }

  private void match(Action recorded, boolean codeEnded) {
    int id = recorded.taskId();
    if (!unmatched.isEmpty()) {
      int firstOpen = unmatched.keySet().iterator().next();
      if (firstOpen < id) {
        throw nonDeterministic(
            "has no record of step " + firstOpen,
            "code now " + signature(unmatched.get(firstOpen)).description());
      }
    }
    Action taken = unmatched.remove(id);
    if (taken == null) {
      throw nonDeterministic(
          "says step " + id + " " + signature(recorded).description(),
          "code now " + (codeEnded ? "completes before it" : "does not"));
    }
    if (!sameAction(recorded, taken)) {
      throw nonDeterministic(
          "says step " + id + " " + signature(recorded).description(),
          "code now " + signature(taken).description());
    }
  }

  private NonDeterministicOrchestrationException nonDeterministic(String history, String code) {
    if (mismatch != null) {
      return mismatch;
    }
    return mismatch =
        new NonDeterministicOrchestrationException(
            "Orchestration '"
                + orchestrationName
                + "' (instance "
                + instanceId
                + ") is not deterministic: the history "
                + history
                + ", the "
                + code
                + ". Code that changes what an orchestration does must not be deployed while "
                + "instances of it are running; give the changed code a new orchestration name instead.");
  }
}
