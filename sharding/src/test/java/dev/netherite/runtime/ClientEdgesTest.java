package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceQuery;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.dsl.Workflows;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.runtime.internal.NodeServices;
import dev.netherite.runtime.internal.PartitionCommand;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * What arrives at the client API and at a partition from outside is checked: partition numbers in
 * continuation tokens and in messages, null arguments, zero timeouts, and types the data converter
 * can write but not read back.
 */
@Timeout(180)
class ClientEdgesTest {
  /** Jackson writes its field, but cannot create it again: no creator, no no-argument ctor. */
  static final class WriteOnly {
    private final int value;

    WriteOnly(int value) {
      this.value = value;
    }

    @Override
    public String toString() {
      return "WriteOnly(" + value + ")";
    }
  }

  static final OrchestrationRef<WriteOnly, String> TAKES_WRITE_ONLY =
      OrchestrationRef.of("TakesWriteOnly", WriteOnly.class, String.class);
  static final EntityOp<Integer, Void> ADD = EntityOp.of("add", Integer.class, Void.class);
  static final EntityType<Integer> COUNTER =
      EntityType.define("EdgeCounter", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, n) -> {
                ctx.setState(ctx.state() + n);
                return null;
              });

  private static DurableRuntime runtime;
  private static DurableClient client;

  @BeforeAll
  static void start() {
    Workflows app =
        TestWorkflows.register(Workflows.builder())
            .orchestration(TAKES_WRITE_ONLY, (ctx, w) -> "got " + w)
            .entity(COUNTER)
            .build();
    runtime =
        RuntimeTestKit.start(
            app,
            RuntimeTestKit.newTaskHub("edges"),
            Map.of("netherite.partition-count", 2),
            DurableRuntime.Options.defaults());
    client = runtime.client();
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void continuationTokensNamingNoPartitionAreRefused() {
    for (String token : List.of("-1:", "2:", "99:abc", "x:", "nocolon")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> client.list(InstanceQuery.all().continueAfter(token)),
              token);
      assertTrue(e.getMessage().contains("continuation token"), e.getMessage());
    }
    // A real token still works.
    client.start(TestWorkflows.WAIT_EVENT, null, StartOptions.defaults().instanceId(id("a")));
    client.start(TestWorkflows.WAIT_EVENT, null, StartOptions.defaults().instanceId(id("b")));
    var first = client.list(InstanceQuery.all().withPageSize(1));
    assertEquals(1, first.instances().size());
    var next =
        client.list(InstanceQuery.all().withPageSize(1).continueAfter(first.continuationToken()));
    assertEquals(1, next.instances().size());
  }

  @Test
  void aDeliveryFromAPartitionThatDoesNotExistIsDropped() throws Exception {
    ClusterSharding sharding = ClusterSharding.get(runtime.system());
    var target = sharding.entityRefFor(NodeServices.PARTITION, "0");
    String bogus = "from-nowhere!0";
    target.tell(
        new PartitionCommand.Deliver(
            -5,
            1,
            List.of(
                new PartitionMessage.ExecutionRequested(bogus, "WaitEvent", null, null, null, 0))));
    // The same message from a partition that exists (channel 1 -> 0, unused in this test) is
    // applied: the check drops the bad origin, not the message kind.
    String good = "from-partition-1!0";
    target.tell(
        new PartitionCommand.Deliver(
            1,
            1,
            List.of(
                new PartitionMessage.ExecutionRequested(good, "WaitEvent", null, null, null, 0))));
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (client.getStatus(InstanceId.of(good)).isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "the good delivery was not applied");
      Thread.sleep(50);
    }
    assertEquals(Optional.empty(), client.getStatus(InstanceId.of(bogus)));
  }

  @Test
  void nullArgumentsAreRefusedNamingTheParameter() {
    InstanceId some = id("null-args");
    EntityId entity = COUNTER.id("k");
    assertNamed(
        "orchestration", () -> client.start((OrchestrationRef<Void, Object>) null, null, null));
    assertNamed("options", () -> client.start(TestWorkflows.HELLO5, null, null));
    assertNamed("orchestrationName", () -> client.start((String) null, null, null));
    assertNamed("instanceId", () -> client.waitForCompletion(null, Duration.ofSeconds(1)));
    assertNamed("timeout", () -> client.waitForCompletion(some, null));
    assertNamed("instanceId", () -> client.getStatus(null, false));
    assertNamed("instanceId", () -> client.raiseEvent(null, "E", 1));
    assertNamed("eventName", () -> client.raiseEvent(some, null, 1));
    assertNamed("instanceId", () -> client.terminate(null, "why"));
    assertNamed("instanceId", () -> client.suspend(null, "why"));
    assertNamed("instanceId", () -> client.resume(null, "why"));
    assertNamed("instanceId", () -> client.purge((InstanceId) null));
    assertNamed("query", () -> client.purge((InstanceQuery) null));
    assertNamed("entity", () -> client.signalEntity(null, ADD, 1));
    assertNamed("operation", () -> client.signalEntity(entity, null, 1));
    assertNamed("entity", () -> client.readEntity((EntityId) null, Integer.class));
    assertNamed("stateType", () -> client.readEntity(entity, null));
    assertNamed("query", () -> client.list(null));
    IllegalArgumentException blank =
        assertThrows(IllegalArgumentException.class, () -> client.raiseEvent(some, " ", 1));
    assertTrue(blank.getMessage().contains("eventName"), blank.getMessage());
  }

  @Test
  void aZeroTimeoutReturnsTheStatusOfAnEndedInstance() {
    InstanceId done = client.start(TestWorkflows.HELLO5, null);
    client.waitForCompletion(done, Duration.ofSeconds(30));
    InstanceStatus status = client.waitForCompletion(done, Duration.ZERO);
    assertEquals(RuntimeStatus.COMPLETED, status.runtimeStatus());
    InstanceId running =
        client.start(
            TestWorkflows.WAIT_EVENT, null, StartOptions.defaults().instanceId(id("zero-wait")));
    assertThrows(
        dev.netherite.dsl.DurableTimeoutException.class,
        () -> client.waitForCompletion(running, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> client.waitForCompletion(running, Duration.ofSeconds(-1)));
  }

  @Test
  void aTypeThatCannotBeReadBackIsRefusedAtTheCall() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> client.start(TAKES_WRITE_ONLY, new WriteOnly(7), StartOptions.defaults()));
    assertTrue(e.getMessage().contains("read back"), e.getMessage());
    assertTrue(e.getMessage().contains("WriteOnly"), e.getMessage());
    InstanceId waiting =
        client.start(
            TestWorkflows.WAIT_EVENT, null, StartOptions.defaults().instanceId(id("rt-event")));
    IllegalArgumentException event =
        assertThrows(
            IllegalArgumentException.class,
            () -> client.raiseEvent(waiting, "Approval", new WriteOnly(1)));
    assertTrue(event.getMessage().contains("read back"), event.getMessage());
    // Types that round-trip pass, the second time from the cache.
    client.raiseEvent(waiting, "Other", List.of(1, 2));
    client.raiseEvent(waiting, "Other", List.of(3));
  }

  private static void assertNamed(String parameter, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, parameter);
    assertTrue(
        e.getMessage().contains("'" + parameter + "'"),
        "message should name '" + parameter + "': " + e.getMessage());
  }

  private static InstanceId id(String name) {
    return InstanceId.of(name + "-" + System.nanoTime());
  }
}
