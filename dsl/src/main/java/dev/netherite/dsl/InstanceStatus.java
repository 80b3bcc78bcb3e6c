package dev.netherite.dsl;

import dev.netherite.dsl.spi.DataConverter;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/** A durable snapshot of an orchestration instance's state, as a client sees it. */
public final class InstanceStatus {
  private final InstanceId instanceId;
  private final String name;
  private final RuntimeStatus runtimeStatus;
  private final Instant createdAt;
  private final Instant lastUpdatedAt;
  private final String serializedInput;
  private final String serializedOutput;
  private final String serializedCustomStatus;
  private final FailureDetails failure;
  private final List<HistoryEvent> history;
  private final DataConverter converter;

  public InstanceStatus(
      InstanceId instanceId,
      String name,
      RuntimeStatus runtimeStatus,
      Instant createdAt,
      Instant lastUpdatedAt,
      String serializedInput,
      String serializedOutput,
      String serializedCustomStatus,
      FailureDetails failure,
      List<HistoryEvent> history,
      DataConverter converter) {
    this.instanceId = Objects.requireNonNull(instanceId);
    this.name = name;
    this.runtimeStatus = runtimeStatus;
    this.createdAt = createdAt;
    this.lastUpdatedAt = lastUpdatedAt;
    this.serializedInput = serializedInput;
    this.serializedOutput = serializedOutput;
    this.serializedCustomStatus = serializedCustomStatus;
    this.failure = failure;
    this.history = history == null ? List.of() : List.copyOf(history);
    this.converter = converter;
  }

  public InstanceId instanceId() {
    return instanceId;
  }

  /** The orchestration's registered name. */
  public String name() {
    return name;
  }

  public RuntimeStatus runtimeStatus() {
    return runtimeStatus;
  }

  public Instant createdAt() {
    return createdAt;
  }

  public Instant lastUpdatedAt() {
    return lastUpdatedAt;
  }

  /** The output of a COMPLETED instance, read as {@code type}; {@code null} otherwise. */
  public <T> T output(Class<T> type) {
    return converter.deserialize(serializedOutput, type);
  }

  /** The input, read as {@code type}. */
  public <T> T input(Class<T> type) {
    return converter.deserialize(serializedInput, type);
  }

  /** The custom status last set by the orchestration, read as {@code type}. */
  public <T> T customStatus(Class<T> type) {
    return converter.deserialize(serializedCustomStatus, type);
  }

  public String serializedInput() {
    return serializedInput;
  }

  public String serializedOutput() {
    return serializedOutput;
  }

  public String serializedCustomStatus() {
    return serializedCustomStatus;
  }

  /** Why a FAILED instance failed; {@code null} otherwise. */
  public FailureDetails failure() {
    return failure;
  }

  /** The history of the current execution, when it was asked for; otherwise empty. */
  public List<HistoryEvent> history() {
    return history;
  }

  @Override
  public String toString() {
    return "InstanceStatus{"
        + instanceId
        + ", "
        + name
        + ", "
        + runtimeStatus
        + (serializedOutput != null ? ", output=" + serializedOutput : "")
        + (failure != null ? ", failure=" + failure : "")
        + "}";
  }
}
