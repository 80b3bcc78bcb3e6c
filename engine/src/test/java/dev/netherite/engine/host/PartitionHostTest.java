package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The host's lifecycle and commit log, step by step, with ports that only record what they are
 * asked. The seeded simulation runs the same host under faults; this pins the rules one at a time.
 */
class PartitionHostTest {
  private final List<EventBatch> writes = new ArrayList<>();
  private final List<Checkpoint> checkpoints = new ArrayList<>();
  private final List<Long> deletions = new ArrayList<>();
  private final List<String> replies = new ArrayList<>();
  private int stops;

  private final PartitionHost host =
      new PartitionHost(
          0,
          new HostSettings(
              1,
              PersistenceMode.LOCAL,
              2000,
              20_000,
              Duration.ZERO,
              2,
              Duration.ofSeconds(30),
              true,
              10,
              100,
              100,
              Duration.ofSeconds(1),
              10),
          new PartitionPorts(
              new PartitionPorts.Journal() {
                @Override
                public void write(EventBatch batch) {
                  writes.add(batch);
                }

                @Override
                public void saveCheckpoint(Checkpoint checkpoint) {
                  checkpoints.add(checkpoint);
                }

                @Override
                public void loadRecords(long number) {
                  throw new AssertionError("nothing to load: the host starts empty");
                }

                @Override
                public void deleteUpTo(long seqNr) {
                  deletions.add(seqNr);
                }

                @Override
                public long lastSequenceNr() {
                  return writes.size();
                }
              },
              (destination, message) -> {},
              new PartitionPorts.LocalWork() {
                @Override
                public OrchestrationRun loadRun(
                    String instanceId,
                    String executionId,
                    String orchestrationName,
                    List<HistoryEvent> history) {
                  throw new AssertionError("no orchestration runs here");
                }

                @Override
                public void step(
                    OrchestrationRun run,
                    long stepNumber,
                    Instant stepTime,
                    List<HistoryEvent> newEvents) {}

                @Override
                public void startActivity(Effect.StartActivity activity) {}

                @Override
                public void cancelActivities(String instanceId) {}

                @Override
                public void startEntityBatch(Effect.RunEntityBatch batch) {}
              },
              new PartitionPorts.Clock() {
                @Override
                public Instant now() {
                  return Instant.EPOCH;
                }

                @Override
                public long nanoTime() {
                  return 0;
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
                public void error(String message, Throwable cause) {}
              },
              new PartitionPorts.Metrics() {
                @Override
                public void journalWrite(int events) {}

                @Override
                public void journalWriteLatency(long nanos) {}

                @Override
                public void checkpoint() {}
              },
              () -> stops++));

  /** A request that changes nothing but is logged and answered: an event for no instance. */
  private void request(String id) {
    host.input(
        new HostInput.ClientCommand(
            id, new ClientRequest.RaiseEvent("nobody", "e", "1"), r -> replies.add(id)));
  }

  @Test
  void aReplyLeavesOnlyOnceItsWriteIsDurable() {
    host.recoveryCompleted();
    request("r1");
    assertEquals(1, writes.size());
    assertEquals(List.of(), replies);
    host.onWritten();
    assertEquals(List.of("r1"), replies);
  }

  @Test
  void whatArrivesDuringAWriteGoesIntoTheNextOne() {
    host.recoveryCompleted();
    request("r1");
    request("r2");
    request("r3");
    assertEquals(1, writes.size());
    host.onWritten();
    assertEquals(2, writes.size());
    assertEquals(2, writes.get(1).events().size());
    assertEquals(List.of("r1"), replies);
    host.onWritten();
    assertEquals(List.of("r1", "r2", "r3"), replies);
  }

  @Test
  void aCheckpointIsCapturedWhenNothingIsInFlightAndInputGoesOnWhileItIsStored() {
    host.recoveryCompleted();
    request("r1");
    host.onWritten(); // 1 event since the last checkpoint
    request("r2");
    request("r3"); // buffered behind r2's write
    host.onWritten(); // 2 events: a checkpoint is due, but r3 is buffered
    assertEquals(PartitionHost.Phase.CHECKPOINTING, host.phase());
    assertEquals(3, writes.size(), "the buffer is written first");
    assertEquals(0, checkpoints.size(), "no checkpoint with a write in flight");

    request("r4"); // arrives while waiting for the quiescent point: waits
    assertEquals(1, host.stashedInputs());
    host.onWritten();
    assertEquals(1, checkpoints.size());
    assertEquals(3, checkpoints.get(0).number(), "labelled with the last durable batch");
    assertEquals(PartitionHost.Phase.RUNNING, host.phase(), "captured: the host runs on");
    assertEquals(4, writes.size(), "the waiting input is taken while the checkpoint is stored");
    assertEquals(0, host.stashedInputs());

    request("r5");
    host.onWritten();
    request("r6");
    host.onWritten(); // events enough for the next checkpoint, but one is being stored
    assertEquals(1, checkpoints.size(), "one checkpoint at a time");
    assertEquals(List.of("r1", "r2", "r3", "r4", "r5"), replies);

    host.onCheckpointSaved(3);
    assertEquals(List.of(3L), deletions);
    assertEquals(PartitionHost.Phase.RUNNING, host.phase());
    assertEquals(2, host.eventsSinceCheckpoint(), "what came after the capture counts");
  }

  @Test
  void aFailedCheckpointCountsItsEventsAgainForTheNext() {
    host.recoveryCompleted();
    request("r1");
    host.onWritten();
    request("r2");
    host.onWritten(); // a checkpoint at 2
    assertEquals(1, checkpoints.size());
    request("r3");
    host.onWritten();
    host.onCheckpointFailed(new IOException("refused"));
    assertEquals(3, host.eventsSinceCheckpoint());
    assertEquals(PartitionHost.Phase.RUNNING, host.phase());
  }

  @Test
  void aHandOffDuringACheckpointTakesAFinalOneAfterIt() {
    host.recoveryCompleted();
    request("r1");
    host.onWritten();
    request("r2");
    host.onWritten(); // a checkpoint at 2 is being stored
    request("r3");
    host.handOff();
    host.onWritten();
    assertEquals(1, checkpoints.size(), "still one at a time");
    host.onCheckpointSaved(2);
    assertEquals(PartitionHost.Phase.HANDING_OFF, host.phase());
    assertEquals(2, checkpoints.size(), "the final checkpoint holds r3");
    assertEquals(3, checkpoints.get(1).number());
    host.onCheckpointSaved(3);
    assertEquals(PartitionHost.Phase.STOPPED, host.phase());
  }

  @Test
  void aHandOffTakesAFinalCheckpointThenStops() {
    host.recoveryCompleted();
    request("r1");
    host.handOff();
    assertEquals(PartitionHost.Phase.HANDING_OFF, host.phase());
    assertEquals(0, checkpoints.size());
    host.onWritten();
    assertEquals(1, checkpoints.size());
    host.onCheckpointSaved(1);
    assertEquals(PartitionHost.Phase.STOPPED, host.phase());
    assertEquals(1, stops);
  }

  @Test
  void aFailedWriteStopsTheHostAndNothingOfItIsAnswered() {
    host.recoveryCompleted();
    request("r1");
    host.onWriteFailed(new IOException("refused"), 1);
    assertEquals(PartitionHost.Phase.STOPPED, host.phase());
    assertEquals(1, stops);
    request("r2");
    host.onWritten();
    assertEquals(1, writes.size());
    assertTrue(replies.isEmpty(), "nothing of a lost write is answered: " + replies);
  }

  @Test
  void inputWaitsWhileRecovering() {
    request("r1");
    assertEquals(0, writes.size());
    assertEquals(1, host.stashedInputs());
    host.recoveryCompleted();
    assertEquals(1, writes.size());
    host.onWritten();
    assertEquals(List.of("r1"), replies);
  }
}
