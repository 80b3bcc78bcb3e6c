package dev.netherite.dsl;

import java.util.List;

/**
 * Locks on a set of entities, held by one orchestration from {@link
 * OrchestrationContext#lockEntities} until {@link #close()}. While it holds them, the entities
 * serve only this orchestration; messages from others wait.
 *
 * <p>Rules, enforced by failing the orchestration with a {@link LockRuleViolationException}:
 * sections do not nest; inside a section the orchestration calls only entities it locked, signals
 * none of them, and starts no sub-orchestrations. Locks are also released when the orchestration
 * completes, fails or is terminated.
 */
public interface CriticalSection extends AutoCloseable {

  /** The locked entities, in the order the locks were acquired. */
  List<EntityId> entities();

  /** Releases the locks. Closing twice has no further effect. */
  @Override
  void close();
}
