package dev.netherite.runtime.internal;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.DurableTimeoutException;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityPage;
import dev.netherite.dsl.EntityQuery;
import dev.netherite.dsl.EntityState;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.InstanceAlreadyExistsException;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceNotFoundException;
import dev.netherite.dsl.InstancePage;
import dev.netherite.dsl.InstanceQuery;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.StoreUnavailableException;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConversionException;
import dev.netherite.engine.PayloadLimits;
import dev.netherite.engine.RoundTripCheck;
import dev.netherite.engine.partition.ClientQuery;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.EntityView;
import dev.netherite.engine.partition.InstanceView;
import dev.netherite.engine.partition.PurgeFilter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * INTERNAL API
 *
 * <p>The client, usable from any node: requests go through Cluster Sharding to the partition of
 * their instance. A request without an answer within the attempt timeout is sent again with the
 * same request id (the partition answers a repeated id with its first answer), until the request
 * timeout; so is one that the partition answers with a rollback (global persistence mode).
 */
public final class ShardedDurableClient implements DurableClient {
  /** How long a request answered with a rollback waits before it is sent again. */
  private static final Duration ROLLBACK_RETRY_PAUSE = Duration.ofMillis(20);

  private final NodeServices node;

  public ShardedDurableClient(NodeServices node) {
    this.node = node;
  }

  @Override
  public <I, O> InstanceId start(
      OrchestrationRef<I, O> orchestration, I input, StartOptions options) {
    required(orchestration, "start", "orchestration");
    required(options, "start", "options");
    Workflows.RegisteredOrchestration<?, ?> registered =
        node.workflows().requireOrchestration(orchestration.name());
    if (!registered.ref().inputType().equals(orchestration.inputType())) {
      throw new IllegalArgumentException(
          "Orchestration '"
              + orchestration.name()
              + "' is registered with input type "
              + registered.ref().inputType().getSimpleName()
              + ", but the reference used to start it says "
              + orchestration.inputType().getSimpleName()
              + ".");
    }
    return start(orchestration.name(), input, options);
  }

  @Override
  public InstanceId start(String orchestrationName, Object input, StartOptions options) {
    required(orchestrationName, "start", "orchestrationName");
    required(options, "start", "options");
    Workflows.RegisteredOrchestration<?, ?> registered =
        node.workflows().requireOrchestration(orchestrationName);
    String serialized =
        serializeInput(
            "orchestration '" + orchestrationName + "'", registered.ref().inputType(), input);
    InstanceId id = options.instanceId() != null ? options.instanceId() : InstanceId.random();
    ClientResponse response =
        request(
            new ClientRequest.StartOrchestration(
                id.value(),
                orchestrationName,
                serialized,
                options.scheduledStart(),
                options.refuseIfExistsWith()));
    expectSuccess(response);
    return id;
  }

