package dev.netherite.dsl;

import java.util.List;

/**
 * One page of a {@link DurableClient#list} result.
 *
 * @param instances the instances of this page, without history
 * @param continuationToken the token for the next page, or {@code null} when this is the last page
 */
public record InstancePage(List<InstanceStatus> instances, String continuationToken) {
  public InstancePage {
    instances = List.copyOf(instances);
  }

  public boolean hasMore() {
    return continuationToken != null;
  }
}
