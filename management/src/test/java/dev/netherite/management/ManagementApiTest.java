package dev.netherite.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.netherite.management.ManagementTestKit.Api;
import dev.netherite.management.ManagementTestKit.Reply;
import dev.netherite.runtime.DurableRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every endpoint of the management API over real HTTP, against a one-node runtime on the test
 * Cassandra: what it does, and what it answers to bad input (status code and message).
 */
@Timeout(180)
class ManagementApiTest {
  private static final String TOKEN = "s3cret-token";
  private static DurableRuntime runtime;
  private static NetheriteManagement open;
  private static NetheriteManagement guarded;
  private static Api api;

  @BeforeAll
  static void start() {
    runtime =
        DurableRuntime.start(
            ManagementTestKit.app(), ManagementTestKit.config("mgmt-api", Map.of()));
    ManagementSettings defaults = ManagementSettings.from(runtime.system().settings().config());
    open =
        NetheriteManagement.start(
            runtime,
            new ManagementSettings(
                true,
                "127.0.0.1",
                18500,
                "",
                defaults.stuckAfter(),
                defaults.partitionTimeout(),
                defaults.maxWait()));
    guarded =
        NetheriteManagement.start(
            runtime,
            new ManagementSettings(
                true,
                "127.0.0.1",
                18501,
                TOKEN,
                defaults.stuckAfter(),
                defaults.partitionTimeout(),
                defaults.maxWait()));
    api = new Api(open.uri(), null);
  }

  @AfterAll
  static void stop() {
    if (open != null) {
      open.close();
    }
    if (guarded != null) {
      guarded.close();
    }
    if (runtime != null) {
      runtime.close();
    }
  }

  private static String start(String body) {
    Reply r = api.post("/api/instances", body).expect(201);
    assertTrue(r.contentType().startsWith("application/json"), r.contentType());
    return r.json().get("instanceId").asText();
  }

  private static JsonNode waitFor(String id) {
    return api.get("/api/instances/" + id + "/wait?timeout=30s").expect(200).json();
  }

  @Test
  void startsHello5AndShowsItsStatusHistoryAndOutput() {
    String id = start("{\"name\": \"Hello5\"}");
    JsonNode done = waitFor(id);
    assertEquals("COMPLETED", done.get("runtimeStatus").asText(), done.toString());
    assertEquals(ManagementTestKit.HELLO5_OUTPUT.size(), done.get("output").size());
    assertEquals("Hello Tokyo!", done.get("output").get(0).asText());
    assertEquals("Hello5", done.get("name").asText());

    JsonNode status = api.get("/api/instances/" + id + "?history=true").expect(200).json();
    JsonNode history = status.get("history");
    int scheduled = 0;
    for (JsonNode e : history) {
      assertNotNull(e.get("time"), e.toString());
      if (e.get("type").asText().equals("TaskScheduled")) {
        scheduled++;
        assertEquals("SayHello", e.get("activityName").asText());
      }
    }
    assertEquals(5, scheduled, history.toString());
    assertEquals("ExecutionCompleted", history.get(history.size() - 1).get("type").asText());
    assertTrue(api.get("/api/instances/" + id).expect(200).json().get("history") == null);
    assertEquals(
        history.size(),
        api.get("/api/instances/" + id + "/history").expect(200).json().get("history").size());
  }

  @Test
  void startWithAnIdTwiceIsAConflict() {
    start("{\"name\": \"Waiter\", \"input\": \"twice\", \"instanceId\": \"api-twice\"}");
    String message =
        api.post(
                "/api/instances",
                "{\"name\": \"Waiter\", \"input\": \"x\", \"instanceId\": \"api-twice\"}")
            .error(409);
    assertTrue(message.contains("api-twice"), message);
    api.post("/api/instances/api-twice/terminate", null).expect(202);
  }

