package dev.netherite.engine.entity;

import dev.netherite.dsl.EntityContext;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.PayloadTooLargeException;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConverter;
import dev.netherite.engine.PayloadLimits;
import dev.netherite.engine.TypedInputs;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EntityBatchResult;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.PartitionMessage.EntityOperationRequested;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>Runs a batch of one entity's operations, in order, on the calling thread. Each operation is
 * all or nothing: when one throws, the batch is run again from its starting state with that
 * operation answered as failed and skipped, so that neither its state changes nor its messages
 * survive, while the operations around it keep theirs. The result carries the final state
 * (serialized once), one outcome per operation, and the messages sent.
 *
 * <p>Payload limits: an operation whose result, or whose signal's or start's input, is over its
 * limit fails, like one that throws. When the state after a batch is over its limit, the batch runs
 * again with the state measured after each operation, and the operation that made it too large
 * fails (its change undone); measuring each time costs a serialization per operation, so only a
 * batch that went over pays it.
 *
 * <p>Entity code is not replayed: the partition records the result, so the code may read clocks or
 * call services.
 */
public final class EntityExecutor {
  private final Workflows workflows;
  private final DataConverter converter;
  private final PayloadLimits limits;

  /** What {@link #attempt} returns when the final state is over its limit. */
  private static final EntityBatchResult STATE_TOO_LARGE =
      new EntityBatchResult(null, List.of(), List.of());

  public EntityExecutor(Workflows workflows, DataConverter converter) {
    this(workflows, converter, PayloadLimits.NONE);
  }

  public EntityExecutor(Workflows workflows, DataConverter converter, PayloadLimits limits) {
    this.workflows = workflows;
    this.converter = converter;
    this.limits = limits;
  }

  public EntityBatchResult run(Effect.RunEntityBatch batch) {
    EntityType<?> type = workflows.entity(batch.entityName()).orElse(null);
    if (type == null) {
      return allFailed(batch, unregistered(batch.entityName()));
    }
    Map<Integer, FailureDetails> failed = new HashMap<>();
    boolean measureEach = false;
    try {
      while (true) {
        EntityBatchResult result = attempt(type, batch, failed, measureEach);
        if (result == STATE_TOO_LARGE) {
          measureEach = true;
        } else if (result != null) {
          return result;
        }
      }
    } catch (RuntimeException unexpected) {
      // e.g. a data converter that cannot serialize a signal's input: every operation of the batch
      // fails with it,
      // and the entity keeps the state it had, rather than the partition waiting for this batch
      // forever
      return allFailed(batch, FailureDetails.of(unexpected));
    }
  }

  private FailureDetails unregistered(String entityName) {
    return FailureDetails.of(
        IllegalStateException.class.getName(),
        "No entity named '"
            + entityName
            + "' is registered on this node; registered entities are: "
            + workflows.entityNames()
            + ".");
  }

  private static EntityBatchResult allFailed(Effect.RunEntityBatch batch, FailureDetails failure) {
    List<EntityBatchResult.Outcome> outcomes = new ArrayList<>();
    batch.operations().forEach(op -> outcomes.add(new EntityBatchResult.Outcome(null, failure)));
    return new EntityBatchResult(batch.state(), outcomes, List.of());
  }

  /**
   * One pass over the batch; null when an operation failed for the first time (it is added to
   * {@code failed}).
   */
  private <S> EntityBatchResult attempt(
      EntityType<S> type,
      Effect.RunEntityBatch batch,
      Map<Integer, FailureDetails> failed,
      boolean measureEach) {
    Context<S> ctx;
    try {
      ctx =
          new Context<>(
              type,
              EntityId.parse(batch.entityId()),
              batch.state() == null ? null : converter.deserialize(batch.state(), type.stateType()),
              batch.state() != null);
    } catch (RuntimeException e) {
      return allFailed(
          batch,
          FailureDetails.of(
              new IllegalStateException(
                  "The state of entity "
                      + batch.entityId()
                      + " cannot be read as "
                      + type.stateType().getSimpleName()
                      + ": "
                      + e.getMessage(),
                  e)));
    }
    List<EntityBatchResult.Outcome> outcomes = new ArrayList<>();
    List<EntityOperationRequested> ops = batch.operations();
    for (int k = 0; k < ops.size(); k++) {
      FailureDetails earlier = failed.get(k);
      if (earlier != null) {
        outcomes.add(new EntityBatchResult.Outcome(null, earlier));
        continue;
      }
      EntityOperationRequested op = ops.get(k);
      try {
        outcomes.add(new EntityBatchResult.Outcome(ctx.run(op), null));
        if (measureEach && ctx.hasState) {
          limits.require(
              PayloadLimits.Kind.ENTITY_STATE,
              stateName(batch, op),
              converter.serialize(ctx.state));
        }
      } catch (Exception | LinkageError | AssertionError | StackOverflowError e) {
        failed.put(k, limits.capped(PayloadLimits.Kind.OUTPUT, FailureDetails.of(e)));
        return null;
      }
    }
    String state;
    try {
      state = ctx.hasState ? converter.serialize(ctx.state) : null;
    } catch (RuntimeException e) {
      return allFailed(batch, FailureDetails.of(e));
    }
    PayloadTooLargeException tooLarge =
        limits.check(
            PayloadLimits.Kind.ENTITY_STATE, "the state of entity " + batch.entityId(), state);
    if (tooLarge != null) {
      // Measured after each operation, no single one can have made it too large: it was so before.
      return measureEach ? allFailed(batch, FailureDetails.of(tooLarge)) : STATE_TOO_LARGE;
    }
    return new EntityBatchResult(state, outcomes, ctx.messages);
  }

