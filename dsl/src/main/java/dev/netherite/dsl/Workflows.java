package dev.netherite.dsl;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The application: the orchestrations, activities and entities a node can run, by name. Build it
 * once and give it to the runtime; every node of a cluster should be given the same application.
 */
public final class Workflows {

  /** An orchestration bound to its implementation. */
  public record RegisteredOrchestration<I, O>(
      OrchestrationRef<I, O> ref, Orchestration<I, O> implementation) {}

  /** An activity bound to its implementation, and how it runs. */
  public record RegisteredActivity<I, O>(
      ActivityRef<I, O> ref, Activity<I, O> implementation, ActivityOptions options) {
    /** The kind of thread it runs on. */
    public ActivityThread thread() {
      return options.thread();
    }
  }

  private final Map<String, RegisteredOrchestration<?, ?>> orchestrations;
  private final Map<String, RegisteredActivity<?, ?>> activities;
  private final Map<String, EntityType<?>> entities;

  private Workflows(Builder builder) {
    this.orchestrations = Map.copyOf(builder.orchestrations);
    this.activities = Map.copyOf(builder.activities);
    this.entities = Map.copyOf(builder.entities);
  }

  public static Builder builder() {
    return new Builder();
  }

  public Optional<RegisteredOrchestration<?, ?>> orchestration(String name) {
    return Optional.ofNullable(orchestrations.get(name));
  }

  /** The registered orchestrations, by name. */
  public SortedMap<String, RegisteredOrchestration<?, ?>> orchestrations() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(orchestrations));
  }

  /** The registered entity types, by name. */
  public SortedMap<String, EntityType<?>> entities() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(entities));
  }

  public Optional<RegisteredActivity<?, ?>> activity(String name) {
    return Optional.ofNullable(activities.get(name));
  }

  /**
   * The orchestration registered under {@code name}.
   *
   * @throws IllegalArgumentException naming the registered orchestrations when there is none of
   *     that name
   */
  public RegisteredOrchestration<?, ?> requireOrchestration(String name) {
    RegisteredOrchestration<?, ?> found = orchestrations.get(name);
    if (found == null) {
      throw new IllegalArgumentException(
          "No orchestration named '"
              + name
              + "' is registered; registered names are: "
              + String.join(", ", orchestrations.keySet().stream().sorted().toList())
              + ".");
    }
    return found;
  }

  public Optional<EntityType<?>> entity(String name) {
    return Optional.ofNullable(entities.get(name));
  }

  /**
   * The entity type registered under {@code name}.
   *
   * @throws IllegalArgumentException naming the registered entity types when there is none of that
   *     name
   */
  public EntityType<?> requireEntity(String name) {
    EntityType<?> found = entities.get(name);
    if (found == null) {
      throw new IllegalArgumentException(
          "No entity named '"
              + name
              + "' is registered; registered entities are: "
              + entityNames()
              + ".");
    }
    return found;
  }

  /** The names of the registered entity types, for error messages; "(none)" when there are none. */
  public String entityNames() {
    return entities.isEmpty()
        ? "(none)"
        : String.join(", ", entities.keySet().stream().sorted().toList());
  }

  /** The names of the registered activities, for error messages. */
  public String activityNames() {
    return String.join(", ", activities.keySet().stream().sorted().toList());
  }

  public static final class Builder {
    private final Map<String, RegisteredOrchestration<?, ?>> orchestrations = new LinkedHashMap<>();
    private final Map<String, RegisteredActivity<?, ?>> activities = new LinkedHashMap<>();
    private final Map<String, EntityType<?>> entities = new LinkedHashMap<>();

    private Builder() {}

    public <I, O> Builder orchestration(
        OrchestrationRef<I, O> ref, Orchestration<I, O> implementation) {
      Objects.requireNonNull(implementation, "implementation");
      if (orchestrations.putIfAbsent(ref.name(), new RegisteredOrchestration<>(ref, implementation))
          != null) {
        throw new IllegalArgumentException(
            "An orchestration named '" + ref.name() + "' is already registered.");
      }
      return this;
    }

    /** Registers an activity that runs on a virtual thread ({@link ActivityThread#VIRTUAL}). */
    public <I, O> Builder activity(ActivityRef<I, O> ref, Activity<I, O> implementation) {
      return activity(ref, implementation, ActivityThread.VIRTUAL);
    }

    /**
     * Registers an activity that runs on the given kind of thread: {@link ActivityThread#PLATFORM}
     * for one that computes for long without blocking.
     */
    public <I, O> Builder activity(
        ActivityRef<I, O> ref, Activity<I, O> implementation, ActivityThread thread) {
      Objects.requireNonNull(thread, "thread");
      return activity(ref, implementation, ActivityOptions.defaults().withThread(thread));
    }

    /**
     * Registers an activity with options: the kind of thread, and timeouts for each attempt (see
     * {@link ActivityOptions}).
     */
    public <I, O> Builder activity(
        ActivityRef<I, O> ref, Activity<I, O> implementation, ActivityOptions options) {
      Objects.requireNonNull(implementation, "implementation");
      Objects.requireNonNull(options, "options");
      if (activities.putIfAbsent(ref.name(), new RegisteredActivity<>(ref, implementation, options))
          != null) {
        throw new IllegalArgumentException(
            "An activity named '" + ref.name() + "' is already registered.");
      }
      return this;
    }

    public Builder entity(EntityType<?> type) {
      Objects.requireNonNull(type, "type");
      if (entities.putIfAbsent(type.name(), type) != null) {
        throw new IllegalArgumentException(
            "An entity named '" + type.name() + "' is already registered.");
      }
      return this;
    }

    public Workflows build() {
      return new Workflows(this);
    }
  }
}
