package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Client requests for an ended instance out of memory in {@code persist-first} mode, where a
 * request is applied only once its write is durable: a fake journal and instance store that answer
 * only when the test says, so that a checkpoint can commit between a request's recording and its
 * application. Instances are started with a scheduled start (no step runs) and terminated to end
 * them.
 */
class EndedInstanceRequestsTest {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Instant NEVER = T0.plus(Duration.ofDays(365));

  private final TestPorts ports =
      TestPorts.builder().startingAt(T0).strict().readsRecords().build();
  private final TestPorts.RecordingJournal journal = ports.journal;
  private final Map<String, ClientResponse> answers = new HashMap<>();
  private PartitionHost host;

  private static HostSettings persistFirst() {
    return TestPorts.settings(PersistenceMode.PERSIST_FIRST)
        .checkpointAfterIdle(Duration.ofSeconds(1))
        .keepCoveredEvents()
        .residentEndedInstances(0) // ended instances leave memory at every checkpoint
        .retentionCheckInterval(Duration.ofSeconds(5))
        .build();
  }

  // ---------------------------------------------------------------- the fake store

  /** The partition has been idle long enough: it captures a checkpoint, which is being stored. */
  private void beginCheckpoint() {
    ports.clock.advance(Duration.ofSeconds(2));
    host.input(new HostInput.TimerFired(HostTimer.CHECKPOINT_IF_IDLE));
    assertNotNull(journal.saving, "a checkpoint was taken");
  }

  private void checkpoint() {
    journal.completeAll(host);
    beginCheckpoint();
    journal.commitCheckpoint(host);
  }

  /** Answers the oldest record read the host asked for, as of the last committed checkpoint. */
  private void answerLoad() {
    String key = journal.recordLoads.poll();
    assertNotNull(key, "the host asked for a record");
    host.onRecordLoaded(key, journal.read(key, Long.MAX_VALUE));
  }

  private void command(String requestId, ClientRequest request) {
    host.input(new HostInput.ClientCommand(requestId, request, r -> answers.put(requestId, r)));
  }

  // ---------------------------------------------------------------- tests

  @Test
  void aRequestRecordedForAnEndedInstanceKeepsItInMemoryUntilTheRequestIsApplied() {
    host = ports.host(persistFirst());
    host.recoveryCompleted();
    command("start", new ClientRequest.StartOrchestration("x", "Hello", "null", NEVER, Set.of()));
    command("end", new ClientRequest.Terminate("x", "done"));
    checkpoint();
    assertNull(host.state().instance("x"), "the ended instance left memory");

    // A terminate of the ended instance reads it back first.
    command("t1", new ClientRequest.Terminate("x", "again"));
    answerLoad();
    journal.completeAll(host);
    assertEquals(new ClientResponse.Accepted(), answers.get("t1"));
    assertNotNull(host.state().instance("x"), "read back");

    // While a checkpoint is stored, another terminate finds it in memory and is recorded; the
    // checkpoint commits before that write is durable. The request must still meet the record when
    // it is applied, as its replay does (which reads it back first).
    beginCheckpoint();
    command("t2", new ClientRequest.Terminate("x", "once more"));
    assertTrue(journal.recordLoads.isEmpty(), "in memory: not read");
    assertNotNull(journal.inFlight, "recorded");
    journal.commitCheckpoint(host);
    journal.completeAll(host);
    assertEquals(new ClientResponse.Accepted(), answers.get("t2"), "as for an ended instance");
    assertNotNull(host.state().instance("x"), "kept for the request recorded but not applied");
    assertEquals(RuntimeStatus.TERMINATED, host.state().instance("x").status());

    // Applied: nothing keeps it in memory any more.
    checkpoint();
    assertNull(host.state().instance("x"), "left memory at the next checkpoint");
  }
}