  private static String stateName(Effect.RunEntityBatch batch, EntityOperationRequested op) {
    return "the state of entity "
        + batch.entityId()
        + " after its operation '"
        + op.operation()
        + "'";
  }

  private final class Context<S> implements EntityContext<S> {
    private final EntityType<S> type;
    private final EntityId id;
    private S state;
    private boolean hasState;

    /**
     * The initial state handed out while the entity has none, so that repeated reads see one
     * object.
     */
    private S initial;

    private String operationName;
    final List<PartitionMessage> messages = new ArrayList<>();

    Context(EntityType<S> type, EntityId id, S state, boolean hasState) {
      this.type = type;
      this.id = id;
      this.state = state;
      this.hasState = hasState;
    }

    String run(EntityOperationRequested op) throws Exception {
      operationName = op.operation();
      EntityType.RegisteredOperation<S, ?, ?> registered = type.requireOperation(op.operation());
      return invoke(registered, op.input());
    }

    private <I, O> String invoke(EntityType.RegisteredOperation<S, I, O> registered, String input)
        throws Exception {
      I typedInput = converter.deserialize(input, registered.ref().inputType());
      O output = registered.implementation().run(this, typedInput);
      String result =
          registered.ref().outputType() == Void.class ? null : converter.serialize(output);
      limits.require(
          PayloadLimits.Kind.OUTPUT,
          "the result of operation '" + operationName + "' of entity " + id,
          result);
      return result;
    }

    @Override
    public EntityId id() {
      return id;
    }

    @Override
    public String operationName() {
      return operationName;
    }

    @Override
    public S state() {
      if (!hasState) {
        if (initial == null) {
          initial = type.initialState();
        }
        return initial;
      }
      return state;
    }

    @Override
    public boolean hasState() {
      return hasState;
    }

    @Override
    public void setState(S newState) {
      if (newState == null) {
        deleteState();
        return;
      }
      if (!type.stateType().isInstance(newState)) {
        throw new IllegalArgumentException(
            "Entity '"
                + type.name()
                + "' has state of type "
                + type.stateType().getSimpleName()
                + ", but was given "
                + newState.getClass().getSimpleName()
                + ".");
      }
      state = newState;
      hasState = true;
    }

    @Override
    public void deleteState() {
      state = null;
      hasState = false;
      initial = null;
    }

    @Override
    public <I> void signal(EntityId entity, EntityOp<I, ?> operation, I input) {
      messages.add(
          new EntityOperationRequested(
              entity.toString(),
              operation.name(),
              serializeInput(operation.name(), operation.inputType(), input),
              null,
              null,
              0,
              null));
    }

    @Override
    public <I> InstanceId startOrchestration(OrchestrationRef<I, ?> orchestration, I input) {
      return startOrchestration(orchestration, input, InstanceId.random());
    }

    @Override
    public <I> InstanceId startOrchestration(
        OrchestrationRef<I, ?> orchestration, I input, InstanceId instanceId) {
      workflows.requireOrchestration(orchestration.name());
      messages.add(
          new PartitionMessage.ExecutionRequested(
              instanceId.value(),
              orchestration.name(),
              serializeInput(orchestration.name(), orchestration.inputType(), input),
              null,
              null,
              0));
      return instanceId;
    }

    private String serializeInput(String name, Class<?> type, Object input) {
      String serialized = TypedInputs.serialize(converter, name, type, input);
      limits.require(
          PayloadLimits.Kind.INPUT,
          "the input of '"
              + name
              + "' sent by entity "
              + id
              + " (operation '"
              + operationName
              + "')",
          serialized);
      return serialized;
    }
  }
}
