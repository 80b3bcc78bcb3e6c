package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;

/**
 * INTERNAL API: who holds (or asks for) an entity's lock: one critical section, named by the
 * orchestration execution that opened it and the task id of its lock request. A later section of
 * the same execution is a different owner, so a late release of an earlier section can never
 * release a later one.
 */
public record LockOwner(String instanceId, String executionId, int taskId)
    implements WireSerializable {}