  @Override
  public InstanceStatus waitForCompletion(InstanceId instanceId, Duration timeout) {
    required(instanceId, "waitForCompletion", "instanceId");
    required(timeout, "waitForCompletion", "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException(
          "The argument 'timeout' of DurableClient.waitForCompletion must not be negative; it was "
              + timeout
              + ".");
    }
    Instant deadline = Instant.now().plus(timeout);
    boolean asked = false;
    while (true) {
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.isNegative() || left.isZero()) {
        if (!asked) {
          // Not even one wait fitted in the timeout: an instance that has ended is still answered.
          return endedStatus(instanceId, timeout);
        }
        throw timedOut(instanceId, timeout);
      }
      asked = true;
      // Ask in slices: a partition that moves or restarts forgets its waiters, so the wait is
      // registered again.
      Duration slice = left.compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10) : left;
      ClientResponse response;
      try {
        response =
            ask(
                node.placement().partitionOf(instanceId.value()),
                replyTo -> new PartitionCommand.AwaitCompletion(instanceId.value(), replyTo),
                slice);
      } catch (TimeoutException e) {
        continue;
      }
      if (isRolledBack(response)) {
        // the partition restarts from what is committed: the wait is registered again there
        RuntimeMetrics.global()
            .partition(node.placement().partitionOf(instanceId.value()))
            .clientRetriedAfterRollback();
        pauseBeforeRetry();
        continue;
      }
      InstanceView view = ((ClientResponse.Status) response).view();
      if (view == null) {
        throw new InstanceNotFoundException("There is no instance with id '" + instanceId + "'.");
      }
      return toStatus(view);
    }
  }

  private InstanceStatus endedStatus(InstanceId instanceId, Duration timeout) {
    InstanceStatus status =
        getStatus(instanceId)
            .orElseThrow(
                () ->
                    new InstanceNotFoundException(
                        "There is no instance with id '" + instanceId + "'."));
    if (!status.runtimeStatus().isTerminal()) {
      throw timedOut(instanceId, timeout);
    }
    return status;
  }

  private static DurableTimeoutException timedOut(InstanceId instanceId, Duration timeout) {
    return new DurableTimeoutException(
        "Instance '" + instanceId + "' did not complete within " + timeout + ".");
  }

  @Override
  public Optional<InstanceStatus> getStatus(InstanceId instanceId, boolean withHistory) {
    required(instanceId, "getStatus", "instanceId");
    ClientResponse response =
        query(
            node.placement().partitionOf(instanceId.value()),
            new ClientQuery.GetStatus(instanceId.value(), withHistory));
    InstanceView view = ((ClientResponse.Status) response).view();
    return Optional.ofNullable(view).map(this::toStatus);
  }

  @Override
  public void raiseEvent(InstanceId instanceId, String eventName, Object payload) {
    required(instanceId, "raiseEvent", "instanceId");
    required(eventName, "raiseEvent", "eventName");
    if (eventName.isBlank()) {
      throw new IllegalArgumentException(
          "The argument 'eventName' of DurableClient.raiseEvent must not be blank; pass the name"
              + " the orchestration waits for.");
    }
    String what = "the payload of event '" + eventName + "'";
    String serialized;
    try {
      serialized = node.converter().serialize(payload);
    } catch (DataConversionException e) {
      throw new IllegalArgumentException(
          "The payload of event '" + eventName + "' cannot be serialized: " + e.getMessage(), e);
    }
    node.settings().payloadLimits().require(PayloadLimits.Kind.EVENT_PAYLOAD, what, serialized);
    if (payload != null) {
      RoundTripCheck.verify(
          node.converter(),
          payload.getClass(),
          RoundTripCheck.readTypeOf(payload),
          serialized,
          what);
    }
    expectSuccess(request(new ClientRequest.RaiseEvent(instanceId.value(), eventName, serialized)));
  }

  @Override
  public void terminate(InstanceId instanceId, String reason) {
    required(instanceId, "terminate", "instanceId");
    expectSuccess(request(new ClientRequest.Terminate(instanceId.value(), reason)));
  }

  @Override
  public void suspend(InstanceId instanceId, String reason) {
    required(instanceId, "suspend", "instanceId");
    expectSuccess(request(new ClientRequest.Suspend(instanceId.value(), reason)));
  }

  @Override
  public void resume(InstanceId instanceId, String reason) {
    required(instanceId, "resume", "instanceId");
    expectSuccess(request(new ClientRequest.Resume(instanceId.value(), reason)));
  }

  @Override
  public boolean purge(InstanceId instanceId) {
    required(instanceId, "purge", "instanceId");
    ClientResponse response = request(new ClientRequest.Purge(instanceId.value()));
    expectSuccess(response);
    return ((ClientResponse.Purged) response).deleted();
  }

  /**
   * One purge sweep per partition, run inside the partition in batches of {@code
   * netherite.purge.batch-size}; the counts are summed. A sweep that runs long answers with where
   * it stopped (so that no request outlasts the attempt timeout), and is sent again from there.
   */
  @Override
  public int purge(InstanceQuery query) {
    required(query, "purge", "query");
    PurgeFilter filter =
        new PurgeFilter(
            PurgeFilter.endedStatuses(query.statuses()),
            query.createdFrom(),
            query.createdTo(),
            query.idPrefix(),
            null);
    if (filter.matchesNothing()) {
      return 0;
    }
    int purged = 0;
    for (int partition = 0; partition < node.settings().partitionCount(); partition++) {
      String afterId = null;
      do {
        String requestId = UUID.randomUUID().toString();
        String after = afterId;
        ClientResponse response =
            withRetries(
                partition,
                replyTo -> new PartitionCommand.PurgeSweep(requestId, filter, after, replyTo));
        expectSuccess(response);
        ClientResponse.PurgeProgress progress = (ClientResponse.PurgeProgress) response;
        purged += progress.purged();
        afterId = progress.resumeAfter();
      } while (afterId != null);
    }
    return purged;
  }

  @Override
  public <I> void signalEntity(EntityId entity, EntityOp<I, ?> operation, I input) {
    required(entity, "signalEntity", "entity");
    required(operation, "signalEntity", "operation");
    EntityType<?> type = node.workflows().requireEntity(entity.name());
    EntityOp<?, ?> registered = type.requireOperation(operation.name()).ref();
    String serialized =
        serializeInput(
            "operation '" + operation.name() + "' of entity '" + entity.name() + "'",
            registered.inputType(),
            input);
    expectSuccess(
        request(new ClientRequest.SignalEntity(entity.toString(), operation.name(), serialized)));
  }

  @Override
  public <S> EntityState<S> readEntity(EntityId entity, Class<S> stateType) {
    required(entity, "readEntity", "entity");
    required(stateType, "readEntity", "stateType");
    ClientResponse response =
        query(
            node.placement().partitionOf(entity.toString()),
            new ClientQuery.ReadEntity(entity.toString()));
    EntityView view = ((ClientResponse.EntityStatus) response).view();
    if (view == null) {
      return new EntityState<>(entity, false, null, null, 0);
    }
    return toEntityState(entity, view, stateType);
  }

  private <S> EntityState<S> toEntityState(EntityId entity, EntityView view, Class<S> stateType) {
    S state = view.state() == null ? null : node.converter().deserialize(view.state(), stateType);
    return new EntityState<>(entity, view.state() != null, state, view.lockedBy(), view.backlog());
  }

  /**
   * Pages walk the partitions in order, as {@link #list}; the token is {@code partition:lastId}.
   */
  @Override
  public <S> EntityPage<S> listEntities(EntityQuery query, Class<S> stateType) {
    required(query, "listEntities", "query");
    required(stateType, "listEntities", "stateType");
    int count = node.settings().partitionCount();
    int partition = 0;
    String afterId = null;
    String token = query.continuationToken();
    if (token != null) {
      int colon = token.indexOf(':');
      try {
        partition = Integer.parseInt(token.substring(0, colon));
      } catch (RuntimeException e) {
        partition = -1;
      }
      if (partition < 0 || partition >= count) {
        throw new IllegalArgumentException(
            "'"
                + token
                + "' is not a continuation token of DurableClient.listEntities (the form is"
                + " partition:lastId, with a partition from 0 to "
                + (count - 1)
                + "). Pass the token of the previous page as it was returned.");
      }
      afterId = token.substring(colon + 1);
      if (afterId.isEmpty()) {
        afterId = null;
      }
    }
    List<EntityState<S>> page = new ArrayList<>();
    for (; partition < count; partition++, afterId = null) {
      int want = query.pageSize() - page.size();
      ClientResponse.EntityList result =
          (ClientResponse.EntityList)
              query(partition, new ClientQuery.ListEntities(query.idPrefix(), afterId, want));
      for (EntityView v : result.entities()) {
        page.add(toEntityState(EntityId.parse(v.entityId()), v, stateType));
      }
      if (page.size() >= query.pageSize()) {
        boolean more = result.more() || partition < count - 1;
        String last = page.get(page.size() - 1).id().toString();
        return new EntityPage<>(
            page, more ? (result.more() ? partition + ":" + last : (partition + 1) + ":") : null);
      }
    }
    return new EntityPage<>(page, null);
  }

  /** Pages walk the partitions in order; the token is {@code partition:lastId}. */
  @Override
  public InstancePage list(InstanceQuery query) {
    required(query, "list", "query");
    int count = node.settings().partitionCount();
    int partition = 0;
    String afterId = null;
    if (query.continuationToken() != null) {
      String token = query.continuationToken();
      int colon = token.indexOf(':');
      try {
        partition = Integer.parseInt(token.substring(0, colon));
      } catch (RuntimeException e) {
        partition = -1;
      }
      if (partition < 0 || partition >= node.settings().partitionCount()) {
        throw new IllegalArgumentException(
            "'" + token + "' is not a continuation token of this client.");
      }
      if (partition < 0 || partition >= count) {
        throw new IllegalArgumentException(
            "'"
                + token
                + "' is not a continuation token of this client: it names partition "
                + partition
                + ", and this task hub has partitions 0 to "
                + (count - 1)
                + ". Pass the token of the previous page as it was returned.");
      }
      afterId = token.substring(colon + 1);
    }
    List<InstanceStatus> page = new ArrayList<>();
    for (; partition < count; partition++, afterId = null) {
      int want = query.pageSize() - page.size();
      ClientResponse.InstanceList result =
          (ClientResponse.InstanceList)
              query(
                  partition,
                  new ClientQuery.ListInstances(
                      query.statuses(),
                      query.createdFrom(),
                      query.createdTo(),
                      query.idPrefix(),
                      afterId,
                      want));
      result.instances().forEach(v -> page.add(toStatus(v)));
      if (page.size() >= query.pageSize()) {
        boolean more = result.more() || partition < count - 1;
        String last = page.get(page.size() - 1).instanceId().value();
        return new InstancePage(
            page, more ? (result.more() ? partition + ":" + last : (partition + 1) + ":") : null);
      }
    }
    return new InstancePage(page, null);
  }

  // ---------------------------------------------------------------- plumbing

  private ClientResponse request(ClientRequest request) {
    String requestId = UUID.randomUUID().toString();
    int partition = node.placement().partitionOf(request.targetId());
    return withRetries(
        partition, replyTo -> new PartitionCommand.ClientCommand(requestId, request, replyTo));
  }

  private ClientResponse query(int partition, ClientQuery query) {
    return withRetries(partition, replyTo -> new PartitionCommand.QueryCommand(query, replyTo));
  }

  private ClientResponse withRetries(
      int partition, Function<ActorRef<ClientResponse>, PartitionCommand> message) {
    Instant deadline = Instant.now().plus(node.settings().clientRequestTimeout());
    int rolledBack = 0;
    while (true) {
      try {
        ClientResponse response = ask(partition, message, node.settings().clientAttemptTimeout());
        if (!isRolledBack(response)) {
          return response;
        }
        // The partition took back the speculative work the request was in and restarts: the same
        // command (same request id) is sent again, after a pause that lets it recover.
        rolledBack++;
        RuntimeMetrics.global().partition(partition).clientRetriedAfterRollback();
        pauseBeforeRetry();
      } catch (TimeoutException e) {
        System.out.println(
            "TRACE attempt timeout " + partition + " " + System.nanoTime() / 1000000);
        // no answer in time: sent again below, as after a rollback
      }
      if (Instant.now().isAfter(deadline)) {
        throw new DurableTimeoutException(
            "Partition "
                + partition
                + (rolledBack == 0
                    ? " did not answer within "
                    : " took back the speculative work this request was part of "
                        + rolledBack
                        + " times and gave no final answer within ")
                + node.settings().clientRequestTimeout()
                + " (netherite.client.request-timeout); the outcome of the request is unknown."
                + (rolledBack == 0
                    ? " Is the node that hosts it up and reachable from this one?"
                    : " A partition it depends on may be down or failing its writes; its log"
                        + " says why it rolled back."));
      }
    }
  }

  /**
   * A retryable answer of the global persistence mode: the partition took back the speculative work
   * this request was part of. Never shown to the caller; the request is sent again.
   */
  private static boolean isRolledBack(ClientResponse response) {
    return response instanceof ClientResponse.Rejected r
        && r.reason() == ClientResponse.Reason.ROLLED_BACK;
  }

  private static void pauseBeforeRetry() {
    try {
      Thread.sleep(ROLLBACK_RETRY_PAUSE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DurableTimeoutException("Interrupted while retrying a request.");
    }
  }

  private ClientResponse ask(
      int partition, Function<ActorRef<ClientResponse>, PartitionCommand> message, Duration timeout)
      throws TimeoutException {
    CompletionStage<ClientResponse> answer = node.askPartition(partition, message, timeout);
    ClientResponse response;
    try {
      response = answer.toCompletableFuture().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TimeoutException t) {
        throw t;
      }
      throw new IllegalStateException("partition=" + partition + " request failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DurableTimeoutException(
          "Interrupted while waiting for partition " + partition + ".");
    }
    if (response instanceof ClientResponse.Rejected r
        && r.reason() == ClientResponse.Reason.STORE_UNAVAILABLE) {
      throw new StoreUnavailableException(r.message());
    }
    return response;
  }

  /** Refuses a null argument with a message that names the method and the parameter. */
  private static void required(Object argument, String method, String parameter) {
    if (argument == null) {
      throw new IllegalArgumentException(
          "The argument '" + parameter + "' of DurableClient." + method + " must not be null.");
    }
  }

  private static void expectSuccess(ClientResponse response) {
    if (response instanceof ClientResponse.Rejected r) {
      throw switch (r.reason()) {
        case ALREADY_EXISTS -> new InstanceAlreadyExistsException(r.message());
        case NOT_FOUND -> new InstanceNotFoundException(r.message());
        case INVALID_STATE -> new IllegalStateException(r.message());
        case STORE_UNAVAILABLE -> new StoreUnavailableException(r.message());
        // withRetries sends a rolled-back request again; this is only reached if a caller did not
        // go through it. The outcome is then unknown to the caller, as after a timeout.
        case ROLLED_BACK -> new DurableTimeoutException(r.message());
      };
    }
  }

  private InstanceStatus toStatus(InstanceView v) {
    return new InstanceStatus(
        InstanceId.of(v.instanceId()),
        v.name(),
        v.status(),
        v.createdAt(),
        v.lastUpdatedAt(),
        v.input(),
        v.output(),
        v.customStatus(),
        v.failure(),
        v.history(),
        node.converter());
  }

  /**
   * Checks {@code input} against the callee's input type and serializes it; {@code callee} names it
   * in errors.
   */
  private String serializeInput(String callee, Class<?> type, Object input) {
    if (input != null && !type.isInstance(input)) {
      throw new IllegalArgumentException(
          capitalized(callee)
              + " takes input of type "
              + type.getName()
              + ", but was given "
              + input.getClass().getName()
              + " ("
              + abbreviate(String.valueOf(input))
              + ").");
    }
    if (input == null && type.isPrimitive()) {
      throw new IllegalArgumentException(
          capitalized(callee) + " needs an input; it was given null.");
    }
    String serialized;
    try {
      serialized = node.converter().serialize(input);
    } catch (DataConversionException e) {
      throw new IllegalArgumentException(
          "The input of " + callee + " cannot be serialized: " + e.getMessage(), e);
    }
    node.settings()
        .payloadLimits()
        .require(PayloadLimits.Kind.INPUT, "the input of " + callee, serialized);
    if (input != null) {
      RoundTripCheck.verify(
          node.converter(), input.getClass(), type, serialized, "the input of " + callee);
    }
    return serialized;
  }

  private static String capitalized(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}
