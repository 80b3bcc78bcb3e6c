package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.StoredRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
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

  private Instant now = T0;
  private final List<EventBatch> durable = new ArrayList<>();
  private EventBatch inFlight;
  private Checkpoint saving;
  private final ArrayDeque<String> loads = new ArrayDeque<>();
  private final Map<String, TreeMap<Long, Boolean>> rows = new TreeMap<>(); // key -> number -> gone
  private final Map<String, ClientResponse> answers = new HashMap<>();
  private PartitionHost host;

  private static HostSettings persistFirst() {
    return new HostSettings(
        1,
        PersistenceMode.PERSIST_FIRST,
        2000,
        20_000,
        Duration.ZERO,
        1_000_000,
        HostSettings.DEFAULT_CHECKPOINT_AFTER_BYTES,
        Duration.ofSeconds(1),
        false,
        10,
        100,
        100,
        Duration.ofSeconds(1),
        10,
        HostSettings.DEFAULT_MAX_BATCH_BYTES,
        0, // ended instances leave memory at every checkpoint
        100,
        null,
        Duration.ofSeconds(5),
        RecordBudget.UNLIMITED);
  }

  private PartitionHost newHost() {
    PartitionPorts.Journal journal =
        new PartitionPorts.Journal() {
          @Override
          public void write(EventBatch batch) {
            inFlight = batch;
          }

          @Override
          public void saveCheckpoint(Checkpoint checkpoint) {
            saving = checkpoint;
          }

          @Override
          public void loadRecords(long number, List<String> keys) {
            throw new AssertionError("the host starts empty");
          }

          @Override
          public void loadRecord(long number, String key) {
            loads.add(key);
          }

          @Override
          public void scanRecords(
              long listId,
              long number,
              String keyPrefix,
              String afterKey,
              int limit,
              Predicate<StoredRecord> filter) {
            throw new AssertionError("no list here");
          }

          @Override
          public void deleteUpTo(long seqNr) {}

          @Override
          public long lastSequenceNr() {
            return durable.size();
          }
        };
    PartitionPorts.LocalWork work =
        new PartitionPorts.LocalWork() {
          @Override
          public OrchestrationRun loadRun(
              String instanceId,
              String executionId,
              String orchestrationName,
              List<HistoryEvent> history) {
            throw new AssertionError("no step runs: instances wait for their scheduled start");
          }

          @Override
          public void step(
              OrchestrationRun run, long stepNumber, Instant stepTime, List<HistoryEvent> e) {}

          @Override
          public void startActivity(Effect.StartActivity activity) {}

          @Override
          public void cancelActivities(String instanceId) {}

          @Override
          public void startEntityBatch(Effect.RunEntityBatch batch) {}
        };
    return new PartitionHost(
        0,
        persistFirst(),
        new PartitionPorts(
            journal,
            (destination, message) -> {},
            work,
            new PartitionPorts.Clock() {
              @Override
              public Instant now() {
                return now;
              }

              @Override
              public long nanoTime() {
                return Duration.between(T0, now).toNanos();
              }
            },
            new PartitionPorts.Timers() {
              @Override
              public void startSingle(HostTimer timer, Duration delay) {}

              @Override
              public void startPeriodic(HostTimer timer, Duration interval) {}

              @Override
              public void cancel(HostTimer timer) {}
            },
            new PartitionPorts.Log() {
              @Override
              public void info(Supplier<String> message) {}

              @Override
              public void warn(String message) {}

              @Override
              public void error(String message, Throwable cause) {
                throw new AssertionError(message, cause);
              }
            },
            new PartitionPorts.Metrics() {
              @Override
              public void journalWrite(int events) {}

              @Override
              public void journalWriteLatency(long nanos) {}

              @Override
              public void checkpoint() {}
            },
            () -> {
              throw new AssertionError("the host stopped");
            }));
  }

  // ---------------------------------------------------------------- the fake store

  /** Completes writes until none is in flight. */
  private void writeAll() {
    while (inFlight != null) {
      durable.add(inFlight);
      inFlight = null;
      host.onWritten();
    }
  }

  /** The partition has been idle long enough: it captures a checkpoint, which is being stored. */
  private void beginCheckpoint() {
    now = now.plusSeconds(2);
    host.input(new HostInput.TimerFired(HostTimer.CHECKPOINT_IF_IDLE));
    assertNotNull(saving, "a checkpoint was taken");
  }

  /** The checkpoint being stored is committed. */
  private void commitCheckpoint() {
    Checkpoint c = saving;
    saving = null;
    for (StoredRecord r : c.records()) {
      rows.computeIfAbsent(r.key(), k -> new TreeMap<>()).put(c.number(), r.deleted());
    }
    host.onCheckpointSaved(c.number());
  }

  private void checkpoint() {
    writeAll();
    beginCheckpoint();
    commitCheckpoint();
  }

  /** Answers the oldest record read the host asked for, as of the last committed checkpoint. */
  private void answerLoad() {
    String key = loads.poll();
    assertNotNull(key, "the host asked for a record");
    long number = rows.get(key).lastKey();
    PartitionState at = new PartitionState(0, 1, 100);
    for (int k = 0; k < number; k++) {
      durable.get(k).events().forEach(at::apply);
    }
    host.onRecordLoaded(key, rows.get(key).get(number) ? null : at.record(key));
  }

  private void command(String requestId, ClientRequest request) {
    host.input(new HostInput.ClientCommand(requestId, request, r -> answers.put(requestId, r)));
  }

  // ---------------------------------------------------------------- tests

  @Test
  void aRequestRecordedForAnEndedInstanceKeepsItInMemoryUntilTheRequestIsApplied() {
    host = newHost();
    host.recoveryCompleted();
    command("start", new ClientRequest.StartOrchestration("x", "Hello", "null", NEVER, Set.of()));
    command("end", new ClientRequest.Terminate("x", "done"));
    checkpoint();
    assertNull(host.state().instance("x"), "the ended instance left memory");

    // A terminate of the ended instance reads it back first.
    command("t1", new ClientRequest.Terminate("x", "again"));
    answerLoad();
    writeAll();
    assertEquals(new ClientResponse.Accepted(), answers.get("t1"));
    assertNotNull(host.state().instance("x"), "read back");

    // While a checkpoint is stored, another terminate finds it in memory and is recorded; the
    // checkpoint commits before that write is durable. The request must still meet the record when
    // it is applied, as its replay does (which reads it back first).
    beginCheckpoint();
    command("t2", new ClientRequest.Terminate("x", "once more"));
    assertTrue(loads.isEmpty(), "in memory: not read");
    assertNotNull(inFlight, "recorded");
    commitCheckpoint();
    writeAll();
    assertEquals(new ClientResponse.Accepted(), answers.get("t2"), "as for an ended instance");
    assertNotNull(host.state().instance("x"), "kept for the request recorded but not applied");
    assertEquals(RuntimeStatus.TERMINATED, host.state().instance("x").status());

    // Applied: nothing keeps it in memory any more.
    checkpoint();
    assertNull(host.state().instance("x"), "left memory at the next checkpoint");
  }
}
