package dev.netherite.management.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.Workflows;
import dev.netherite.dsl.spi.DataConversionException;
import dev.netherite.management.ManagementSettings;
import dev.netherite.runtime.DurableRuntime;
import dev.netherite.runtime.internal.PartitionReport;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * INTERNAL API
 *
 * <p>The management API's endpoints, under {@code /api}, as plain Java over {@link DurableClient}:
 * a request in (method, path segments after {@code api}, query parameters, body), a status and a
 * JSON document out. Bad input is an {@link ApiError} naming the field; the client's exceptions map
 * to status codes in {@link #errorOf}. Runs on a virtual thread per request (the client blocks).
 */
public final class ManagementApi {
  private static final int MAX_SCANNED_PER_PAGE = 10_000;

  private final DurableRuntime runtime;
  private final ManagementSettings settings;
  private final PartitionInspector inspector;

  public ManagementApi(
      DurableRuntime runtime, ManagementSettings settings, PartitionInspector inspector) {
    this.runtime = runtime;
    this.settings = settings;
    this.inspector = inspector;
  }

  /** An answer: an HTTP status and a JSON body. */
  public record Reply(int status, JsonNode body) {}

  public Reply handle(
      String method, List<String> path, Map<String, String> query, String requestBody) {
    try {
      return route(method, path, query, requestBody);
    } catch (RuntimeException e) {
      return errorOf(e);
    }
  }

  private Reply route(String method, List<String> p, Map<String, String> q, String body) {
    int n = p.size();
    String first = n > 0 ? p.get(0) : "";
    switch (first) {
      case "orchestrations" -> {
        if (n == 1) {
          allow(method, "GET");
          return ok(catalog());
        }
      }
      case "instances" -> {
        if (n == 1) {
          allow(method, "GET", "POST");
          return method.equals("GET") ? ok(list(q)) : start(body);
        }
        InstanceId id = InstanceId.of(p.get(1));
        if (n == 2) {
          allow(method, "GET", "DELETE");
          return method.equals("GET") ? ok(status(id, flag(q, "history"))) : ok(purgeOne(id));
        }
        String action = p.get(2);
        if (n == 3 && action.equals("history")) {
          allow(method, "GET");
          return ok(history(id));
        }
        if (n == 3 && action.equals("wait")) {
          allow(method, "GET");
          return await(id, q);
        }
        if (n == 4 && action.equals("events")) {
          allow(method, "POST");
          return raise(id, p.get(3), body);
        }
        if (n == 3 && Set.of("terminate", "suspend", "resume").contains(action)) {
          allow(method, "POST");
          return control(id, action, body);
        }
      }
      case "purge" -> {
        if (n == 1) {
          allow(method, "POST");
          return ok(purgeMatching(body));
        }
      }
      case "entities" -> {
        if (n == 1) {
          allow(method, "GET");
          return ok(listEntities(q));
        }
        if (n == 3) {
          allow(method, "GET");
          return ok(readEntity(p.get(1), p.get(2)));
        }
        if (n == 5 && p.get(3).equals("signals")) {
          allow(method, "POST");
          return signal(p.get(1), p.get(2), p.get(4), body);
        }
      }
      case "partitions" -> {
        if (n == 1) {
          allow(method, "GET");
          return ok(partitions());
        }
      }
      default -> {}
    }
    throw ApiError.notFound(
        "There is no endpoint "
            + method
            + " /api/"
            + String.join("/", p)
            + "; see docs/HTTP-API.md for the endpoints.");
  }

  // ---------------------------------------------------------------- endpoints

  private ObjectNode catalog() {
    Workflows w = runtime.workflows();
    ObjectNode o = Json.object();
    ArrayNode orchestrations = o.putArray("orchestrations");
    w.orchestrations()
        .forEach(
            (name, r) ->
                orchestrations
                    .addObject()
                    .put("name", name)
                    .put("inputType", r.ref().inputType().getName())
                    .put("outputType", r.ref().outputType().getName()));
    ArrayNode entities = o.putArray("entities");
    w.entities()
        .forEach(
            (name, type) -> {
              ObjectNode e =
                  entities
                      .addObject()
                      .put("name", name)
                      .put("stateType", type.stateType().getName());
              ArrayNode ops = e.putArray("operations");
              type.operations()
                  .forEach(
                      (op, r) ->
                          ops.addObject()
                              .put("name", op)
                              .put("inputType", r.ref().inputType().getName()));
            });
    return o;
  }

  private Reply start(String body) {
    ObjectNode request = Json.parseObject(body, "the orchestration to start");
    String name = requiredText(request, "name", "the name of a registered orchestration");
    Workflows.RegisteredOrchestration<?, ?> registered;
    try {
      registered = runtime.workflows().requireOrchestration(name);
    } catch (IllegalArgumentException e) {
      throw ApiError.badInput("name", e.getMessage());
    }
    Class<?> inputType = registered.ref().inputType();
    Object input = value(request.get("input"), inputType, "input", "orchestration '" + name + "'");
    StartOptions options = StartOptions.defaults();
    String id = optionalText(request, "instanceId");
    if (id != null) {
      if (id.isBlank()) {
        throw ApiError.badInput(
            "instanceId", "Field 'instanceId' is empty; leave it out for a new id.");
      }
      options = options.instanceId(InstanceId.of(id));
    }
    String at = optionalText(request, "scheduledStart");
    if (at != null) {
      options = options.scheduledAt(instant(at, "scheduledStart"));
    }
    JsonNode refuse = request.get("refuseIfExistsWith");
    if (refuse != null && !refuse.isNull()) {
      if (!refuse.isArray()) {
        throw ApiError.badInput(
            "refuseIfExistsWith",
            "Field 'refuseIfExistsWith' must be an array of statuses, e.g. [\"RUNNING\"].");
      }
      List<String> names = new ArrayList<>();
      refuse.forEach(s -> names.add(s.asText()));
      Set<RuntimeStatus> statuses = statuses(names, "refuseIfExistsWith");
      options = new StartOptions(options.instanceId(), options.scheduledStart(), statuses);
    }
    InstanceId started;
    try {
      started = runtime.client().start(name, input, options);
    } catch (IllegalArgumentException e) {
      throw ApiError.badInput("input", e.getMessage());
    }
    ObjectNode o = Json.object();
    o.put("instanceId", started.value());
    o.put("name", name);
    return new Reply(201, o);
  }

  private ObjectNode status(InstanceId id, boolean withHistory) {
    InstanceStatus s = requireInstance(id, withHistory);
    return Json.instance(s, withHistory);
  }

  private ObjectNode history(InstanceId id) {
    InstanceStatus s = requireInstance(id, true);
    ObjectNode o = Json.object();
    o.put("instanceId", id.value());
    o.set("history", Json.history(s.history(), s.createdAt()));
    return o;
  }

  private InstanceStatus requireInstance(InstanceId id, boolean withHistory) {
    return runtime
        .client()
        .getStatus(id, withHistory)
        .orElseThrow(() -> ApiError.notFound("There is no instance with id '" + id + "'."));
  }

  /** Long poll: 200 with the status once ended; 202 with the current status after the timeout. */
  private Reply await(InstanceId id, Map<String, String> q) {
    Duration timeout = duration(q.getOrDefault("timeout", "30s"), "timeout");
    if (timeout.compareTo(settings.maxWait()) > 0) {
      throw ApiError.badInput(
          "timeout",
          "Parameter 'timeout' is "
              + q.get("timeout")
              + "; the longest wait is "
              + settings.maxWait().toSeconds()
              + "s (netherite.management.max-wait). Poll again for longer.");
    }
    try {
      return ok(Json.instance(runtime.client().waitForCompletion(id, timeout), false));
    } catch (DurableTimeoutException e) {
      return new Reply(202, Json.instance(requireInstance(id, false), false));
    }
  }

  private Reply raise(InstanceId id, String eventName, String body) {
    JsonNode payload = Json.parseBody(body);
    Object value = payload == null || payload.isNull() ? null : plain(payload);
    runtime.client().raiseEvent(id, eventName, value);
    return accepted("Event '" + eventName + "' raised on instance '" + id + "'.");
  }

  private Reply control(InstanceId id, String action, String body) {
    ObjectNode request = Json.parseObject(body, "an optional reason");
    String reason = optionalText(request, "reason");
    if (reason == null) {
      reason = action + "d through the management API";
    }
    requireInstance(id, false);
    switch (action) {
      case "terminate" -> runtime.client().terminate(id, reason);
      case "suspend" -> runtime.client().suspend(id, reason);
      default -> runtime.client().resume(id, reason);
    }
    return accepted("Instance '" + id + "': " + action + " requested.");
  }

  private ObjectNode purgeOne(InstanceId id) {
    boolean deleted;
    try {
      deleted = runtime.client().purge(id);
    } catch (IllegalStateException e) {
      throw new ApiError(409, null, e.getMessage());
    }
    if (!deleted) {
      throw ApiError.notFound("There is no instance with id '" + id + "'.");
    }
    return Json.object().put("instanceId", id.value()).put("purged", true);
  }

  private ObjectNode purgeMatching(String body) {
    ObjectNode f = Json.parseObject(body, "the filter of the instances to purge");
    List<String> names = new ArrayList<>();
    JsonNode statuses = f.get("statuses");
    if (statuses != null && !statuses.isNull()) {
      if (!statuses.isArray()) {
        throw ApiError.badInput(
            "statuses", "Field 'statuses' must be an array of statuses, e.g. [\"COMPLETED\"].");
      }
      statuses.forEach(s -> names.add(s.asText()));
    }
    InstanceQuery query =
        new InstanceQuery(
            statuses(names, "statuses"),
            optionalInstant(f, "createdFrom"),
            optionalInstant(f, "createdTo"),
            optionalText(f, "idPrefix"),
            100,
            null);
    int purged = runtime.client().purge(query);
    return Json.object().put("purged", purged);
  }

  /**
   * The instances matching the filter, a page at a time. The name filter is applied here, over the
   * client's pages, so a page may hold fewer than {@code pageSize} instances before its end.
   */
  private ObjectNode list(Map<String, String> q) {
    Set<RuntimeStatus> statuses =
        statuses(
            q.containsKey("status") ? List.of(q.get("status").split(",")) : List.of(), "status");
    int pageSize = integer(q.getOrDefault("pageSize", "50"), "pageSize");
    if (pageSize < 1 || pageSize > 1000) {
      throw ApiError.badInput(
          "pageSize", "Parameter 'pageSize' is " + pageSize + "; it must be between 1 and 1000.");
    }
    String name = q.get("name");
    String token = q.get("continuationToken");
    InstanceQuery query =
        new InstanceQuery(
            statuses,
            q.containsKey("createdFrom") ? instant(q.get("createdFrom"), "createdFrom") : null,
            q.containsKey("createdTo") ? instant(q.get("createdTo"), "createdTo") : null,
            q.get("idPrefix"),
            pageSize,
            token);
    List<InstanceStatus> found = new ArrayList<>();
    int scanned = 0;
    String next;
    while (true) {
      InstancePage page;
      try {
        page = runtime.client().list(query.withPageSize(pageSize - found.size()));
      } catch (IllegalArgumentException e) {
        throw ApiError.badInput(
            "continuationToken",
            "Parameter 'continuationToken' is not valid: "
                + e.getMessage()
                + " Pass the token of the previous page as it was returned.");
      }
      for (InstanceStatus s : page.instances()) {
        if (name == null || name.equals(s.name())) {
          found.add(s);
        }
      }
      scanned += page.instances().size();
      next = page.continuationToken();
      if (next == null || found.size() >= pageSize || scanned >= MAX_SCANNED_PER_PAGE) {
        break;
      }
      query = query.continueAfter(next);
    }
    ObjectNode o = Json.object();
    ArrayNode instances = o.putArray("instances");
    found.forEach(s -> instances.add(Json.instance(s, false)));
    o.put("continuationToken", next);
    return o;
  }

  /** The entities matching the filter, a page at a time. */
  private ObjectNode listEntities(Map<String, String> q) {
    int pageSize = integer(q.getOrDefault("pageSize", "50"), "pageSize");
    if (pageSize < 1 || pageSize > 1000) {
      throw ApiError.badInput(
          "pageSize", "Parameter 'pageSize' is " + pageSize + "; it must be between 1 and 1000.");
    }
    String name = q.get("name");
    if (name != null) {
      entityType(name);
    }
    String keyPrefix = q.get("keyPrefix");
    if (keyPrefix != null && name == null) {
      throw ApiError.badInput(
          "keyPrefix",
          "Parameter 'keyPrefix' filters the keys of one entity type: give its 'name' too.");
    }
    EntityPage<Object> page;
    try {
      page =
          runtime
              .client()
              .listEntities(
                  new EntityQuery(name, keyPrefix, pageSize, q.get("continuationToken")),
                  Object.class);
    } catch (IllegalArgumentException e) {
      throw ApiError.badInput(
          "continuationToken", "Parameter 'continuationToken' is not valid: " + e.getMessage());
    }
    ObjectNode o = Json.object();
    ArrayNode entities = o.putArray("entities");
    page.entities().forEach(e -> entities.add(entityJson(e)));
    o.put("continuationToken", page.continuationToken());
    return o;
  }

  private static ObjectNode entityJson(EntityState<Object> state) {
    ObjectNode o = Json.object();
    o.put("entityId", state.id().toString());
    o.put("name", state.id().name());
    o.put("key", state.id().key());
    o.put("exists", state.exists());
    o.set("state", Json.MAPPER.valueToTree(state.state()));
    o.put("lockedBy", state.lockedBy());
    o.put("backlog", state.backlog());
    return o;
  }

  private ObjectNode readEntity(String name, String key) {
    entityType(name);
    EntityId id = entityId(name, key);
    return entityJson(runtime.client().readEntity(id, Object.class));
  }

  private Reply signal(String name, String key, String operation, String body) {
    EntityType<?> type = entityType(name);
    EntityType.RegisteredOperation<?, ?, ?> op =
        type.operation(operation)
            .orElseThrow(
                () ->
                    ApiError.badInput(
                        "operation",
                        "Entity '"
                            + name
                            + "' has no operation '"
                            + operation
                            + "'; its operations are: "
                            + String.join(", ", type.operations().keySet())
                            + "."));
    Object input =
        value(
            Json.parseBody(body),
            op.ref().inputType(),
            "body",
            "operation '" + operation + "' of entity '" + name + "'");
    signal(entityId(name, key), op.ref(), input);
    return accepted("Operation '" + operation + "' sent to entity " + entityId(name, key) + ".");
  }

  private <I> void signal(EntityId id, EntityOp<I, ?> op, Object input) {
    try {
      runtime.client().signalEntity(id, op, op.inputType().cast(input));
    } catch (IllegalArgumentException e) {
      throw ApiError.badInput("body", e.getMessage());
    }
  }

  private ObjectNode partitions() {
    List<PartitionInspector.PartitionView> views = inspector.all();
    Cluster cluster = Cluster.get(runtime.system());
    ObjectNode o = Json.object();
    o.put("partitionCount", runtime.settings().partitionCount());
    o.put("self", cluster.selfMember().address().toString());
    Map<String, List<Integer>> byNode = new TreeMap<>();
    for (Member m : cluster.state().getMembers()) {
      byNode.put(m.address().toString(), new ArrayList<>());
    }
    views.forEach(
        v -> {
          if (v.node() != null) {
            byNode.computeIfAbsent(v.node(), k -> new ArrayList<>()).add(v.partition());
          }
        });
    ArrayNode nodes = o.putArray("nodes");
    Map<String, String> statusOf = new TreeMap<>();
    for (Member m : cluster.state().getMembers()) {
      statusOf.put(m.address().toString(), m.status().toString());
    }
    Set<String> unreachable = new TreeSet<>();
    cluster.state().getUnreachable().forEach(m -> unreachable.add(m.address().toString()));
    byNode.forEach(
        (address, partitions) -> {
          ObjectNode node = nodes.addObject();
          node.put("address", address);
          node.put("status", statusOf.getOrDefault(address, "Unknown"));
          node.put("reachable", !unreachable.contains(address));
          node.put("self", address.equals(cluster.selfMember().address().toString()));
          ArrayNode ps = node.putArray("partitions");
          partitions.forEach(ps::add);
        });
    ArrayNode ps = o.putArray("partitions");
    views.forEach(v -> ps.add(partitionJson(v)));
    return o;
  }

  static ObjectNode partitionJson(PartitionInspector.PartitionView v) {
    ObjectNode o = Json.object();
    o.put("partition", v.partition());
    o.put("state", v.state());
    o.put("node", v.node());
    PartitionReport r = v.report();
    if (r != null) {
      o.put("instances", r.instances());
      ObjectNode byStatus = o.putObject("instancesByStatus");
      new TreeMap<>(r.instancesByStatus()).forEach((s, c) -> byStatus.put(s.name(), c));
      o.put("entities", r.entities());
      o.put("entityBacklog", r.entityBacklog());
      o.put("pendingWork", r.pendingWork());
      o.put("bufferedEvents", r.bufferedEvents());
      o.put("inFlightEvents", r.inFlightEvents());
      o.put("pendingReplies", r.pendingReplies());
      o.put("completionWaiters", r.completionWaiters());
      o.put("outboxUnacknowledged", r.outboxUnacknowledged());
      o.put("timers", r.timers());
      o.put("journalWrites", r.journalWrites());
      o.put("lastWriteMillis", r.lastWriteMillis());
      o.put("writeInFlightMillis", r.writeInFlightMillis());
      o.put("eventsSinceCheckpoint", r.eventsSinceCheckpoint());
      o.put("lastCheckpointSeqNr", r.lastCheckpointSeqNr());
      o.put("lastCheckpointAt", Json.time(r.lastCheckpointAt()));
      o.put("recoveryMillis", r.recoveryMillis());
      o.put("lastEventAt", Json.time(r.lastEventAt()));
      o.put("checkpointing", r.checkpointing());
      o.put("backpressured", r.backpressured());
    }
    return o;
  }

  // ---------------------------------------------------------------- input

  private static void allow(String method, String... allowed) {
    for (String a : allowed) {
      if (a.equals(method)) {
        return;
      }
    }
    throw new ApiError(
        405,
        null,
        "Method " + method + " is not allowed here; use " + String.join(" or ", allowed) + ".");
  }

  private EntityType<?> entityType(String name) {
    try {
      return runtime.workflows().requireEntity(name);
    } catch (IllegalArgumentException e) {
      throw ApiError.badInput("entity", e.getMessage());
    }
  }

  private static EntityId entityId(String name, String key) {
    try {
      return EntityId.of(name, key);
    } catch (IllegalArgumentException e) {
      throw ApiError.badInput("key", e.getMessage());
    }
  }

  /** {@code node} read as {@code type} by the runtime's converter, as the engine would read it. */
  private Object value(JsonNode node, Class<?> type, String field, String callee) {
    if (node == null || node.isNull()) {
      return null;
    }
    try {
      return runtime.converter().deserialize(Json.text(node), type);
    } catch (DataConversionException | IllegalArgumentException e) {
      throw ApiError.badInput(
          field,
          "Field '"
              + field
              + "': "
              + callee
              + " takes input of type "
              + type.getName()
              + ", and "
              + abbreviate(Json.text(node))
              + " cannot be read as one.");
    }
  }

  /** A JSON value as plain Java (maps, lists, strings, numbers, booleans). */
  private static Object plain(JsonNode node) {
    return Json.MAPPER.convertValue(node, Object.class);
  }

  private static String requiredText(ObjectNode o, String field, String what) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      throw ApiError.badInput(field, "Field '" + field + "' is required: " + what + ".");
    }
    if (!v.isTextual()) {
      throw ApiError.badInput(
          field,
          "Field '" + field + "' must be a string (" + what + "), got " + Json.kind(v) + ".");
    }
    return v.asText();
  }

  private static String optionalText(ObjectNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiError.badInput(
          field, "Field '" + field + "' must be a string, got " + Json.kind(v) + ".");
    }
    return v.asText();
  }

  private static Instant optionalInstant(ObjectNode o, String field) {
    String text = optionalText(o, field);
    return text == null ? null : instant(text, field);
  }

  static Instant instant(String text, String field) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw ApiError.badInput(
          field,
          "'"
              + field
              + "' is '"
              + text
              + "'; it must be an ISO-8601 UTC time such as 2026-12-01T10:00:00Z.");
    }
  }

  static Set<RuntimeStatus> statuses(List<String> names, String field) {
    Set<RuntimeStatus> set = EnumSet.noneOf(RuntimeStatus.class);
    for (String raw : names) {
      String s = raw.strip();
      if (s.isEmpty()) {
        continue;
      }
      try {
        set.add(RuntimeStatus.valueOf(s.toUpperCase(java.util.Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw ApiError.badInput(
            field,
            "'"
                + field
                + "' names '"
                + s
                + "', which is not a status; use "
                + String.join(
                    ", ", java.util.Arrays.stream(RuntimeStatus.values()).map(Enum::name).toList())
                + ".");
      }
    }
    return set;
  }

  private static int integer(String text, String field) {
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw ApiError.badInput(
          field, "Parameter '" + field + "' is '" + text + "'; it must be a whole number.");
    }
  }

  /** {@code 30s}, {@code 500ms}, {@code 2m}, or a number of seconds. */
  static Duration duration(String text, String field) {
    String t = text.strip();
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      return Duration.ofSeconds(Long.parseLong(t));
    } catch (NumberFormatException e) {
      throw ApiError.badInput(
          field, "Parameter '" + field + "' is '" + text + "'; use e.g. 30s, 500ms or 2m.");
    }
  }

  private static boolean flag(Map<String, String> q, String name) {
    String v = q.get(name);
    return v != null && (v.isEmpty() || v.equals("true") || v.equals("1"));
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  private static Reply ok(JsonNode body) {
    return new Reply(200, body);
  }

  private static Reply accepted(String message) {
    return new Reply(202, Json.object().put("message", message));
  }

  // ---------------------------------------------------------------- errors

  /** The JSON error for {@code e}: {@code {"status": 400, "message": "...", "field": "input"}}. */
  public static Reply errorOf(Throwable e) {
    int status;
    String field = null;
    switch (e) {
      case ApiError a -> {
        status = a.status();
        field = a.field();
      }
      case InstanceNotFoundException x -> status = 404;
      case InstanceAlreadyExistsException x -> status = 409;
      case DurableTimeoutException x -> status = 503;
      case IllegalArgumentException x -> status = 400;
      default -> status = 500;
    }
    return new Reply(status, error(status, field, message(e, status)));
  }

  public static ObjectNode error(int status, String field, String message) {
    ObjectNode o = Json.object();
    o.put("status", status);
    o.put("message", message);
    if (field != null) {
      o.put("field", field);
    }
    return o;
  }

  private static String message(Throwable e, int status) {
    String m = Optional.ofNullable(e.getMessage()).orElse(e.getClass().getName());
    if (status == 503) {
      return m + " The partition is unavailable (recovering, restarting or unreachable); retry.";
    }
    if (status == 500) {
      return "The server failed: " + m;
    }
    return m;
  }
}
