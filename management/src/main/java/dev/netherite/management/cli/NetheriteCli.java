package dev.netherite.management.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/netherite}: a command-line client of the management API (docs/HTTP-API.md), with
 * readable tables by default and the API's JSON with {@code --json}. Exit code 0 on success, 1 when
 * the server refused the request (its message is printed), 2 for a usage error.
 */
public final class NetheriteCli {
  static final String USAGE =
      """
      usage: netherite [--url URL] [--token TOKEN] [--json] COMMAND [ARGS]
        --url     the management server (default $NETHERITE_URL or http://127.0.0.1:8558/)
        --token   the bearer token (default $NETHERITE_TOKEN)
        --json    print the API's JSON instead of tables
      commands:
        start NAME [--input JSON] [--id ID]      start an orchestration; prints the instance id
        status ID                                an instance's status
        history ID                               an instance's history as a timeline
        wait ID [--timeout 30s]                  wait until the instance has ended
        list [--status S,S] [--name N] [--prefix P] [--page-size N] [--token-next T]
        raise ID EVENT [JSON]                    raise an event with a JSON payload
        terminate ID [REASON] | suspend ID [REASON] | resume ID [REASON]
        purge ID                                 delete an ended instance
        purge --status S,S [--prefix P]          delete every ended instance that matches
        signal ENTITY KEY OPERATION [JSON]       send an operation to an entity
        entity ENTITY KEY                        an entity's state, lock holder and backlog
        entities [--name ENTITY] [--prefix KEY] [--page-size N] [--token-next T]
        partitions                               the partitions, their nodes and health
        orchestrations                           the registered orchestrations and entities
      """;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintStream out;
  private final PrintStream err;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private URI base;
  private String token;
  private boolean json;

