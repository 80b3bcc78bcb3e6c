package dev.netherite.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.management.cli.NetheriteCliAccess;
import dev.netherite.runtime.DurableRuntime;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** bin/netherite's commands against a running management server. */
@Timeout(180)
class NetheriteCliTest {
  private static final String TOKEN = "cli-token";
  private static DurableRuntime runtime;
  private static NetheriteManagement management;

  @BeforeAll
  static void start() {
    runtime =
        DurableRuntime.start(
            ManagementTestKit.app(),
            ManagementTestKit.config(
                "mgmt-cli",
                Map.of(
                    "netherite.management.port", 18503, "netherite.management.auth-token", TOKEN)));
    management = NetheriteManagement.start(runtime);
  }

  @AfterAll
  static void stop() {
    if (management != null) {
      management.close();
    }
    if (runtime != null) {
      runtime.close();
    }
  }

  private static NetheriteCliAccess.Run cli(String... args) {
    String[] all = new String[args.length + 4];
    all[0] = "--url";
    all[1] = management.uri().toString();
    all[2] = "--token";
    all[3] = TOKEN;
    System.arraycopy(args, 0, all, 4, args.length);
    return NetheriteCliAccess.run(all);
  }

  @Test
  void startsWaitsAndShowsAnInstance() {
    NetheriteCliAccess.Run started = cli("start", "Hello5", "--id", "cli-hello");
    assertEquals(0, started.exit(), started.err());
    assertEquals("cli-hello", started.out().strip());
    NetheriteCliAccess.Run waited = cli("wait", "cli-hello");
    assertEquals(0, waited.exit(), waited.err());
    assertTrue(waited.out().contains("runtimeStatus  COMPLETED"), waited.out());
    NetheriteCliAccess.Run history = cli("history", "cli-hello");
    assertTrue(history.out().startsWith("TIME"), history.out());
    assertTrue(history.out().contains("TaskScheduled"), history.out());
    assertTrue(history.out().contains("activityName=SayHello"), history.out());
    NetheriteCliAccess.Run json = cli("--json", "status", "cli-hello");
    assertTrue(json.out().contains("\"runtimeStatus\" : \"COMPLETED\""), json.out());
    NetheriteCliAccess.Run list = cli("list", "--prefix", "cli-", "--status", "COMPLETED");
    assertTrue(
        list.out().lines().anyMatch(l -> l.startsWith("cli-hello") && l.contains("Hello5")),
        list.out());
    assertEquals(0, cli("purge", "cli-hello").exit());
    NetheriteCliAccess.Run gone = cli("status", "cli-hello");
    assertEquals(1, gone.exit());
    assertTrue(gone.err().contains("404: There is no instance with id 'cli-hello'"), gone.err());
  }

  @Test
  void raisesTerminatesAndSignals() throws InterruptedException {
    assertEquals(0, cli("start", "Waiter", "--input", "\"w\"", "--id", "cli-waiter").exit());
    NetheriteCliAccess.Run raised = cli("raise", "cli-waiter", "Approval", "\"ok\"");
    assertEquals(0, raised.exit(), raised.err());
    assertTrue(cli("wait", "cli-waiter").out().contains("w:ok"));
    assertEquals(0, cli("start", "Waiter", "--input", "\"t\"", "--id", "cli-term").exit());
    assertEquals(0, cli("terminate", "cli-term", "not", "needed").exit());
    assertTrue(cli("wait", "cli-term").out().contains("TERMINATED"));
    NetheriteCliAccess.Run purged =
        cli("purge", "--status", "COMPLETED,TERMINATED", "--prefix", "cli-");
    assertTrue(purged.out().contains("purged 2 instances"), purged.out() + purged.err());

    assertEquals(0, cli("signal", "Counter", "c", "add", "2").exit());
    String entity = "";
    for (int i = 0; i < 100 && !entity.contains("state     2"); i++) {
      entity = cli("entity", "Counter", "c").out();
      Thread.sleep(100);
    }
    assertTrue(entity.contains("state     2"), entity);
    assertEquals(0, cli("signal", "Counter", "c2", "add", "7").exit());
    String entities = "";
    for (int i = 0; i < 100 && !entities.contains("c2"); i++) {
      entities = cli("entities", "--name", "Counter", "--prefix", "c").out();
      Thread.sleep(100);
    }
    assertTrue(
        entities.lines().findFirst().orElse("").matches("ENTITY +KEY +STATE +LOCKED BY +BACKLOG"),
        entities);
    assertTrue(entities.lines().anyMatch(l -> l.matches("Counter +c +2 +- +0")), entities);
    assertTrue(entities.lines().anyMatch(l -> l.matches("Counter +c2 +(7|0) +- +\\d+")), entities);
    NetheriteCliAccess.Run paged = cli("--json", "entities", "--page-size", "1");
    assertEquals(1, paged.out().split("\"entityId\"", -1).length - 1, paged.out());
    assertTrue(paged.out().contains("\"continuationToken\" : \""), paged.out());
    NetheriteCliAccess.Run partitions = cli("partitions");
    assertTrue(partitions.out().contains("(this node)"), partitions.out());
    assertEquals(
        4,
        partitions.out().lines().filter(l -> l.matches("\\d+ +running .*")).count(),
        partitions.out());
  }

  @Test
  void errorsAreReadable() {
    NetheriteCliAccess.Run unknown = cli("start", "Nope");
    assertEquals(1, unknown.exit());
    assertTrue(unknown.err().contains("400: No orchestration named 'Nope'"), unknown.err());
    NetheriteCliAccess.Run badJson = cli("start", "Square", "--input", "{oops");
    assertEquals(2, badJson.exit());
    assertTrue(badJson.err().contains("--input is not JSON"), badJson.err());
    NetheriteCliAccess.Run usage = cli("frobnicate");
    assertEquals(2, usage.exit());
    assertTrue(usage.err().contains("unknown command 'frobnicate'"), usage.err());
    NetheriteCliAccess.Run noToken =
        NetheriteCliAccess.run(new String[] {"--url", management.uri().toString(), "list"});
    assertEquals(1, noToken.exit());
    assertTrue(noToken.err().contains("401: This server requires a bearer token"), noToken.err());
    NetheriteCliAccess.Run nobody =
        NetheriteCliAccess.run(new String[] {"--url", "http://127.0.0.1:18599/", "list"});
    assertEquals(1, nobody.exit());
    assertTrue(nobody.err().contains("cannot reach the management server"), nobody.err());
  }
}
