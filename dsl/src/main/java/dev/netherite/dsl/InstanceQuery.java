package dev.netherite.dsl;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

/**
 * A filter over instances, for {@link DurableClient#list}. Results come in pages of at most {@code
 * pageSize}; pass the page's continuation token to get the next one.
 *
 * @param statuses the statuses to include; empty means all
 * @param createdFrom include instances created at or after this time, or {@code null}
 * @param createdTo include instances created before this time, or {@code null}
 * @param idPrefix include instances whose id starts with this, or {@code null}
 * @param pageSize the most instances in one page, 1 to 10000
 * @param continuationToken where the previous page ended, or {@code null} for the first page
 */
public record InstanceQuery(
    Set<RuntimeStatus> statuses,
    Instant createdFrom,
    Instant createdTo,
    String idPrefix,
    int pageSize,
    String continuationToken) {
  public InstanceQuery {
    statuses = statuses == null ? Set.of() : Set.copyOf(statuses);
    if (pageSize < 1 || pageSize > 10_000) {
      throw new IllegalArgumentException(
          "The page size must be between 1 and 10000, got " + pageSize + ".");
    }
  }

  /** All instances, 100 to a page. */
  public static InstanceQuery all() {
    return new InstanceQuery(Set.of(), null, null, null, 100, null);
  }

  public InstanceQuery withStatuses(RuntimeStatus first, RuntimeStatus... more) {
    return new InstanceQuery(
        EnumSet.of(first, more), createdFrom, createdTo, idPrefix, pageSize, continuationToken);
  }

  public InstanceQuery createdBetween(Instant from, Instant to) {
    return new InstanceQuery(statuses, from, to, idPrefix, pageSize, continuationToken);
  }

  public InstanceQuery withIdPrefix(String prefix) {
    return new InstanceQuery(statuses, createdFrom, createdTo, prefix, pageSize, continuationToken);
  }

  public InstanceQuery withPageSize(int size) {
    return new InstanceQuery(statuses, createdFrom, createdTo, idPrefix, size, continuationToken);
  }

  public InstanceQuery continueAfter(String token) {
    return new InstanceQuery(statuses, createdFrom, createdTo, idPrefix, pageSize, token);
  }
}
