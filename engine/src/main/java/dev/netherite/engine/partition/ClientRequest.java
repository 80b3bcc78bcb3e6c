package dev.netherite.engine.partition;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.WireSerializable;
import java.time.Instant;
import java.util.Set;

/**
 * INTERNAL API: a client request that changes a partition's state; it is recorded in the commit
 * log.
 */
public sealed interface ClientRequest extends WireSerializable {
  /** The instance (or entity) the request is about; it decides the partition. */
  String targetId();

  record StartOrchestration(
      String instanceId,
      String orchestrationName,
      String input,
      Instant scheduledStart,
      Set<RuntimeStatus> refuseIfExistsWith)
      implements ClientRequest {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  record RaiseEvent(String instanceId, String eventName, String input) implements ClientRequest {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  record Terminate(String instanceId, String reason) implements ClientRequest {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  record Suspend(String instanceId, String reason) implements ClientRequest {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  record Resume(String instanceId, String reason) implements ClientRequest {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  record Purge(String instanceId) implements ClientRequest {
    @Override
    public String targetId() {
      return instanceId;
    }
  }

  /** A one-way operation for an entity. */
  record SignalEntity(String entityId, String operation, String input) implements ClientRequest {
    @Override
    public String targetId() {
      return entityId;
    }
  }
}
