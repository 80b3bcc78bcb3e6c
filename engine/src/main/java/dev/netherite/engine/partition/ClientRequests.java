package dev.netherite.engine.partition;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.ClientRequest.Purge;
import dev.netherite.engine.partition.ClientRequest.RaiseEvent;
import dev.netherite.engine.partition.ClientRequest.Resume;
import dev.netherite.engine.partition.ClientRequest.SignalEntity;
import dev.netherite.engine.partition.ClientRequest.StartOrchestration;
import dev.netherite.engine.partition.ClientRequest.Suspend;
import dev.netherite.engine.partition.ClientRequest.Terminate;
import dev.netherite.engine.partition.ClientResponse.Reason;
import dev.netherite.engine.partition.PartitionEvent.ClientRequestReceived;
import dev.netherite.engine.partition.PartitionMessage.EntityOperationRequested;
import java.time.Instant;
import java.util.List;

/**
 * INTERNAL API
 *
 * <p>What a partition answers to client requests: it checks each against the instance it names, has
 * {@link Instances} carry it out, and answers with a {@link ClientResponse} (a refusal says in a
 * sentence what was wrong). A request id answered before gets the same answer again from the {@link
 * RequestLog} and takes no effect a second time.
 */
final class ClientRequests {
  private final RequestLog log;
  private final Instances instances;
  private final MessageRouter router;

  ClientRequests(RequestLog log, Instances instances, MessageRouter router) {
    this.log = log;
    this.instances = instances;
    this.router = router;
  }

  void receive(ClientRequestReceived e, List<Effect> effects) {
    ClientResponse earlier = log.answerOf(e.requestId());
    if (earlier != null) {
      effects.add(new Effect.ReplyToClient(e.requestId(), earlier));
      return;
    }
    Instant now = e.timestamp();
    ClientResponse response =
        switch (e.request()) {
          case StartOrchestration s -> start(e.requestId(), s, now, effects);
          case RaiseEvent r -> raiseEvent(r, now, effects);
          case Terminate t -> terminate(t, now, effects);
          case Suspend s -> suspend(s, now);
          case Resume r -> resume(r, now, effects);
          case Purge p -> purge(p, effects);
          case SignalEntity s -> {
            router.deliverHere(
                new EntityOperationRequested(
                    s.entityId(), s.operation(), s.input(), null, null, 0, null),
                now,
                effects);
            yield new ClientResponse.Accepted();
          }
        };
    log.record(e.requestId(), response);
    effects.add(new Effect.ReplyToClient(e.requestId(), response));
  }

  private ClientResponse start(
      String requestId, StartOrchestration s, Instant now, List<Effect> effects) {
    InstanceState existing = instances.get(s.instanceId());
    if (existing != null
        && existing.status.isTerminal()
        && PartitionState.instanceNeeded(s) == null) {
      // Replaced, as if it were not there: an ended instance may have left memory, and this start
      // must come out the same either way (a retry of the start that created it is answered from
      // the request log while it holds the request).
      instances.remove(existing, effects);
    } else if (existing != null) {
      if (requestId.equals(existing.createRequestId)) {
        return new ClientResponse.Started(s.instanceId());
      }
      if (s.refuseIfExistsWith().contains(existing.status) || !existing.status.isTerminal()) {
        return new ClientResponse.Rejected(
            Reason.ALREADY_EXISTS,
            "An instance with id '"
                + s.instanceId()
                + "' already exists with status "
                + existing.status
                + (existing.status.isTerminal()
                    ? "; the start options refuse to replace it."
                    : "; an instance that has not ended cannot be replaced: terminate it first, or use another id."));
      }
      instances.remove(existing, effects);
    }
    instances.start(
        s.instanceId(),
        s.orchestrationName(),
        s.input(),
        requestId,
        s.scheduledStart(),
        now,
        effects);
    return new ClientResponse.Started(s.instanceId());
  }

  private ClientResponse raiseEvent(RaiseEvent r, Instant now, List<Effect> effects) {
    InstanceState i = instances.get(r.instanceId());
    if (i == null) {
      return notFound(r.instanceId());
    }
    if (i.status.isTerminal()) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + r.instanceId()
              + "' has ended with status "
              + i.status
              + "; it takes no more events.");
    }
    instances.raiseEvent(i, r.eventName(), r.input(), now, effects);
    return new ClientResponse.Accepted();
  }

  private ClientResponse terminate(Terminate t, Instant now, List<Effect> effects) {
    InstanceState i = instances.get(t.instanceId());
    if (i == null) {
      return notFound(t.instanceId());
    }
    if (!i.status.isTerminal()) {
      instances.terminate(i, t.reason(), now, effects);
    }
    return new ClientResponse.Accepted();
  }

  private ClientResponse suspend(Suspend s, Instant now) {
    InstanceState i = instances.get(s.instanceId());
    if (i == null) {
      return notFound(s.instanceId());
    }
    if (i.status == RuntimeStatus.RUNNING) {
      instances.suspend(i, s.reason(), now);
    } else if (i.status != RuntimeStatus.SUSPENDED) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + s.instanceId()
              + "' is "
              + i.status
              + "; only a running instance can be suspended.");
    }
    return new ClientResponse.Accepted();
  }

  private ClientResponse resume(Resume r, Instant now, List<Effect> effects) {
    InstanceState i = instances.get(r.instanceId());
    if (i == null) {
      return notFound(r.instanceId());
    }
    if (i.status == RuntimeStatus.SUSPENDED) {
      instances.resume(i, r.reason(), now, effects);
    } else if (i.status != RuntimeStatus.RUNNING) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + r.instanceId()
              + "' is "
              + i.status
              + "; only a suspended instance can be resumed.");
    }
    return new ClientResponse.Accepted();
  }

  private ClientResponse purge(Purge p, List<Effect> effects) {
    InstanceState i = instances.get(p.instanceId());
    if (i == null) {
      return new ClientResponse.Purged(false);
    }
    if (!i.status.isTerminal()) {
      return new ClientResponse.Rejected(
          Reason.INVALID_STATE,
          "Instance '"
              + p.instanceId()
              + "' is "
              + i.status
              + "; only an instance that has ended can be purged.");
    }
    instances.remove(i, effects);
    return new ClientResponse.Purged(true);
  }

  private static ClientResponse notFound(String instanceId) {
    return new ClientResponse.Rejected(
        Reason.NOT_FOUND, "There is no instance with id '" + instanceId + "'.");
  }
}
