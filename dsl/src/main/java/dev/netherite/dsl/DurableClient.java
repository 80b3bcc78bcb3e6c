package dev.netherite.dsl;

import java.time.Duration;
import java.util.Optional;

/**
 * Starts, observes and controls orchestration instances, from any node of the cluster.
 *
 * <p>Every mutating call returns once its effect is durable. A call that cannot reach the partition
 * hosting the instance is retried with the same request id, so that a retried request takes effect
 * once; after the client's request timeout it fails with {@link DurableTimeoutException}.
 *
 * <p>Arguments are checked at the call: a null argument (other than an input, a payload or a
 * reason, which may be null) fails with an {@link IllegalArgumentException} that names the
 * parameter; so does a value that the data converter can write but not read back (checked once per
 * type), and one larger than its payload limit ({@code netherite.limits.*}, {@link
 * PayloadTooLargeException}).
 */
public interface DurableClient {

  /** Starts an instance with a new random id. */
  default <I, O> InstanceId start(OrchestrationRef<I, O> orchestration, I input) {
    return start(orchestration, input, StartOptions.defaults());
  }

  /**
   * Starts an instance.
   *
   * @throws InstanceAlreadyExistsException when the options refuse an existing instance with that
   *     id
   * @throws IllegalArgumentException when the orchestration is not registered, or the input is of
   *     the wrong type or cannot be serialized
   */
  <I, O> InstanceId start(OrchestrationRef<I, O> orchestration, I input, StartOptions options);

  /** Starts an instance by orchestration name; the input must be of the registered input type. */
  InstanceId start(String orchestrationName, Object input, StartOptions options);

  /**
   * Waits until the instance has ended (COMPLETED, FAILED or TERMINATED) and returns its status.
   * With a zero timeout it only looks: it returns the status of an instance that has ended, and
   * fails with {@link DurableTimeoutException} for one that has not.
   *
   * @throws DurableTimeoutException when it has not ended within {@code timeout}
   * @throws IllegalArgumentException when {@code timeout} is negative
   * @throws InstanceNotFoundException when there is no such instance
   */
  InstanceStatus waitForCompletion(InstanceId instanceId, Duration timeout);

  /** The instance's status without its history, or empty when there is no such instance. */
  default Optional<InstanceStatus> getStatus(InstanceId instanceId) {
    return getStatus(instanceId, false);
  }

  /** The instance's status, with the history of its current execution when {@code withHistory}. */
  Optional<InstanceStatus> getStatus(InstanceId instanceId, boolean withHistory);

  /**
   * Raises an event on an instance; {@link OrchestrationContext#waitForEvent} receives it.
   *
   * @throws InstanceNotFoundException when there is no such instance
   */
  void raiseEvent(InstanceId instanceId, String eventName, Object payload);

  /**
   * Ends a running or suspended instance with status TERMINATED. No effect on an instance that has
   * ended.
   */
  void terminate(InstanceId instanceId, String reason);

  /**
   * Pauses a running instance: it keeps receiving events but takes no steps until resumed; its
   * status reads SUSPENDED meanwhile and its history records {@link
   * HistoryEvent.ExecutionSuspended} with the reason. No effect on a suspended instance.
   */
  void suspend(InstanceId instanceId, String reason);

  /**
   * Resumes a suspended instance: events that arrived meanwhile go into its next step; its history
   * records {@link HistoryEvent.ExecutionResumed} with the reason. No effect on a running instance.
   */
  void resume(InstanceId instanceId, String reason);

  /**
   * Deletes an ended instance and its history.
   *
   * @return whether an instance was deleted
   * @throws IllegalStateException when the instance has not ended
   */
  boolean purge(InstanceId instanceId);

  /**
   * Deletes every ended instance (COMPLETED, FAILED, TERMINATED) that matches the query, with its
   * history; instances that have not ended are left alone whatever the query's statuses. The
   * query's page size is how many instances are listed per step, its continuation token is ignored.
   *
   * @return how many instances were deleted
   */
  int purge(InstanceQuery query);

  /**
   * Sends a one-way operation to an entity; returns once the message is durably queued.
   *
   * @throws IllegalArgumentException when the entity type or operation is not registered, or the
   *     input is of the wrong type
   */
  <I> void signalEntity(EntityId entity, EntityOp<I, ?> operation, I input);

  /**
   * The entity's state, lock holder and backlog. An entity that was never used reads as not
   * existing.
   */
  <S> EntityState<S> readEntity(EntityId entity, Class<S> stateType);

  /** As {@link #readEntity(EntityId, Class)} with the type's state class. */
  default <S> EntityState<S> readEntity(EntityType<S> type, String key) {
    if (type == null) {
      throw new IllegalArgumentException(
          "The argument 'type' of DurableClient.readEntity must not be null.");
    }
    return readEntity(type.id(key), type.stateType());
  }

  /** Instances that match the query, one page at a time, ordered by partition and then id. */
  InstancePage list(InstanceQuery query);

  /**
   * Entities that match the query (those with state, a lock or queued operations), one page at a
   * time, ordered by partition and then id, their states read as {@code stateType} ({@code
   * Object.class} reads any state as the converter's plain value: maps, lists, strings, numbers).
   *
   * @throws IllegalArgumentException when the continuation token is not one this client returned
   */
  <S> EntityPage<S> listEntities(EntityQuery query, Class<S> stateType);
}
