package dev.netherite.engine.partition;

import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API: one orchestration instance inside a partition's state. Mutable; owned by its
 * partition.
 */
public final class InstanceState implements TableRecord {
  /** Whether the instance store may hold rows of this record; see {@link TableRecord}. */
  private transient boolean inStore;

  /** {@link #approximateBytes}, or -1 when it must be computed again. */
  private transient long approximateBytes = -1;

  String instanceId;
  String name;
  String executionId;
  RuntimeStatus status;
  Instant createdAt;
  Instant lastUpdatedAt;
  String input;
  String output;
  String customStatus;
  FailureDetails failure;
  String parentInstanceId;
  String parentExecutionId;
  int parentTaskId;

  /** The request that created this execution; a retried start with it is answered as a success. */
  String createRequestId;

  /** Events of completed steps; the executor replays these. */
  ArrayList<HistoryEvent> history = new ArrayList<>();

  /** Events that arrived and wait for the next step. */
  ArrayList<HistoryEvent> inbox = new ArrayList<>();

  /** The events handed to the step in progress. */
  List<HistoryEvent> stepEvents = List.of();

  boolean stepInProgress;
  long stepNumber;
  Instant stepTime;

  /** Activity calls not yet completed, by task id, to re-dispatch after recovery. */
  LinkedHashMap<Integer, PendingActivity> pendingActivities = new LinkedHashMap<>();

  /**
   * The critical section of this execution: the task id of its lock request (-1: none), the
   * entities it locks, and whether all locks are held. A section whose grant has not arrived is
   * released when the grant arrives.
   */
  int lockTaskId = -1;

  List<String> lockEntities = List.of();
  boolean locksGranted;

  InstanceState() {}

  public String instanceId() {
    return instanceId;
  }

  public RuntimeStatus status() {
    return status;
  }

  public String executionId() {
    return executionId;
  }

  public List<HistoryEvent> history() {
    return history;
  }

  public Map<Integer, PendingActivity> pendingActivities() {
    return pendingActivities;
  }

  InstanceView view(boolean withHistory) {
    return new InstanceView(
        instanceId,
        name,
        status,
        createdAt,
        lastUpdatedAt,
        input,
        output,
        customStatus,
        failure,
        withHistory ? List.copyOf(history) : null);
  }

  @Override
  public long approximateBytes() {
    if (approximateBytes < 0) {
      long n =
          160
              + MemorySize.chars(instanceId, name, executionId, input, output, customStatus)
              + MemorySize.chars(parentInstanceId, parentExecutionId, createRequestId)
              + MemorySize.of(failure);
      for (HistoryEvent e : history) {
        n += MemorySize.of(e);
      }
      for (HistoryEvent e : inbox) {
        n += MemorySize.of(e);
      }
      approximateBytes = n + 64L * pendingActivities.size();
    }
    return approximateBytes;
  }

  @Override
  public void changing() {
    approximateBytes = -1;
  }

  @Override
  public boolean inStore() {
    return inStore;
  }

  @Override
  public void markInStore() {
    inStore = true;
  }
}
