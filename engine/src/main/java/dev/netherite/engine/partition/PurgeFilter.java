package dev.netherite.engine.partition;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.WireSerializable;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

/**
 * INTERNAL API
 *
 * <p>Which ended instances a purge sweep removes: those whose status is one of {@code statuses}
 * (only terminal ones are kept: an instance that has not ended is never purged), created in {@code
 * [createdFrom, createdTo)}, whose id starts with {@code idPrefix}, and last updated (for an ended
 * instance: when it ended) before {@code endedBefore}; a null bound does not restrict.
 */
public record PurgeFilter(
    Set<RuntimeStatus> statuses,
    Instant createdFrom,
    Instant createdTo,
    String idPrefix,
    Instant endedBefore)
    implements WireSerializable {

  public PurgeFilter {
    EnumSet<RuntimeStatus> ended = EnumSet.noneOf(RuntimeStatus.class);
    for (RuntimeStatus s : statuses) {
      if (s.isTerminal()) {
        ended.add(s);
      }
    }
    statuses = Set.copyOf(ended);
  }

  /** Every terminal status, or those of {@code asked} (none asked: all of them). */
  public static Set<RuntimeStatus> endedStatuses(Set<RuntimeStatus> asked) {
    EnumSet<RuntimeStatus> ended = EnumSet.noneOf(RuntimeStatus.class);
    for (RuntimeStatus s : RuntimeStatus.values()) {
      if (s.isTerminal() && (asked.isEmpty() || asked.contains(s))) {
        ended.add(s);
      }
    }
    return ended;
  }

  /** The filter of retention: every ended instance that ended before {@code endedBefore}. */
  public static PurgeFilter endedBefore(Instant endedBefore) {
    return new PurgeFilter(endedStatuses(Set.of()), null, null, null, endedBefore);
  }

  /** Whether the filter matches nothing (no terminal status asked for). */
  public boolean matchesNothing() {
    return statuses.isEmpty();
  }

  /** Whether the instance has ended and matches; reads only the instance given (any thread). */
  public boolean matches(InstanceState i) {
    return i.status.isTerminal()
        && statuses.contains(i.status)
        && (createdFrom == null || !i.createdAt.isBefore(createdFrom))
        && (createdTo == null || i.createdAt.isBefore(createdTo))
        && (idPrefix == null || i.instanceId.startsWith(idPrefix))
        && (endedBefore == null || i.lastUpdatedAt.isBefore(endedBefore));
  }
}
