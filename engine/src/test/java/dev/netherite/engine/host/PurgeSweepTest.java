package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.engine.partition.ClientRequest;
import dev.netherite.engine.partition.ClientResponse;
import dev.netherite.engine.partition.EventBatch;
import dev.netherite.engine.partition.PartitionEvent;
import dev.netherite.engine.partition.PartitionState;
import dev.netherite.engine.partition.PurgeFilter;
import dev.netherite.engine.partition.StoredRecord;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Purge sweeps inside one partition, step by step: a fake journal and instance store that answer
 * only when the test says, so that the test chooses what happens between a sweep's read and its
 * batch. Instances are started with a scheduled start (no step runs) and terminated to end them.
 */
class PurgeSweepTest {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Instant NEVER = T0.plus(Duration.ofDays(365));
  private static final PurgeFilter ALL_ENDED =
      new PurgeFilter(PurgeFilter.endedStatuses(Set.of()), null, null, null, null);

  private final TestPorts ports =
      TestPorts.builder().startingAt(T0).strict().scansRecords().build();
  private final TestPorts.RecordingJournal journal = ports.journal;
  private boolean failNextScan;
  private PartitionHost host;

  private static HostSettings settings(int batchSize, Duration retention) {
    return TestPorts.settings(PersistenceMode.LOCAL)
        .checkpointAfterIdle(Duration.ofSeconds(1))
        .keepCoveredEvents()
        .residentEndedInstances(0) // ended instances leave memory at every checkpoint
        .purgeBatchSize(batchSize)
        .retentionCompleted(retention)
        .retentionCheckInterval(Duration.ofSeconds(5))
        .build();
  }

  // ---------------------------------------------------------------- the fake store

  /** Takes a checkpoint (the partition is idle long enough) and commits it. */
  private void checkpoint() {
    journal.completeAll(host);
    ports.clock.advance(Duration.ofSeconds(2));
    host.input(new HostInput.TimerFired(HostTimer.CHECKPOINT_IF_IDLE));
    journal.completeAll(host);
    assertNotNull(journal.saving, "a checkpoint was taken");
    journal.commitCheckpoint(host);
  }

  /** Answers the oldest scan the host asked for, as the instance store does. */
  private void answerScan() {
    TestPorts.RecordingJournal.Scan s = journal.scans.poll();
    assertNotNull(s, "the host asked for a scan");
    if (failNextScan) {
      failNextScan = false;
      host.onScanFailed(s.listId(), new IOException("simulated read timeout"));
      return;
    }
    List<StoredRecord> matching = new ArrayList<>();
    for (String key : journal.rows.keySet()) {
      if (s.afterKey() == null || key.compareTo(s.afterKey()) > 0) {
        StoredRecord r = journal.read(key, s.number());
        if (r != null && s.filter().test(r)) {
          matching.add(r);
        }
      }
    }
    host.onRecordsScanned(
        s.listId(),
        matching.subList(0, Math.min(s.limit(), matching.size())),
        matching.size() > s.limit());
  }

  /** Answers scans and completes writes until neither is asked for. */
  private void settle() {
    journal.completeAll(host);
    while (!journal.scans.isEmpty()) {
      answerScan();
      journal.completeAll(host);
    }
  }

  // ---------------------------------------------------------------- clients

  private final List<ClientResponse> answers = new ArrayList<>();
  private final List<Boolean> durableWhenAnswered = new ArrayList<>();

  private void command(String requestId, ClientRequest request) {
    host.input(new HostInput.ClientCommand(requestId, request, r -> {}));
  }

  private void startPending(String id) {
    command(
        "start-" + id + "-" + ports.clock.now(),
        new ClientRequest.StartOrchestration(id, "Hello", "null", NEVER, Set.of()));
  }

  private void ended(String id) {
    startPending(id);
    command("terminate-" + id + "-" + ports.clock.now(), new ClientRequest.Terminate(id, "done"));
  }

  private void sweep(String requestId, PurgeFilter filter, String afterId) {
    host.input(
        new HostInput.PurgeSweep(
            requestId,
            filter,
            afterId,
            r -> {
              answers.add(r);
              durableWhenAnswered.add(host.unwrittenEvents().isEmpty());
            }));
  }

