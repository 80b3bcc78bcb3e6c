package dev.netherite.dsl;

/**
 * What an entity operation uses: the entity's durable state and one-way messages to other entities
 * and orchestrations. What an operation does takes effect when its batch is durable; the state is
 * written once per batch.
 *
 * <p>{@link #state()} returns the live object: an operation may update it in place (then call
 * {@link #setState} with it if the entity had no state yet). When an operation fails, its batch is
 * run again from the state stored before the batch, without the failed operation, so that nothing
 * it changed survives.
 *
 * @param <S> the state type
 */
public interface EntityContext<S> {

  EntityId id();

  /** The name of the operation being run. */
  String operationName();

  /** The current state, or the entity type's initial state when the entity has none yet. */
  S state();

  /**
   * Whether the entity has state; an entity without state and without pending work does not exist.
   */
  boolean hasState();

  /** Replaces the state. {@code null} deletes it, as {@link #deleteState()} does. */
  void setState(S state);

  /** Deletes the state; once no lock and no queued message remain, the entity is gone. */
  void deleteState();

  /**
   * Sends a one-way operation to an entity (this one included); it runs after the current batch is
   * durable.
   */
  <I> void signal(EntityId entity, EntityOp<I, ?> operation, I input);

  /** Starts an orchestration with a new random id, and returns that id. */
  <I> InstanceId startOrchestration(OrchestrationRef<I, ?> orchestration, I input);

  /** Starts an orchestration with the given id, unless one with that id is running. */
  <I> InstanceId startOrchestration(
      OrchestrationRef<I, ?> orchestration, I input, InstanceId instanceId);
}
