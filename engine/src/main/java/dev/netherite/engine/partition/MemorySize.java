package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;

/**
 * INTERNAL API: rough heap sizes of the records' parts, for the memory budget. A string counts its
 * characters (compact strings take a byte each for Latin-1 text) plus its header; a history event a
 * fixed cost plus its strings. An estimate that errs the same way for every record is enough to
 * choose what leaves memory; it is not an accounting of the heap.
 */
final class MemorySize {
  private static final int STRING_OVERHEAD = 40;
  private static final int EVENT_OVERHEAD = 48;

  private MemorySize() {}

  static long chars(String... strings) {
    long n = 0;
    for (String s : strings) {
      if (s != null) {
        n += STRING_OVERHEAD + s.length();
      }
    }
    return n;
  }

  static long of(FailureDetails f) {
    long n = 0;
    for (int depth = 0; f != null && depth < 8; depth++, f = f.cause()) {
      n += 32 + chars(f.errorType(), f.message(), f.stackTrace());
    }
    return n;
  }

  static long of(HistoryEvent e) {
    return EVENT_OVERHEAD
        + switch (e) {
          case HistoryEvent.ExecutionStarted s ->
              chars(s.orchestrationName(), s.executionId(), s.input(), s.parentInstanceId());
          case HistoryEvent.TaskScheduled t -> chars(t.activityName(), t.input());
          case HistoryEvent.TaskCompleted t -> chars(t.result());
          case HistoryEvent.TaskFailed t -> of(t.failure());
          case HistoryEvent.SubOrchestrationCreated s ->
              chars(s.orchestrationName(), s.instanceId(), s.input());
          case HistoryEvent.SubOrchestrationCompleted s -> chars(s.result());
          case HistoryEvent.SubOrchestrationFailed s -> of(s.failure());
          case HistoryEvent.EventRaised r -> chars(r.name(), r.input());
          case HistoryEvent.EventSent s -> chars(s.instanceId(), s.name(), s.input());
          case HistoryEvent.EntityCalled c -> chars(c.entityId(), c.operation(), c.input());
          case HistoryEvent.EntitySignaled s -> chars(s.entityId(), s.operation(), s.input());
          case HistoryEvent.EntityCallCompleted c -> chars(c.result());
          case HistoryEvent.EntityCallFailed c -> of(c.failure());
          case HistoryEvent.ExecutionCompleted c -> chars(c.output()) + of(c.failure());
          case HistoryEvent.ContinuedAsNew c -> chars(c.input());
          case HistoryEvent.ExecutionTerminated t -> chars(t.reason());
          case HistoryEvent.ExecutionSuspended t -> chars(t.reason());
          case HistoryEvent.ExecutionResumed t -> chars(t.reason());
          case HistoryEvent.EntityLockRequested l -> 48L * l.entityIds().size();
          case HistoryEvent.EntityUnlockSent u -> 48L * u.entityIds().size();
          default -> 0L;
        };
  }
}