  @Test
  void badStartRequestsAre400sNamingTheField() {
    Reply malformed = api.post("/api/instances", "{\"name\": \"Hello5\"");
    assertTrue(malformed.error(400).contains("not valid JSON"), malformed.body());
    assertEquals("body", malformed.json().get("field").asText());

    Reply unknown = api.post("/api/instances", "{\"name\": \"Helo5\"}");
    String message = unknown.error(400);
    assertTrue(message.contains("No orchestration named 'Helo5' is registered"), message);
    assertTrue(message.contains("Hello5, Square, Waiter"), message);
    assertEquals("name", unknown.json().get("field").asText());

    Reply wrongType = api.post("/api/instances", "{\"name\": \"Square\", \"input\": {\"n\": 3}}");
    message = wrongType.error(400);
    assertTrue(message.contains("java.lang.Integer"), message);
    assertTrue(message.contains("{\"n\":3}"), message);
    assertEquals("input", wrongType.json().get("field").asText());

    Reply noName = api.post("/api/instances", "{\"input\": 3}");
    assertTrue(noName.error(400).contains("Field 'name' is required"), noName.body());

    Reply notAnObject = api.post("/api/instances", "[1, 2]");
    assertTrue(notAnObject.error(400).contains("must be a JSON object"), notAnObject.body());

    Reply badTime =
        api.post(
            "/api/instances", "{\"name\": \"Square\", \"input\": 2, \"scheduledStart\": \"soon\"}");
    assertTrue(badTime.error(400).contains("ISO-8601"), badTime.body());
    assertEquals("scheduledStart", badTime.json().get("field").asText());
  }

  @Test
  void anUnknownInstanceIs404Everywhere() {
    String none = "/api/instances/no-such-instance";
    for (Reply r :
        List.of(
            api.get(none),
            api.get(none + "/history"),
            api.get(none + "/wait?timeout=1s"),
            api.post(none + "/events/Approval", "\"yes\""),
            api.post(none + "/terminate", "{\"reason\": \"test\"}"),
            api.post(none + "/suspend", null),
            api.post(none + "/resume", null),
            api.delete(none))) {
      String message = r.error(404);
      assertTrue(message.contains("no-such-instance"), message);
    }
  }

  @Test
  void raisesAnEventThatTheWaiterReceives() {
    String id = start("{\"name\": \"Waiter\", \"input\": \"order-1\"}");
    JsonNode waiting = api.get("/api/instances/" + id + "/wait?timeout=1s").expect(202).json();
    assertEquals("RUNNING", waiting.get("runtimeStatus").asText(), waiting.toString());
    assertEquals("waiting for Approval", waiting.get("customStatus").asText());
    api.post("/api/instances/" + id + "/events/Approval", "\"yes\"").expect(202);
    JsonNode done = waitFor(id);
    assertEquals("order-1:yes", done.get("output").asText(), done.toString());
  }

  @Test
  void terminatesSuspendsAndResumes() {
    String id = start("{\"name\": \"Waiter\", \"input\": \"t\"}");
    api.post("/api/instances/" + id + "/suspend", "{\"reason\": \"maintenance\"}").expect(202);
    assertEquals(
        "SUSPENDED",
        api.get("/api/instances/" + id).expect(200).json().get("runtimeStatus").asText());
    api.post("/api/instances/" + id + "/resume", null).expect(202);
    assertEquals(
        "RUNNING",
        api.get("/api/instances/" + id).expect(200).json().get("runtimeStatus").asText());
    api.post("/api/instances/" + id + "/terminate", "{\"reason\": \"no longer needed\"}")
        .expect(202);
    JsonNode done = waitFor(id);
    assertEquals("TERMINATED", done.get("runtimeStatus").asText(), done.toString());

    Reply badReason = api.post("/api/instances/" + id + "/terminate", "{\"reason\": 42}");
    assertTrue(badReason.error(400).contains("'reason' must be a string"), badReason.body());
  }