  NetheriteCli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new NetheriteCli(System.out, System.err).run(args));
  }

  /** Runs one command; returns the exit code. */
  public int run(String[] argv) {
    List<String> args = new ArrayList<>(List.of(argv));
    String url = System.getenv().getOrDefault("NETHERITE_URL", "http://127.0.0.1:8558/");
    token = System.getenv("NETHERITE_TOKEN");
    try {
      url = take(args, "--url", url);
      token = take(args, "--token", token);
      json = args.remove("--json");
      base = URI.create(url.endsWith("/") ? url : url + "/");
      if (args.isEmpty() || args.get(0).equals("help") || args.get(0).equals("--help")) {
        out.print(USAGE);
        return args.isEmpty() ? 2 : 0;
      }
      String command = args.remove(0);
      return switch (command) {
        case "start" -> start(args);
        case "status" -> show(call("GET", "api/instances/" + seg(arg(args, 0, "ID")), null));
        case "history" -> history(arg(args, 0, "ID"));
        case "wait" -> waitFor(args);
        case "list" -> list(args);
        case "raise" ->
            message(
                call(
                    "POST",
                    "api/instances/"
                        + seg(arg(args, 0, "ID"))
                        + "/events/"
                        + seg(arg(args, 1, "EVENT")),
                    args.size() > 2 ? args.get(2) : null));
        case "terminate", "suspend", "resume" ->
            message(
                call(
                    "POST",
                    "api/instances/" + seg(arg(args, 0, "ID")) + "/" + command,
                    args.size() > 1
                        ? JSON.createObjectNode()
                            .put("reason", String.join(" ", args.subList(1, args.size())))
                            .toString()
                        : null));
        case "purge" -> purge(args);
        case "signal" ->
            message(
                call(
                    "POST",
                    "api/entities/"
                        + seg(arg(args, 0, "ENTITY"))
                        + "/"
                        + seg(arg(args, 1, "KEY"))
                        + "/signals/"
                        + seg(arg(args, 2, "OPERATION")),
                    args.size() > 3 ? args.get(3) : null));
        case "entity" ->
            show(
                call(
                    "GET",
                    "api/entities/" + seg(arg(args, 0, "ENTITY")) + "/" + seg(arg(args, 1, "KEY")),
                    null));
        case "entities" -> entities(args);
        case "partitions" -> partitions();
        case "orchestrations" -> show(call("GET", "api/orchestrations", null));
        default -> throw new Usage("unknown command '" + command + "'");
      };
    } catch (Usage e) {
      err.println("netherite: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (Refused e) {
      return 1;
    } catch (IOException e) {
      err.println(
          "netherite: cannot reach the management server at "
              + base
              + " ("
              + e
              + "); start one with bin/serve, or pass --url.");
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  // ---------------------------------------------------------------- commands

  private int start(List<String> args) throws IOException, InterruptedException {
    String input = take(args, "--input", null);
    String id = take(args, "--id", null);
    ObjectNode body = JSON.createObjectNode().put("name", arg(args, 0, "NAME"));
    if (input != null) {
      body.set("input", parse(input, "--input"));
    }
    if (id != null) {
      body.put("instanceId", id);
    }
    JsonNode r = call("POST", "api/instances", body.toString());
    if (json) {
      out.println(r.toPrettyString());
    } else {
      out.println(r.get("instanceId").asText());
    }
    return 0;
  }

  private int history(String id) throws IOException, InterruptedException {
    JsonNode r = call("GET", "api/instances/" + seg(id) + "/history", null);
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode e : r.get("history")) {
      Map<String, String> details = new LinkedHashMap<>();
      e.fields()
          .forEachRemaining(
              f -> {
                if (!f.getKey().equals("type")
                    && !f.getKey().equals("time")
                    && !f.getValue().isNull()) {
                  details.put(
                      f.getKey(),
                      f.getValue().isTextual() ? f.getValue().asText() : f.getValue().toString());
                }
              });
      StringBuilder d = new StringBuilder();
      details.forEach((k, v) -> d.append(d.isEmpty() ? "" : " ").append(k).append('=').append(v));
      rows.add(List.of(text(e, "time"), text(e, "type"), abbreviate(d.toString(), 80)));
    }
    table(List.of("TIME", "EVENT", "DETAILS"), rows);
    return 0;
  }

  private int waitFor(List<String> args) throws IOException, InterruptedException {
    String timeout = take(args, "--timeout", "30s");
    return show(
        call(
            "GET",
            "api/instances/" + seg(arg(args, 0, "ID")) + "/wait?timeout=" + seg(timeout),
            null));
  }

  private int entities(List<String> args) throws IOException, InterruptedException {
    StringBuilder q = new StringBuilder("api/entities?");
    param(q, "name", take(args, "--name", null));
    param(q, "keyPrefix", take(args, "--prefix", null));
    param(q, "pageSize", take(args, "--page-size", null));
    param(q, "continuationToken", take(args, "--token-next", null));
    JsonNode r = call("GET", q.toString(), null);
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode e : r.get("entities")) {
      rows.add(
          List.of(
              text(e, "name"),
              text(e, "key"),
              abbreviate(e.get("state").toString(), 40),
              text(e, "lockedBy"),
              text(e, "backlog")));
    }
    table(List.of("ENTITY", "KEY", "STATE", "LOCKED BY", "BACKLOG"), rows);
    if (!r.get("continuationToken").isNull()) {
      out.println("more: --token-next " + r.get("continuationToken").asText());
    }
    return 0;
  }

  private int list(List<String> args) throws IOException, InterruptedException {
    StringBuilder q = new StringBuilder("api/instances?");
    param(q, "status", take(args, "--status", null));
    param(q, "name", take(args, "--name", null));
    param(q, "idPrefix", take(args, "--prefix", null));
    param(q, "pageSize", take(args, "--page-size", null));
    param(q, "continuationToken", take(args, "--token-next", null));
    JsonNode r = call("GET", q.toString(), null);
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode i : r.get("instances")) {
      rows.add(
          List.of(
              text(i, "instanceId"),
              text(i, "name"),
              text(i, "runtimeStatus"),
              text(i, "createdAt"),
              text(i, "lastUpdatedAt")));
    }
    table(List.of("INSTANCE", "NAME", "STATUS", "CREATED", "UPDATED"), rows);
    if (!r.get("continuationToken").isNull()) {
      out.println("more: --token-next " + r.get("continuationToken").asText());
    }
    return 0;
  }

  private int purge(List<String> args) throws IOException, InterruptedException {
    String status = take(args, "--status", null);
    String prefix = take(args, "--prefix", null);
    if (status == null && prefix == null) {
      JsonNode r = call("DELETE", "api/instances/" + seg(arg(args, 0, "ID")), null);
      out.println(json ? r.toPrettyString() : "purged " + r.get("instanceId").asText());
      return 0;
    }
    ObjectNode filter = JSON.createObjectNode();
    if (status != null) {
      var statuses = filter.putArray("statuses");
      for (String s : status.split(",")) {
        statuses.add(s.strip());
      }
    }
    if (prefix != null) {
      filter.put("idPrefix", prefix);
    }
    JsonNode r = call("POST", "api/purge", filter.toString());
    out.println(json ? r.toPrettyString() : "purged " + r.get("purged").asInt() + " instances");
    return 0;
  }

  private int partitions() throws IOException, InterruptedException {
    JsonNode r = call("GET", "api/partitions", null);
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    List<List<String>> nodes = new ArrayList<>();
    for (JsonNode n : r.get("nodes")) {
      nodes.add(
          List.of(
              text(n, "address") + (n.get("self").asBoolean() ? " (this node)" : ""),
              text(n, "status"),
              n.get("reachable").asBoolean() ? "yes" : "NO",
              n.get("partitions").toString()));
    }
    table(List.of("NODE", "STATUS", "REACHABLE", "PARTITIONS"), nodes);
    out.println();
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode p : r.get("partitions")) {
      rows.add(
          List.of(
              text(p, "partition"),
              text(p, "state"),
              text(p, "node"),
              text(p, "instances"),
              text(p, "entities"),
              text(p, "pendingWork"),
              text(p, "outboxUnacknowledged"),
              text(p, "lastWriteMillis"),
              text(p, "lastCheckpointAt")));
    }
    table(
        List.of(
            "P",
            "STATE",
            "NODE",
            "INSTANCES",
            "ENTITIES",
            "PENDING",
            "OUTBOX",
            "WRITE_MS",
            "CHECKPOINT"),
        rows);
    return 0;
  }

  /** An object as KEY VALUE lines, or its JSON. */
  private int show(JsonNode r) {
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    List<List<String>> rows = new ArrayList<>();
    r.fields()
        .forEachRemaining(
            f ->
                rows.add(
                    List.of(
                        f.getKey(),
                        f.getValue().isTextual()
                            ? f.getValue().asText()
                            : abbreviate(f.getValue().toString(), 200))));
    table(List.of("FIELD", "VALUE"), rows);
    return 0;
  }

  private int message(JsonNode r) {
    out.println(json ? r.toPrettyString() : r.get("message").asText());
    return 0;
  }

  // ---------------------------------------------------------------- plumbing

  private JsonNode call(String method, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(120))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode answer;
    try {
      answer = JSON.readTree(r.body());
    } catch (IOException e) {
      err.println("netherite: the server answered " + r.statusCode() + " with: " + r.body());
      throw new Refused();
    }
    if (r.statusCode() >= 400) {
      if (json) {
        out.println(answer.toPrettyString());
      }
      err.println(
          "netherite: "
              + r.statusCode()
              + ": "
              + (answer.has("message") ? answer.get("message").asText() : r.body()));
      throw new Refused();
    }
    if (r.statusCode() == 202 && path.contains("/wait")) {
      err.println("netherite: the instance has not ended yet; its current status:");
    }
    return answer;
  }

  private void table(List<String> header, List<List<String>> rows) {
    int[] widths = new int[header.size()];
    for (int c = 0; c < header.size(); c++) {
      widths[c] = header.get(c).length();
      for (List<String> row : rows) {
        widths[c] = Math.max(widths[c], row.get(c).length());
      }
    }
    printRow(header, widths);
    rows.forEach(r -> printRow(r, widths));
  }

  private void printRow(List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int c = 0; c < cells.size(); c++) {
      String cell = cells.get(c);
      line.append(cell);
      if (c < cells.size() - 1) {
        line.append(" ".repeat(widths[c] - cell.length() + 2));
      }
    }
    out.println(line.toString().stripTrailing());
  }

  private static String text(JsonNode o, String field) {
    JsonNode v = o.get(field);
    return v == null || v.isNull() ? "-" : v.asText();
  }

  private static JsonNode parse(String text, String option) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new Usage(option + " is not JSON: " + text + " (a string needs quotes: '\"text\"')");
    }
  }

  private static void param(StringBuilder q, String name, String value) {
    if (value != null) {
      q.append(q.charAt(q.length() - 1) == '?' ? "" : "&")
          .append(name)
          .append('=')
          .append(seg(value));
    }
  }

  private static String seg(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String arg(List<String> args, int index, String name) {
    if (args.size() <= index) {
      throw new Usage("missing " + name);
    }
    return args.get(index);
  }

  /** Removes {@code --option VALUE} from the arguments and returns VALUE, or the default. */
  private static String take(List<String> args, String option, String otherwise) {
    int i = args.indexOf(option);
    if (i < 0) {
      return otherwise;
    }
    if (i + 1 >= args.size()) {
      throw new Usage(option + " needs a value");
    }
    args.remove(i);
    return args.remove(i);
  }

  private static String abbreviate(String s, int max) {
    return s.length() > max ? s.substring(0, max - 3) + "..." : s;
  }

  private static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message, null, false, false);
    }
  }

  /** The server refused; its message was printed. */
  private static final class Refused extends RuntimeException {
    Refused() {
      super(null, null, false, false);
    }
  }
}
