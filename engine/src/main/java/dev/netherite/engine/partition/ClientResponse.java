package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.List;

/** INTERNAL API: a partition's answer to a client. */
public sealed interface ClientResponse extends WireSerializable {

  record Started(String instanceId) implements ClientResponse {}

  record Accepted() implements ClientResponse {}

  record Purged(boolean deleted) implements ClientResponse {}

  /**
   * What a purge sweep of one partition removed so far; {@code resumeAfter} is null when it reached
   * the partition's last instance, or the id to continue after.
   */
  record PurgeProgress(int purged, String resumeAfter) implements ClientResponse {}

  record Rejected(Reason reason, String message) implements ClientResponse {}

  enum Reason {
    ALREADY_EXISTS,
    NOT_FOUND,
    INVALID_STATE,
    /** The store is unavailable; answered by the partition's supervisor, nothing was recorded. */
    STORE_UNAVAILABLE,
    /**
     * In the {@code global} persistence mode, the partition took back speculative work that this
     * request was recorded in (it depended on a step another partition lost): nothing of it
     * remains. Retryable: the client sends it again with the same request id.
     */
    ROLLED_BACK
  }

  record Status(InstanceView view) implements ClientResponse {}

  /**
   * A page of one partition; {@code more} when instances matching the filter remain after the last
   * one.
   */
  record InstanceList(List<InstanceView> instances, boolean more) implements ClientResponse {}

  /**
   * An entity's view, or null when the entity does not exist (no state, no lock, nothing queued).
   */
  record EntityStatus(EntityView view) implements ClientResponse {}

  /**
   * A page of one partition's entities; {@code more} when entities matching the filter remain after
   * the last one.
   */
  record EntityList(List<EntityView> entities, boolean more) implements ClientResponse {}
}