  private List<List<String>> purgeBatches() {
    List<List<String>> batches = new ArrayList<>();
    for (EventBatch b : journal.durable) {
      for (PartitionEvent e : b.events()) {
        if (e instanceof PartitionEvent.InstancesPurged p) {
          batches.add(p.instanceIds());
        }
      }
    }
    return batches;
  }

  private PartitionState rebuiltFromLog() {
    return journal.rebuilt(journal.durable.size());
  }

  // ---------------------------------------------------------------- tests

  @Test
  void aSweepPurgesEndedInstancesInMemoryAndInTheStoreInBatchesOfItsSize() {
    host = ports.host(settings(3, null));
    host.recoveryCompleted();
    for (int k = 1; k <= 7; k++) {
      ended("a" + k);
    }
    checkpoint();
    assertEquals(0, host.state().instanceCount(), "the ended instances left memory");
    for (int k = 1; k <= 3; k++) {
      ended("b" + k);
    }
    startPending("c1"); // has not ended
    journal.completeAll(host);

    sweep("sweep-1", ALL_ENDED, null);
    settle();

    assertEquals(List.of(new ClientResponse.PurgeProgress(10, null)), answers);
    assertEquals(List.of(true), durableWhenAnswered, "answered once its last batch is durable");
    List<List<String>> batches = purgeBatches();
    assertTrue(batches.stream().allMatch(b -> b.size() <= 3), "batches of 3: " + batches);
    assertEquals(
        List.of("a1", "a2", "a3", "a4", "a5", "a6", "a7", "b1", "b2", "b3"),
        batches.stream().flatMap(List::stream).toList(),
        "in id order, each once");
    assertEquals(4, batches.size());
    for (PartitionState s : List.of(host.state(), rebuiltFromLog())) {
      assertEquals(1, s.instanceCount());
      assertEquals(RuntimeStatus.PENDING, s.instance("c1").status());
      assertNull(s.instance("b1"));
    }
    assertFalse(host.state().mayBeStored("a1"), "its stored version is not read back");

    // The next checkpoint deletes the stored ones; those never stored leave no row.
    checkpoint();
    for (int k = 1; k <= 7; k++) {
      assertNull(
          journal.read("o:a" + k, journal.durable.size()), "a" + k + " is deleted in the store");
    }
    assertFalse(journal.rows.containsKey("o:b1"));
  }

  @Test
  void anInstanceStartedAgainWhileTheStoreIsReadIsNotPurged() {
    host = ports.host(settings(10, null));
    host.recoveryCompleted();
    ended("x");
    ended("y");
    checkpoint();
    sweep("sweep-1", ALL_ENDED, null);
    assertEquals(1, journal.scans.size(), "the sweep reads the store");
    startPending("x"); // replaces the ended x, which the store still holds
    journal.completeAll(host);
    settle();

    assertEquals(List.of(new ClientResponse.PurgeProgress(1, null)), answers);
    assertEquals(List.of(List.of("y")), purgeBatches());
    assertEquals(RuntimeStatus.PENDING, host.state().instance("x").status());
    assertEquals(RuntimeStatus.PENDING, rebuiltFromLog().instance("x").status());
  }

  @Test
  void aLongSweepAnswersWhereItStoppedAndGoesOnFromThereWhenAskedAgain() {
    host = ports.host(settings(2, null));
    host.recoveryCompleted();
    for (int k = 1; k <= 6; k++) {
      ended("e" + k);
    }
    checkpoint();
    sweep("sweep-1", ALL_ENDED, null);
    answerScan();
    ports.clock.advance(Duration.ofSeconds(2)); // the first batch took long
    journal.completeAll(host);
    assertEquals(List.of(new ClientResponse.PurgeProgress(2, "e2")), answers);
    assertTrue(journal.scans.isEmpty(), "it stopped");

    sweep("sweep-1", ALL_ENDED, null); // a retry of the answered request: the same answer
    assertEquals(new ClientResponse.PurgeProgress(2, "e2"), answers.get(1));

    sweep("sweep-2", ALL_ENDED, "e2");
    settle();
    assertEquals(new ClientResponse.PurgeProgress(4, null), answers.get(2));
    assertEquals(
        List.of(List.of("e1", "e2"), List.of("e3", "e4"), List.of("e5", "e6")), purgeBatches());
  }

