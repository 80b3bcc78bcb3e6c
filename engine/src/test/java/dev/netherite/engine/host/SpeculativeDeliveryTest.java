package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.HistoryEvent;
import dev.netherite.engine.orchestration.OrchestrationRun;
import dev.netherite.engine.partition.Effect;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionMessage;
import dev.netherite.engine.partition.StepId;
import dev.netherite.engine.partition.StoredRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The {@code global} mode at one host: what it records for messages from another partition's
 * speculative steps, and what it does when that partition says how far they survived.
 */
class SpeculativeDeliveryTest {
  private final List<EventBatch> writes = new ArrayList<>();
  private final List<PartitionLink> sent = new ArrayList<>();
  private final PartitionHost host = newHost();

  private static StepId s(long incarnation, long position) {
    return new StepId(incarnation, position);
  }

  /**
   * Partition 1 sent a message from step 3:9, then lost that step (its incarnation 3 survived only
   * to 3:4) and went on in incarnation 5. The message from 3:9 arrives late, after one from 5:1:
   * the dependency on 5:1 does not cover it, since 5:1 commits while 3:9 is lost. The host must
   * record its own dependency on 3:9 and take back what consumed it once partition 1 tells, never
   * acknowledge it: partition 1 numbers its channel again from what survived, and its next message
   * under that number would be dropped as a duplicate.
   */
  @Test
  void aMessageFromALostStepOfAnEarlierIncarnationIsTakenBackThoughALaterStepCommits() {
    host.recoveryCompleted();
    settle();
    host.input(deliver(1, s(5, 1), "from-5-1"));
    settle();
    host.input(deliver(2, s(3, 9), "from-3-9"));
    settle();
    assertEquals(
        List.of(
            new PartitionEvent.DependsOn(1, s(5, 1), Instant.EPOCH),
            new PartitionEvent.DependsOn(1, s(3, 9), Instant.EPOCH)),
        logged(PartitionEvent.DependsOn.class),
        "the message from 3:9 needs a dependency of its own");

    host.input(new PartitionLink.Committed(1, CommitInfo.of(5, s(5, 1), Map.of(3L, 4L), 0)));
    settle();
    assertFalse(
        logged(PartitionEvent.Voided.class).isEmpty(),
        "the host takes back what consumed the lost step 3:9: " + writes);
    assertEquals(PartitionHost.Phase.STOPPED, host.phase(), "a new host recovers what is left");
    for (PartitionLink link : sent) {
      if (link instanceof PartitionLink.Ack ack) {
        assertTrue(ack.upTo() < 2, "the message from the lost step was acknowledged: " + ack);
      }
    }
  }

  private static PartitionLink.Deliver deliver(long seq, StepId tag, String payload) {
    List<PartitionMessage> messages =
        List.of(new PartitionMessage.EventDelivered("nobody", "e", payload));
    return new PartitionLink.Deliver(1, seq, messages, tag, null);
  }

  private void settle() {
    while (host.writeInFlight() && host.phase() != PartitionHost.Phase.STOPPED) {
      host.onWritten();
    }
  }

  private <T extends PartitionEvent> List<T> logged(Class<T> type) {
    List<T> found = new ArrayList<>();
    for (EventBatch b : writes) {
      for (PartitionEvent e : b.events()) {
        if (type.isInstance(e)) {
          found.add(type.cast(e));
        }
      }
    }
    return found;
  }

  private PartitionHost newHost() {
    HostSettings settings =
        new HostSettings(
            2,
            PersistenceMode.GLOBAL,
            2000,
            20_000,
            Duration.ZERO,
            1000,
            HostSettings.DEFAULT_CHECKPOINT_AFTER_BYTES,
            Duration.ofSeconds(30),
            true,
            10,
            100,
            100,
            Duration.ofSeconds(1),
            10,
            HostSettings.DEFAULT_MAX_BATCH_BYTES,
            HostSettings.DEFAULT_RESIDENT_ENDED_INSTANCES,
            HostSettings.DEFAULT_PURGE_BATCH_SIZE,
            null,
            HostSettings.DEFAULT_RETENTION_CHECK_INTERVAL,
            RecordBudget.UNLIMITED,
            HostSettings.DEFAULT_MAX_UNCONFIRMED);
    return new PartitionHost(
        0,
        settings,
        new PartitionPorts(
            new PartitionPorts.Journal() {
              @Override
              public void write(EventBatch batch) {
                writes.add(batch);
              }

              @Override
              public long sizeOf(PartitionEvent event) {
                return 10;
              }

              @Override
              public void saveCheckpoint(Checkpoint checkpoint) {}

              @Override
              public void loadRecords(long number, List<String> keys) {
                throw new AssertionError("nothing to load: the host starts empty");
              }

              @Override
              public void loadRecord(long number, String key) {
                throw new AssertionError("nothing to load: no instance left memory");
              }

              @Override
              public void scanRecords(
                  long listId,
                  long number,
                  String keyPrefix,
                  String afterKey,
                  int limit,
                  java.util.function.Predicate<StoredRecord> filter) {
                throw new AssertionError("nothing to scan: no instance left memory");
              }

              @Override
              public void deleteUpTo(long seqNr) {}

              @Override
              public long lastSequenceNr() {
                return writes.size();
              }
            },
            (destination, message) -> sent.add(message),
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
            () -> {}));
  }
}
