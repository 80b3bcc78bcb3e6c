package dev.netherite.management.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.netherite.dsl.FailureDetails;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceStatus;
import java.time.Instant;
import java.util.List;

/** INTERNAL API: the JSON of the management API (Jackson), one place for every shape. */
public final class Json {
  public static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private Json() {}

  public static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  public static ArrayNode array() {
    return JsonNodeFactory.instance.arrayNode();
  }

  public static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("json=unwritable cause=" + e.getMessage(), e);
    }
  }

  /**
   * A request body as JSON; an empty body reads as {@code null}.
   *
   * @throws ApiError 400 when it is not JSON
   */
  public static JsonNode parseBody(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      return MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiError.badInput(
          "body",
          "The request body is not valid JSON: "
              + e.getOriginalMessage()
              + " (line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr()
              + ").");
    }
  }

  /** A JSON object body; empty when there is none. */
  public static ObjectNode parseObject(String body, String what) {
    JsonNode node = parseBody(body);
    if (node == null) {
      return object();
    }
    if (!node.isObject()) {
      throw ApiError.badInput(
          "body", "The request body must be a JSON object (" + what + "), got " + kind(node) + ".");
    }
    return (ObjectNode) node;
  }

  static String kind(JsonNode node) {
    return switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> "an object";
    };
  }

  /** A payload as recorded (JSON text of the data converter), as JSON; plain text if it is not. */
  public static JsonNode payload(String serialized) {
    if (serialized == null) {
      return JsonNodeFactory.instance.nullNode();
    }
    try {
      return MAPPER.readTree(serialized);
    } catch (JsonProcessingException e) {
      return JsonNodeFactory.instance.textNode(serialized);
    }
  }

  public static String text(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("json=unwritable cause=" + e.getMessage(), e);
    }
  }

  public static ObjectNode instance(InstanceStatus s, boolean withHistory) {
    ObjectNode o = object();
    o.put("instanceId", s.instanceId().value());
    o.put("name", s.name());
    o.put("runtimeStatus", s.runtimeStatus() == null ? null : s.runtimeStatus().name());
    o.put("createdAt", time(s.createdAt()));
    o.put("lastUpdatedAt", time(s.lastUpdatedAt()));
    o.set("input", payload(s.serializedInput()));
    o.set("output", payload(s.serializedOutput()));
    o.set("customStatus", payload(s.serializedCustomStatus()));
    o.set("failure", failure(s.failure()));
    if (withHistory) {
      o.set("history", history(s.history(), s.createdAt()));
    }
    return o;
  }

  public static JsonNode failure(FailureDetails f) {
    if (f == null) {
      return JsonNodeFactory.instance.nullNode();
    }
    ObjectNode o = object();
    o.put("errorType", f.errorType());
    o.put("message", f.message());
    o.put("stackTrace", f.stackTrace());
    o.set("cause", failure(f.cause()));
    return o;
  }

  /**
   * The history as a timeline: each event with its {@code type} and the {@code time} of the step it
   * belongs to (an event's own time is not recorded; a step's start is), the creation time before
   * the first step.
   */
  public static ArrayNode history(List<HistoryEvent> history, Instant createdAt) {
    ArrayNode events = array();
    Instant stepTime = createdAt;
    for (HistoryEvent e : history) {
      if (e instanceof HistoryEvent.OrchestratorStarted started) {
        stepTime = started.time();
      }
      ObjectNode o = object();
      o.put("type", e.getClass().getSimpleName());
      o.put("time", time(stepTime));
      ObjectNode fields = MAPPER.valueToTree(e);
      o.setAll(fields);
      events.add(o);
    }
    return events;
  }

  public static String time(Instant t) {
    return t == null ? null : t.toString();
  }
}