  @Test
  void purgesOneEndedInstanceAndRefusesARunningOne() {
    String id = start("{\"name\": \"Square\", \"input\": 7}");
    assertEquals(49, waitFor(id).get("output").asInt());
    assertTrue(api.delete("/api/instances/" + id).expect(200).json().get("purged").asBoolean());
    api.get("/api/instances/" + id).error(404);
    api.delete("/api/instances/" + id).error(404);

    String running = start("{\"name\": \"Waiter\", \"input\": \"p\"}");
    String message = api.delete("/api/instances/" + running).error(409);
    assertTrue(message.toLowerCase().contains("not ended") || message.contains("RUNNING"), message);
    api.post("/api/instances/" + running + "/terminate", null).expect(202);
  }

  @Test
  void purgesByFilterOnlyEndedInstances() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(
          start("{\"name\": \"Square\", \"input\": " + i + ", \"instanceId\": \"pf-" + i + "\"}"));
    }
    ids.forEach(ManagementApiTest::waitFor);
    start("{\"name\": \"Waiter\", \"input\": \"w\", \"instanceId\": \"pf-running\"}");
    start("{\"name\": \"Square\", \"input\": 1, \"instanceId\": \"other-1\"}");
    waitFor("other-1");

    JsonNode purged =
        api.post(
                "/api/purge", "{\"idPrefix\": \"pf-\", \"statuses\": [\"COMPLETED\", \"RUNNING\"]}")
            .expect(200)
            .json();
    assertEquals(5, purged.get("purged").asInt(), purged.toString());
    for (String id : ids) {
      api.get("/api/instances/" + id).error(404);
    }
    assertEquals(
        "RUNNING",
        api.get("/api/instances/pf-running").expect(200).json().get("runtimeStatus").asText());
    api.get("/api/instances/other-1").expect(200);

    Reply badStatus = api.post("/api/purge", "{\"statuses\": [\"DONE\"]}");
    assertTrue(badStatus.error(400).contains("'DONE', which is not a status"), badStatus.body());
    api.post("/api/instances/pf-running/terminate", null).expect(202);
  }

  @Test
  void listsWithFiltersAndPages() {
    for (int i = 0; i < 5; i++) {
      start("{\"name\": \"Square\", \"input\": " + i + ", \"instanceId\": \"list-" + i + "\"}");
    }
    for (int i = 0; i < 5; i++) {
      waitFor("list-" + i);
    }
    start("{\"name\": \"Waiter\", \"input\": \"l\", \"instanceId\": \"list-waiter\"}");

    Set<String> seen = new HashSet<>();
    String token = null;
    int pages = 0;
    do {
      String path =
          "/api/instances?idPrefix=list-&pageSize=2"
              + (token == null
                  ? ""
                  : "&continuationToken="
                      + java.net.URLEncoder.encode(token, java.nio.charset.StandardCharsets.UTF_8));
      JsonNode page = api.get(path).expect(200).json();
      assertTrue(page.get("instances").size() <= 2, page.toString());
      page.get("instances")
          .forEach(i -> assertTrue(seen.add(i.get("instanceId").asText()), "listed twice: " + i));
      token =
          page.get("continuationToken").isNull() ? null : page.get("continuationToken").asText();
      pages++;
    } while (token != null && pages < 20);
    assertEquals(6, seen.size(), seen.toString());

    JsonNode completed =
        api.get("/api/instances?idPrefix=list-&status=completed").expect(200).json();
    assertEquals(5, completed.get("instances").size(), completed.toString());
    JsonNode waiters = api.get("/api/instances?idPrefix=list-&name=Waiter").expect(200).json();
    assertEquals(1, waiters.get("instances").size(), waiters.toString());
    assertEquals("list-waiter", waiters.get("instances").get(0).get("instanceId").asText());

    Reply badToken = api.get("/api/instances?continuationToken=garbage");
    assertTrue(
        badToken.error(400).contains("'garbage' is not a continuation token"), badToken.body());
    assertEquals("continuationToken", badToken.json().get("field").asText());
    Reply outOfRange = api.get("/api/instances?continuationToken=99:x");
    outOfRange.error(400);
    Reply badStatus = api.get("/api/instances?status=FINISHED");
    assertEquals("status", badStatus.json().get("field").asText());
    assertTrue(badStatus.error(400).contains("COMPLETED"), badStatus.body());
    assertTrue(api.get("/api/instances?pageSize=0").error(400).contains("between 1 and 1000"));
    assertTrue(api.get("/api/instances?pageSize=ten").error(400).contains("whole number"));
    assertTrue(api.get("/api/instances?createdFrom=yesterday").error(400).contains("ISO-8601"));
    api.post("/api/instances/list-waiter/terminate", null).expect(202);
  }

  @Test
  void signalsAndReadsAnEntity() throws InterruptedException {
    api.post("/api/entities/Counter/k1/signals/add", "5").expect(202);
    api.post("/api/entities/Counter/k1/signals/add", "3").expect(202);
    JsonNode entity = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      entity = api.get("/api/entities/Counter/k1").expect(200).json();
      if (entity.get("state").asInt() == 8) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(8, entity.get("state").asInt(), entity.toString());
    assertTrue(entity.get("exists").asBoolean());
    assertTrue(entity.get("lockedBy").isNull());
    assertFalse(
        api.get("/api/entities/Counter/never-used").expect(200).json().get("exists").asBoolean());

    Reply unknownType = api.get("/api/entities/Countr/k1");
    assertTrue(unknownType.error(400).contains("No entity named 'Countr'"), unknownType.body());
    Reply unknownOp = api.post("/api/entities/Counter/k1/signals/subtract", "1");
    assertTrue(
        unknownOp.error(400).contains("no operation 'subtract'; its operations are: add, get"),
        unknownOp.body());
    assertEquals("operation", unknownOp.json().get("field").asText());
    Reply wrongInput = api.post("/api/entities/Counter/k1/signals/add", "{\"by\": 1}");
    assertTrue(wrongInput.error(400).contains("java.lang.Integer"), wrongInput.body());
  }

  @Test
  void listsEntitiesWithFiltersAndPages() throws InterruptedException {
    // Keys ending in !n spread the entities over the four partitions, so pages cross partitions.
    for (int i = 0; i < 6; i++) {
      api.post("/api/entities/Counter/lst-" + i + "!" + (i % 4) + "/signals/add", "" + i)
          .expect(202);
    }
    api.post("/api/entities/Counter/other-1/signals/add", "1").expect(202);
    Set<String> seen = new HashSet<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      seen.clear();
      String token = null;
      int pages = 0;
      do {
        JsonNode page =
            api.get(
                    "/api/entities?name=Counter&keyPrefix=lst-&pageSize=4"
                        + (token == null ? "" : "&continuationToken=" + encode(token)))
                .expect(200)
                .json();
        assertTrue(page.get("entities").size() <= 4, page.toString());
        for (JsonNode e : page.get("entities")) {
          assertEquals("Counter", e.get("name").asText(), e.toString());
          assertTrue(e.get("key").asText().startsWith("lst-"), e.toString());
          assertEquals("@Counter@" + e.get("key").asText(), e.get("entityId").asText());
          assertTrue(seen.add(e.get("key").asText()), "listed twice: " + e);
          int n = Integer.parseInt(e.get("key").asText().substring(4, 5));
          if (e.get("backlog").asInt() == 0) {
            assertEquals(n, e.get("state").asInt(), e.toString());
          }
        }
        token =
            page.get("continuationToken").isNull() ? null : page.get("continuationToken").asText();
        pages++;
      } while (token != null && pages < 20);
      if (seen.size() == 6 || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(100); // the signals are durably queued; their entities appear as they run
    }
    assertEquals(6, seen.size(), seen.toString());

    JsonNode all = api.get("/api/entities?pageSize=1000").expect(200).json();
    Set<String> everything = new HashSet<>();
    all.get("entities").forEach(e -> everything.add(e.get("key").asText()));
    assertTrue(everything.containsAll(seen), everything.toString());
    assertTrue(everything.contains("other-1"), everything.toString());
    assertTrue(all.get("continuationToken").isNull(), all.toString());

    Reply prefixWithoutName = api.get("/api/entities?keyPrefix=lst-");
    assertTrue(
        prefixWithoutName.error(400).contains("give its 'name' too"), prefixWithoutName.body());
    assertEquals("keyPrefix", prefixWithoutName.json().get("field").asText());
    Reply unknownType = api.get("/api/entities?name=Countr");
    assertTrue(unknownType.error(400).contains("No entity named 'Countr'"), unknownType.body());
    Reply badToken = api.get("/api/entities?continuationToken=garbage");
    assertTrue(
        badToken.error(400).contains("'garbage' is not a continuation token"), badToken.body());
    assertEquals("continuationToken", badToken.json().get("field").asText());
    api.get("/api/entities?continuationToken=99:x").error(400);
    assertTrue(api.get("/api/entities?pageSize=0").error(400).contains("between 1 and 1000"));
    api.post("/api/entities", "{}").error(405);
  }

  private static String encode(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void showsThePartitionsAndTheNodeHostingThem() {
    start("{\"name\": \"Square\", \"input\": 3, \"instanceId\": \"part-1\"}");
    waitFor("part-1");
    JsonNode p = api.get("/api/partitions").expect(200).json();
    assertEquals(4, p.get("partitionCount").asInt());
    String self = p.get("self").asText();
    assertEquals(1, p.get("nodes").size(), p.toString());
    assertEquals(self, p.get("nodes").get(0).get("address").asText());
    assertEquals("Up", p.get("nodes").get(0).get("status").asText());
    assertEquals(4, p.get("nodes").get(0).get("partitions").size());
    int instances = 0;
    for (JsonNode partition : p.get("partitions")) {
      assertEquals("running", partition.get("state").asText(), partition.toString());
      assertEquals(self, partition.get("node").asText());
      assertTrue(partition.get("journalWrites").asLong() >= 1, partition.toString());
      instances += partition.get("instances").asInt();
    }
    assertTrue(instances >= 1, p.toString());
  }

  @Test
  void listsTheRegisteredOrchestrationsAndEntities() {
    JsonNode c = api.get("/api/orchestrations").expect(200).json();
    assertEquals("Hello5", c.get("orchestrations").get(0).get("name").asText());
    assertEquals("java.lang.Integer", c.get("orchestrations").get(1).get("inputType").asText());
    assertEquals("Counter", c.get("entities").get(0).get("name").asText());
    assertEquals("add", c.get("entities").get(0).get("operations").get(0).get("name").asText());
  }

  @Test
  void unknownEndpointsAndMethodsAreJsonErrors() {
    assertTrue(
        api.get("/api/nothing-here")
            .error(404)
            .contains("There is no endpoint GET /api/nothing-here"));
    assertTrue(api.delete("/api/partitions").error(405).contains("use GET"));
    assertTrue(
        api.send("PUT", "/api/instances", "{}", null).error(405).contains("use GET or POST"));
  }

  @Test
  void withATokenConfiguredRequestsNeedIt() {
    Api noToken = new Api(guarded.uri(), null);
    Reply missing = noToken.get("/api/instances");
    assertTrue(missing.error(401).contains("requires a bearer token"), missing.body());
    Reply wrong = new Api(guarded.uri(), "guess").get("/api/instances");
    assertTrue(wrong.error(401).contains("not the one this server expects"), wrong.body());
    Reply notBearer = noToken.send("GET", "/api/partitions", null, null);
    notBearer.error(401);
    new Api(guarded.uri(), TOKEN).get("/api/instances").expect(200);
    new Api(guarded.uri(), TOKEN)
        .post("/api/instances", "{\"name\": \"Square\", \"input\": 4}")
        .expect(201);
    // The page, the probes and the metrics stay open.
    noToken.get("/").expect(200);
    noToken.get("/alive").expect(200);
    noToken.get("/metrics").expect(200);
    // Pekko Management's cluster routes are behind the token too.
    noToken.get("/cluster/members").error(401);
  }
}