  @Test
  void aRetryJoinsTheSweepItRepeats() {
    host = ports.host(settings(2, null));
    host.recoveryCompleted();
    ended("e1");
    ended("e2");
    ended("e3");
    checkpoint();
    sweep("sweep-1", ALL_ENDED, null);
    sweep("sweep-1", ALL_ENDED, null);
    settle();
    assertEquals(List.of(new ClientResponse.PurgeProgress(3, null)), answers);
    assertEquals(2, purgeBatches().size());
  }

  @Test
  void aSweepThatCannotReadTheStoreIsAnsweredAsUnavailable() {
    host = ports.host(settings(2, null));
    host.recoveryCompleted();
    ended("e1");
    ended("e2");
    ended("e3");
    checkpoint();
    sweep("sweep-1", ALL_ENDED, null);
    answerScan();
    journal.completeAll(host);
    failNextScan = true;
    answerScan();
    assertEquals(1, answers.size());
    ClientResponse.Rejected refused =
        assertInstanceOf(ClientResponse.Rejected.class, answers.get(0));
    assertEquals(ClientResponse.Reason.STORE_UNAVAILABLE, refused.reason());
    assertTrue(refused.message().contains("2 were purged before"), refused.message());
  }

  @Test
  void evictionsWaitWhileASweepRuns() {
    host = ports.host(settings(2, null));
    host.recoveryCompleted();
    ended("e1");
    ended("e2");
    ended("e3");
    checkpoint();
    ended("f1");
    sweep("sweep-1", ALL_ENDED, null); // reads the store, which may hold what memory does not
    checkpoint(); // f1 is clean now, but stays while the sweep's read is out
    assertNotNull(host.state().instance("f1"));
    settle();
    // The checkpoint took 2 s of the sweep's time: it answered where it stopped.
    assertEquals(List.of(new ClientResponse.PurgeProgress(2, "e2")), answers);
    sweep("sweep-2", ALL_ENDED, "e2");
    settle();
    assertEquals(new ClientResponse.PurgeProgress(2, null), answers.get(1), "e3 and f1");
    assertEquals(0, host.state().instanceCount());
  }

  @Test
  void retentionPurgesWhatEndedLongerAgoThanItAndNothingElse() {
    host = ports.host(settings(2, Duration.ofSeconds(60)));
    host.recoveryCompleted();
    assertEquals(Duration.ofSeconds(5), ports.timers.periodic.get(HostTimer.RETENTION));
    ended("old1");
    ended("old2");
    ended("old3");
    startPending("waiting"); // started long ago, has not ended
    checkpoint();
    ports.clock.advance(Duration.ofSeconds(120));
    ended("recent"); // ended 10 s before the check below
    checkpoint();
    ports.clock.advance(Duration.ofSeconds(10));
    host.input(new HostInput.TimerFired(HostTimer.RETENTION));
    settle();

    assertEquals(List.of(List.of("old1", "old2"), List.of("old3")), purgeBatches());
    for (PartitionState s : List.of(host.state(), rebuiltFromLog())) {
      assertEquals(RuntimeStatus.PENDING, s.instance("waiting").status());
    }
    assertFalse(host.state().mayBeStored("old1"));
    assertTrue(host.state().mayBeStored("recent"), "ended 10 s ago: kept");
    assertTrue(
        ports.log.infos.stream().anyMatch(m -> m.contains("purged 3 instances")),
        ports.log.infos.toString());
  }

  @Test
  void badSettingsAreRefusedByName() {
    IllegalArgumentException batch =
        assertThrows(IllegalArgumentException.class, () -> settings(0, null));
    assertTrue(batch.getMessage().contains("netherite.purge.batch-size"), batch.getMessage());
    IllegalArgumentException retention =
        assertThrows(IllegalArgumentException.class, () -> settings(1, Duration.ofSeconds(-1)));
    assertTrue(
        retention.getMessage().contains("netherite.retention.completed"), retention.getMessage());
  }
}
