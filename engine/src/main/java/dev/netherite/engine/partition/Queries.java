package dev.netherite.engine.partition;

import dev.netherite.dsl.RuntimeStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>Answers to client queries, read from the partition's state; they change nothing and are not
 * recorded in the commit log.
 */
final class Queries {
  private final Instances instances;
  private final EntityScheduler entities;

  Queries(Instances instances, EntityScheduler entities) {
    this.instances = instances;
    this.entities = entities;
  }

  ClientResponse answer(ClientQuery q) {
    return switch (q) {
      case ClientQuery.GetStatus g -> {
        InstanceState i = instances.peek(g.instanceId());
        yield new ClientResponse.Status(i == null ? null : i.view(g.withHistory()));
      }
      case ClientQuery.ListInstances l -> list(l);
      case ClientQuery.ReadEntity r -> {
        EntityRecord e = entities.peek(r.entityId());
        yield new ClientResponse.EntityStatus(e == null ? null : e.view());
      }
      case ClientQuery.ListEntities l -> listEntities(l);
    };
  }

  /** One page of the entities that match, in id order, after {@code afterId}. */
  private ClientResponse listEntities(ClientQuery.ListEntities l) {
    List<EntityRecord> matching = new ArrayList<>();
    for (EntityRecord e : entities.all()) {
      String id = e.entityId();
      if ((l.afterId() == null || id.compareTo(l.afterId()) > 0)
          && (l.idPrefix() == null || id.startsWith(l.idPrefix()))) {
        matching.add(e);
      }
    }
    matching.sort(Comparator.comparing(EntityRecord::entityId));
    List<EntityView> page = new ArrayList<>();
    for (int k = 0; k < Math.min(l.limit(), matching.size()); k++) {
      page.add(matching.get(k).view());
    }
    return new ClientResponse.EntityList(page, matching.size() > l.limit());
  }

  /** Messages queued for this partition's entities or in their running batches, for metrics. */
  int entityBacklog() {
    int backlog = 0;
    for (EntityRecord e : entities.all()) {
      backlog += e.backlog();
    }
    return backlog;
  }

  /** One page of the instances that match, in id order, after {@code afterId}. */
  private ClientResponse list(ClientQuery.ListInstances l) {
    List<InstanceState> matching = new ArrayList<>();
    for (InstanceState i : instances.all()) {
      if ((l.afterId() == null || i.instanceId.compareTo(l.afterId()) > 0) && matches(l, i)) {
        matching.add(i);
      }
    }
    matching.sort(Comparator.comparing(i -> i.instanceId));
    List<InstanceView> page = new ArrayList<>();
    for (int k = 0; k < Math.min(l.limit(), matching.size()); k++) {
      page.add(matching.get(k).view(false));
    }
    return new ClientResponse.InstanceList(page, matching.size() > l.limit());
  }

  /** Whether the instance matches the list's filter (its position after {@code afterId} aside). */
  static boolean matches(ClientQuery.ListInstances l, InstanceState i) {
    return (l.statuses().isEmpty() || l.statuses().contains(i.status))
        && (l.createdFrom() == null || !i.createdAt.isBefore(l.createdFrom()))
        && (l.createdTo() == null || i.createdAt.isBefore(l.createdTo()))
        && (l.idPrefix() == null || i.instanceId.startsWith(l.idPrefix()));
  }

  /** Counts of instances by status, for metrics and tests. */
  Map<RuntimeStatus, Integer> statusCounts() {
    Map<RuntimeStatus, Integer> counts = new HashMap<>();
    instances.all().forEach(i -> counts.merge(i.status, 1, Integer::sum));
    return counts;
  }
}
