package dev.netherite.dsl;

import java.util.Optional;

/**
 * A client's view of an entity, as of its partition's last durable write.
 *
 * @param exists whether the entity has state
 * @param state the state, or null when it has none
 * @param lockedBy the id of the orchestration instance holding the entity's lock, or null
 * @param backlog how many messages (operations, lock and unlock requests) wait for or are in the
 *     running batch
 * @param <S> the state type
 */
public record EntityState<S>(EntityId id, boolean exists, S state, String lockedBy, int backlog) {
  public Optional<S> stateIfExists() {
    return Optional.ofNullable(state);
  }

  public boolean isLocked() {
    return lockedBy != null;
  }
}
