package dev.netherite.dsl;

import java.util.List;

/**
 * One page of a {@link DurableClient#listEntities} result.
 *
 * @param entities the entities of this page: state, lock holder and backlog
 * @param continuationToken the token for the next page, or {@code null} when this is the last page
 * @param <S> the state type the entities were read as
 */
public record EntityPage<S>(List<EntityState<S>> entities, String continuationToken) {
  public EntityPage {
    entities = List.copyOf(entities);
  }

  public boolean hasMore() {
    return continuationToken != null;
  }
}
