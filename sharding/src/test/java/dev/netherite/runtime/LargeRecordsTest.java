package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.Workflows;
import dev.netherite.engine.partition.InstanceState;
import dev.netherite.engine.partition.StoredRecord;
import dev.netherite.persistence.internal.CassandraInstanceStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Instances whose records are far larger than one Cassandra request may be: inputs, activity
 * results and outputs just under the payload limits (netherite.limits.*, 1 MiB each by default), so
 * that one history holds several MiB, and one holds more than Cassandra's 16 MiB limit on a
 * request. Ten of them on one partition checkpoint, as chunks, and a new runtime on the same
 * Cassandra recovers them from the instance store.
 */
@Timeout(180)
class LargeRecordsTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  /** Just under the limits: a string payload is its JSON text, two quotes longer. */
  private static final int NEAR_LIMIT = 1024 * 1024 - 64;

  static final ActivityRef<Integer, String> PRODUCE =
      ActivityRef.of("Produce", Integer.class, String.class);

  /** Input: the number of activity calls, then text. Output: the last result. */
  static final OrchestrationRef<String, String> COLLECT =
      OrchestrationRef.of("Collect", String.class, String.class);

  private static Workflows app() {
    return Workflows.builder()
        .activity(PRODUCE, (ctx, seed) -> PayloadLimitsTest.random(NEAR_LIMIT - seed))
        .orchestration(
            COLLECT,
            (ctx, input) -> {
              int calls = Integer.parseInt(input.substring(0, input.indexOf(':')));
              String last = null;
              for (int i = 0; i < calls; i++) {
                last = ctx.call(PRODUCE, i).await();
              }
              return last;
            })
        .build();
  }

  private static Map<String, Object> overrides() {
    return Map.of(
        "netherite.partition-count",
        1,
        "netherite.checkpoint.after-idle",
        "600ms",
        "netherite.client.request-timeout",
        "60s",
        "pekko.persistence.cassandra.snapshot.class",
        CrashingSnapshotStore.class.getName());
  }

  private static String input(int calls) {
    String head = calls + ":";
    return head + PayloadLimitsTest.random(NEAR_LIMIT - head.length());
  }

  @Test
  void instancesWithPayloadsNearTheLimitsCheckpointAndRecover() {
    CrashingSnapshotStore.reset();
    String hub = RuntimeTestKit.newTaskHub("large-records");
    List<InstanceId> ids = new ArrayList<>();
    List<Integer> calls = new ArrayList<>();
    DurableRuntime first =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      for (int i = 0; i < 10; i++) {
        // One history of 18 results (over 18 MiB, beyond one Cassandra request); the others 3.
        int n = i == 0 ? 18 : 3;
        calls.add(n);
        ids.add(first.client().start(COLLECT, input(n)));
      }
      for (InstanceId id : ids) {
        assertEquals(
            RuntimeStatus.COMPLETED,
            first.client().waitForCompletion(id, WAIT).runtimeStatus(),
            id.value());
      }
      CassandraInstanceStore store =
          new CassandraInstanceStore(Adapter.toClassic(first.system()), hub);
      // A committed checkpoint holds every instance as completed.
      await(
          () ->
              ids.stream()
                  .allMatch(
                      id -> {
                        Optional<StoredRecord> r =
                            store
                                .loadOne(
                                    0,
                                    StoredRecord.instanceKey(id.value()),
                                    CrashingSnapshotStore.LAST_SAVED.get())
                                .toCompletableFuture()
                                .join();
                        return r.isPresent()
                            && ((InstanceState) r.get().value()).status()
                                == RuntimeStatus.COMPLETED;
                      }),
          "a checkpoint commits the completed instances");
      assertChunked(first, hub, StoredRecord.instanceKey(ids.get(0).value()), 18);
    } finally {
      RuntimeTestKit.crash(first);
    }

    DurableRuntime second =
        RuntimeTestKit.start(app(), hub, overrides(), DurableRuntime.Options.defaults());
    try {
      for (int i = 0; i < ids.size(); i++) {
        InstanceStatus s = second.client().getStatus(ids.get(i), false).orElseThrow();
        assertEquals(RuntimeStatus.COMPLETED, s.runtimeStatus(), ids.get(i).value());
        assertEquals(
            PayloadLimitsTest.random(NEAR_LIMIT - (calls.get(i) - 1)),
            s.output(String.class),
            ids.get(i).value());
        assertEquals(input(calls.get(i)), s.input(String.class), ids.get(i).value());
      }
    } finally {
      RuntimeTestKit.crash(second);
    }
  }

  /** The record's rows in Cassandra: many chunks, none above chunk-bytes. */
  private static void assertChunked(DurableRuntime runtime, String hub, String key, int mib) {
    Config config = runtime.system().settings().config();
    CqlSession session =
        CassandraSessionRegistry.get(Adapter.toClassic(runtime.system()))
            .sessionFor("pekko.persistence.cassandra")
            .underlying()
            .toCompletableFuture()
            .join();
    long chunkBytes = config.getBytes("netherite.persistence.instance-store.chunk-bytes");
    int buckets = config.getInt("netherite.persistence.instance-store.buckets");
    long total = 0;
    long newest = -1;
    for (Row row :
        session.execute(
            "SELECT checkpoint, chunk, chunks, data FROM "
                + config.getString("netherite.persistence.instance-store.keyspace")
                + ".instance_records WHERE task_hub = ? AND partition_id = 0 AND bucket = ?"
                + " AND record_key = ?",
            hub,
            Math.floorMod(key.hashCode(), buckets),
            key)) {
      if (newest < 0) {
        newest = row.getLong(0);
      }
      if (row.getLong(0) != newest) {
        break;
      }
      ByteBuffer data = row.getByteBuffer(3);
      assertTrue(data.remaining() <= chunkBytes, "a chunk of " + data.remaining() + " bytes");
      total += data.remaining();
    }
    assertTrue(
        total > (long) mib * 1024 * 1024,
        "the newest version of " + key + " holds " + total + " bytes");
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
