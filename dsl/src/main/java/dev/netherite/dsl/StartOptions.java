package dev.netherite.dsl;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

/**
 * How to start an orchestration instance.
 *
 * @param instanceId the id to use, or {@code null} for a new random id
 * @param scheduledStart when to start, or {@code null} for now
 * @param refuseIfExistsWith refuse the start when an instance with this id exists in one of these
 *     statuses; an existing instance in any other status is replaced. {@code null} means the
 *     default: refuse when the existing instance has not ended (PENDING, RUNNING, SUSPENDED).
 */
public record StartOptions(
    InstanceId instanceId, Instant scheduledStart, Set<RuntimeStatus> refuseIfExistsWith) {
  private static final Set<RuntimeStatus> NOT_ENDED =
      Set.copyOf(EnumSet.of(RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED));

  public StartOptions {
    refuseIfExistsWith = refuseIfExistsWith == null ? NOT_ENDED : Set.copyOf(refuseIfExistsWith);
  }

  public static StartOptions defaults() {
    return new StartOptions(null, null, null);
  }

  public static StartOptions withInstanceId(String id) {
    return defaults().instanceId(InstanceId.of(id));
  }

  public StartOptions instanceId(InstanceId id) {
    return new StartOptions(id, scheduledStart, refuseIfExistsWith);
  }

  public StartOptions scheduledAt(Instant start) {
    return new StartOptions(instanceId, start, refuseIfExistsWith);
  }

  public StartOptions refuseIfExistsWith(RuntimeStatus first, RuntimeStatus... more) {
    return new StartOptions(instanceId, scheduledStart, EnumSet.of(first, more));
  }
}
