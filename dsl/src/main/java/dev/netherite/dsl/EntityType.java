package dev.netherite.dsl;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * A kind of entity: a name, a state type with its initial value, and operations. Immutable; each
 * {@link #operation} call returns a new type with one more operation, so a type reads as one
 * expression:
 *
 * <pre>{@code
 * static final EntityType<Integer> ACCOUNT = EntityType.define("Account", Integer.class, () -> 0)
 *     .operation(ADD, (ctx, amount) -> { ctx.setState(ctx.state() + amount); return null; })
 *     .operation(GET, (ctx, none) -> ctx.state());
 * }</pre>
 *
 * @param <S> the state type
 */
public final class EntityType<S> {

  /** An operation bound to its code. */
  public record RegisteredOperation<S, I, O>(
      EntityOp<I, O> ref, EntityOperation<S, I, O> implementation) {}

  private final String name;
  private final Class<S> stateType;
  private final Supplier<S> initialState;
  private final Map<String, RegisteredOperation<S, ?, ?>> operations;

  private EntityType(
      String name,
      Class<S> stateType,
      Supplier<S> initialState,
      Map<String, RegisteredOperation<S, ?, ?>> operations) {
    this.name = name;
    this.stateType = stateType;
    this.initialState = initialState;
    this.operations = operations;
  }

  /**
   * A type without operations yet.
   *
   * @param initialState the state an entity has before any operation set one; may return null
   */
  public static <S> EntityType<S> define(
      String name, Class<S> stateType, Supplier<S> initialState) {
    EntityId.of(name, "probe"); // validates the name
    Objects.requireNonNull(stateType, "stateType");
    Objects.requireNonNull(initialState, "initialState");
    return new EntityType<>(name, stateType, initialState, Map.of());
  }

  /** This type with one more operation. */
  public <I, O> EntityType<S> operation(
      EntityOp<I, O> op, EntityOperation<S, I, O> implementation) {
    Objects.requireNonNull(implementation, "implementation");
    if (operations.containsKey(op.name())) {
      throw new IllegalArgumentException(
          "Entity '" + name + "' already has an operation named '" + op.name() + "'.");
    }
    Map<String, RegisteredOperation<S, ?, ?>> more = new LinkedHashMap<>(operations);
    more.put(op.name(), new RegisteredOperation<>(op, implementation));
    return new EntityType<>(name, stateType, initialState, Map.copyOf(more));
  }

  /** The id of the entity of this type with {@code key}. */
  public EntityId id(String key) {
    return EntityId.of(name, key);
  }

  public String name() {
    return name;
  }

  public Class<S> stateType() {
    return stateType;
  }

  public S initialState() {
    return initialState.get();
  }

  /** The registered operations, by name. */
  public SortedMap<String, RegisteredOperation<S, ?, ?>> operations() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(operations));
  }

  public Optional<RegisteredOperation<S, ?, ?>> operation(String operationName) {
    return Optional.ofNullable(operations.get(operationName));
  }

  /**
   * The operation named {@code operationName}.
   *
   * @throws IllegalArgumentException naming this type's operations when it has none of that name
   */
  public RegisteredOperation<S, ?, ?> requireOperation(String operationName) {
    RegisteredOperation<S, ?, ?> found = operations.get(operationName);
    if (found == null) {
      throw new IllegalArgumentException(
          "Entity '"
              + name
              + "' has no operation named '"
              + operationName
              + "'; its operations are: "
              + String.join(", ", operations.keySet().stream().sorted().toList())
              + ".");
    }
    return found;
  }

  @Override
  public String toString() {
    return "EntityType[" + name + "]";
  }
}
