package dev.netherite.engine.partition;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.WireSerializable;
import java.time.Instant;
import java.util.Set;

/** INTERNAL API: a read-only client request; not recorded, answered from state that is durable. */
public sealed interface ClientQuery extends WireSerializable {

  record GetStatus(String instanceId, boolean withHistory) implements ClientQuery {}

  /**
   * Instances of one partition matching the filter, in id order, after {@code afterId}, at most
   * {@code limit}.
   */
  record ListInstances(
      Set<RuntimeStatus> statuses,
      Instant createdFrom,
      Instant createdTo,
      String idPrefix,
      String afterId,
      int limit)
      implements ClientQuery {}

  record ReadEntity(String entityId) implements ClientQuery {}

  /**
   * Entities of one partition whose id starts with {@code idPrefix} (null: all), in id order, after
   * {@code afterId}, at most {@code limit}.
   */
  record ListEntities(String idPrefix, String afterId, int limit) implements ClientQuery {}
}
