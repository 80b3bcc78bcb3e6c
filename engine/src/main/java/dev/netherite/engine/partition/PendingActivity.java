package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;

/**
 * INTERNAL API: an activity call an orchestration made that has not completed yet; kept so that
 * recovery can start it again.
 */
public record PendingActivity(String activityName, String input) implements WireSerializable {}
