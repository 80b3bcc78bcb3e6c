package dev.netherite.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import dev.netherite.engine.partition.EntityRecord;
import dev.netherite.engine.partition.StoreSamples;
import dev.netherite.engine.partition.StoredRecord;
import dev.netherite.persistence.internal.CassandraInstanceStore;
import dev.netherite.persistence.internal.CassandraInstanceStore.RecordPage;
import dev.netherite.persistence.internal.CassandraInstanceStore.RecordRow;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The instance store's rows on the real Cassandra: records split into chunks and reassembled, a
 * version that lacks chunks refused rather than returned, point reads at a checkpoint number, and
 * scans in key order across buckets. Small chunks and batches, so that a few KiB exercise what a
 * history of megabytes does with the defaults.
 */
@Timeout(180)
class CassandraInstanceStoreTest {
  private static final int CHUNK = 1000;
  private static final int BUCKETS = 16;

  private static ActorSystem system;
  private static CqlSession session;
  private static String table;

  @BeforeAll
  static void start() {
    Config config =
        RuntimeTestKit.config(
            RuntimeTestKit.newTaskHub("store-rows"),
            Map.of(
                "pekko.actor.provider",
                "local",
                "netherite.persistence.instance-store.chunk-bytes",
                CHUNK,
                "netherite.persistence.instance-store.write-batch-bytes",
                2500,
                "netherite.persistence.instance-store.read-page-rows",
                7,
                "netherite.persistence.instance-store.buckets",
                BUCKETS));
    system = ActorSystem.create("store-rows", config);
    config = system.settings().config();
    session =
        CassandraSessionRegistry.get(system)
            .sessionFor("pekko.persistence.cassandra")
            .underlying()
            .toCompletableFuture()
            .join();
    table =
        config.getString("netherite.persistence.instance-store.keyspace")
            + "."
            + config.getString("netherite.persistence.instance-store.table");
  }

  @AfterAll
  static void stop() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  private static CassandraInstanceStore store(String hub) {
    return new CassandraInstanceStore(system, hub);
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  private static StoredRecord entity(String key, String state) {
    return new StoredRecord(key, StoreSamples.entity(key, state), true);
  }

  private static StoredRecord deletion(String key) {
    return new StoredRecord(key, null, true);
  }

  private static void write(
      CassandraInstanceStore store, int partition, long number, StoredRecord... records) {
    join(store.write(partition, number, store.serialize(List.of(records))));
  }

  private static String stateOf(StoredRecord r) {
    return ((EntityRecord) r.value()).state();
  }

  private static String stateOf(Optional<StoredRecord> r) {
    return stateOf(r.orElseThrow());
  }

  /** Random text that Kryo stores as it is: its bytes are about its length. */
  private static String text(int length, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    StringBuilder s = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      s.append((char) ('a' + random.nextInt(26)));
    }
    return s.toString();
  }

  /** The rows of one record as Cassandra holds them: checkpoint, chunk, chunks, data length. */
  private static List<long[]> rowsOf(String hub, int partition, String key) {
    List<long[]> out = new ArrayList<>();
    for (int b = 0; b < BUCKETS; b++) {
      for (Row row :
          session.execute(
              "SELECT checkpoint, chunk, chunks, data FROM "
                  + table
                  + " WHERE task_hub = ? AND partition_id = ? AND bucket = ? AND record_key = ?",
              hub,
              partition,
              b,
              key)) {
        ByteBuffer data = row.getByteBuffer(3);
        out.add(
            new long[] {
              row.getLong(0), row.getInt(1), row.getInt(2), data == null ? -1 : data.remaining()
            });
      }
    }
    return out;
  }

  @Test
  void largeRecordsAreStoredAsChunksAndReassembled() {
    String hub = RuntimeTestKit.newTaskHub("chunks");
    CassandraInstanceStore store = store(hub);
    Map<String, String> states = new LinkedHashMap<>();
    states.put("e:tiny", "x");
    states.put("e:one", text(CHUNK - 200, 1));
    states.put("e:near", text(CHUNK - 40, 2));
    states.put("e:two", text(CHUNK + 10, 3));
    states.put("e:large", text(25 * CHUNK + 123, 4));
    states.put("e:larger", text(40 * CHUNK, 5));
    List<StoredRecord> records = new ArrayList<>();
    states.forEach((k, v) -> records.add(entity(k, v)));
    List<RecordRow> rows = store.serialize(records);
    join(store.write(0, 5, rows));

    for (RecordRow r : rows) {
      List<long[]> stored = rowsOf(hub, 0, r.key());
      int expected = (r.data().length + CHUNK - 1) / CHUNK;
      assertEquals(expected, stored.size(), "chunks of " + r.key());
      long total = 0;
      for (int c = 0; c < stored.size(); c++) {
        long[] row = stored.get(c);
        assertEquals(5, row[0]);
        assertEquals(c, row[1], "chunks in order");
        assertEquals(expected, row[2], "every chunk names the count");
        assertTrue(row[3] > 0 && row[3] <= CHUNK, "chunk of " + row[3] + " bytes");
        total += row[3];
      }
      assertEquals(r.data().length, total, "the chunks hold all of " + r.key());
    }
    assertTrue(rowsOf(hub, 0, "e:larger").size() >= 40);

    Map<String, String> loaded = new TreeMap<>();
    for (StoredRecord r : join(store.loadAll(0, 5))) {
      loaded.put(r.key(), stateOf(r));
    }
    assertEquals(new TreeMap<>(states), loaded);
    states.forEach((k, v) -> assertEquals(v, stateOf(join(store.loadOne(0, k, 5))), k));

    // A new version with fewer chunks; the old one stays readable below it until collected.
    String shorter = text(3 * CHUNK, 6);
    List<RecordRow> next = store.serialize(List.of(entity("e:large", shorter)));
    join(store.write(0, 7, next));
    assertEquals(shorter, stateOf(join(store.loadOne(0, "e:large", 7))));
    assertEquals(states.get("e:large"), stateOf(join(store.loadOne(0, "e:large", 6))));
    join(store.collectGarbage(0, 7, next));
    List<long[]> left = rowsOf(hub, 0, "e:large");
    assertFalse(left.isEmpty());
    assertTrue(left.stream().allMatch(r -> r[0] == 7), "every chunk of version 5 is gone");
    assertEquals(shorter, stateOf(join(store.loadOne(0, "e:large", 7))));

    // A deletion, collected, removes every chunk of every version.
    List<RecordRow> gone = store.serialize(List.of(deletion("e:larger")));
    join(store.write(0, 8, gone));
    assertTrue(join(store.loadOne(0, "e:larger", 8)).isEmpty());
    join(store.collectGarbage(0, 8, gone));
    assertEquals(List.of(), rowsOf(hub, 0, "e:larger"));
  }

  @Test
  void aVersionThatLacksChunksIsNeverReturned() {
    String hub = RuntimeTestKit.newTaskHub("half");
    CassandraInstanceStore store = store(hub);
    String complete = text(3 * CHUNK, 7);
    write(store, 0, 5, entity("e:a", complete), entity("e:b", complete));
    List<RecordRow> big = store.serialize(List.of(entity("e:a", text(6 * CHUNK, 8))));
    byte[] data = big.get(0).data();
    int chunks = (data.length + CHUNK - 1) / CHUNK;
    int bucketA = bucketOf(hub, 0, "e:a");
    // A checkpoint at 9 that died after two of its chunks: above the committed number, skipped.
    insertChunk(hub, 0, bucketA, "e:a", 9, 0, chunks, data);
    insertChunk(hub, 0, bucketA, "e:a", 9, 2, chunks, data);
    assertEquals(complete, stateOf(join(store.loadOne(0, "e:a", 8))));
    assertEquals(2, join(store.loadAll(0, 8)).size());
    assertEquals(2, join(store.scan(0, 8, null, "e:", 10, r -> true)).records().size());

    // The same half-written version at or below the number read: refused, never garbage.
    IllegalStateException missing = failure(store.loadOne(0, "e:a", 9));
    assertTrue(missing.getMessage().contains("record_key=e:a"), missing.getMessage());
    assertTrue(missing.getMessage().contains("checkpoint=9"), missing.getMessage());
    assertTrue(missing.getMessage().contains("chunks_found=1"), missing.getMessage());
    failure(store.loadAll(0, 9));
    failure(store.scan(0, 9, null, "e:", 10, r -> true));

    // A version whose first chunk is missing, and one that ends early (its last chunks missing).
    insertChunk(hub, 0, bucketOf(hub, 0, "e:b"), "e:b", 9, 1, chunks, data);
    assertTrue(failure(store.loadOne(0, "e:b", 9)).getMessage().contains("chunks_found=0"));
    insertChunk(hub, 1, bucketA, "e:a", 4, 0, chunks, data);
    insertChunk(hub, 1, bucketA, "e:a", 4, 1, chunks, data);
    assertTrue(failure(store.loadOne(1, "e:a", 4)).getMessage().contains("chunks_found=2"));
    failure(store.loadAll(1, 4));
  }

  @Test
  void aPointReadTakesTheNewestVersionAtOrBelowTheNumber() {
    String hub = RuntimeTestKit.newTaskHub("point");
    CassandraInstanceStore store = store(hub);
    write(store, 3, 10, entity("o:x", "ten"), entity("o:gone", "here"), entity("o:y", "y"));
    write(store, 3, 20, entity("o:x", "twenty"), deletion("o:gone"));
    write(store, 3, 30, entity("o:x", text(5 * CHUNK, 9)), entity("o:late", "late"));

    assertEquals("ten", stateOf(join(store.loadOne(3, "o:x", 10))));
    assertEquals("ten", stateOf(join(store.loadOne(3, "o:x", 19))));
    assertEquals("twenty", stateOf(join(store.loadOne(3, "o:x", 29))));
    assertEquals(text(5 * CHUNK, 9), stateOf(join(store.loadOne(3, "o:x", 30))));
    assertTrue(join(store.loadOne(3, "o:x", 9)).isEmpty(), "nothing below its first version");
    assertEquals("here", stateOf(join(store.loadOne(3, "o:gone", 19))));
    assertTrue(join(store.loadOne(3, "o:gone", 20)).isEmpty(), "deleted at 20");
    assertTrue(join(store.loadOne(3, "o:gone", 100)).isEmpty());
    assertTrue(join(store.loadOne(3, "o:late", 29)).isEmpty(), "written only above the number");
    assertEquals("late", stateOf(join(store.loadOne(3, "o:late", 30))));
    assertEquals("y", stateOf(join(store.loadOne(3, "o:y", 30))));
    assertTrue(join(store.loadOne(3, "o:unknown", 30)).isEmpty());
    assertTrue(join(store.loadOne(4, "o:x", 30)).isEmpty(), "another partition");
    assertTrue(store(hub + "-other").loadOne(3, "o:x", 30).toCompletableFuture().join().isEmpty());
  }

  @Test
  void aScanPagesInKeyOrderAcrossBuckets() {
    String hub = RuntimeTestKit.newTaskHub("scan");
    CassandraInstanceStore store = store(hub);
    TreeMap<String, String> live = new TreeMap<>(CassandraInstanceStoreTest::codePointOrder);
    List<StoredRecord> first = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      String key = String.format("o:i%03d", i);
      String state = (i % 3 == 0 ? "done-" : "running-") + i;
      first.add(entity(key, i == 77 ? text(4 * CHUNK, i) + state : state));
      live.put(key, i == 77 ? text(4 * CHUNK, i) + state : state);
    }
    for (int i = 0; i < 30; i++) {
      first.add(entity("e:n" + i, "entity-" + i));
    }
    // Non-ASCII keys: Cassandra orders text by its UTF-8 bytes, that is by code point, which for
    // a character beyond the BMP is not the order of Java's UTF-16 strings.
    for (String key : List.of("o:é", "o:\uFFFD", "o:\uD83D\uDE00", "o:z")) {
      first.add(entity(key, "done-" + key));
      live.put(key, "done-" + key);
    }
    write(store, 2, 10, first.toArray(StoredRecord[]::new));
    List<StoredRecord> second = new ArrayList<>();
    for (int i = 0; i < 150; i += 10) {
      second.add(deletion(String.format("o:i%03d", i)));
      live.remove(String.format("o:i%03d", i));
    }
    second.add(entity("o:i001", "done-changed"));
    live.put("o:i001", "done-changed");
    write(store, 2, 20, second.toArray(StoredRecord[]::new));
    // Above the number scanned: never seen.
    write(
        store,
        2,
        30,
        entity("o:i002", "running-later"),
        entity("o:i500", "done-later"),
        deletion("o:i003"));

    List<String> all = scanAll(store, 2, 20, null, "o:", 25, r -> true);
    assertEquals(new ArrayList<>(live.keySet()), all);
    assertEquals(live.size(), all.size());
    assertTrue(all.indexOf("o:\uFFFD") < all.indexOf("o:\uD83D\uDE00"), all.toString());

    Predicate<StoredRecord> done = r -> stateOf(r).startsWith("done-");
    List<String> expectedDone =
        live.entrySet().stream()
            .filter(e -> e.getValue().startsWith("done-"))
            .map(Map.Entry::getKey)
            .toList();
    assertEquals(expectedDone, scanAll(store, 2, 20, null, "o:", 7, done));

    List<String> after =
        live.keySet().stream().filter(k -> codePointOrder(k, "o:i100") > 0).toList();
    assertEquals(after, scanAll(store, 2, 20, "o:i100", "o:", 30, r -> true));
    assertEquals(after, scanAll(store, 2, 20, "o:i0995", "o:", 1000, r -> true));

    List<String> entities = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      entities.add("e:n" + i);
    }
    entities.sort(CassandraInstanceStoreTest::codePointOrder);
    assertEquals(entities, scanAll(store, 2, 20, null, "e:", 8, r -> true));
    // An afterKey below the prefix starts at the prefix; one above it finds nothing.
    assertEquals(entities, scanAll(store, 2, 20, "a", "e:", 100, r -> true));
    assertEquals(List.of(), scanAll(store, 2, 20, "f", "e:", 100, r -> true));

    List<String> everything = new ArrayList<>(entities);
    everything.addAll(live.keySet());
    assertEquals(everything, scanAll(store, 2, 20, null, "", 40, r -> true));

    // At 30, the later versions count.
    List<String> at30 = scanAll(store, 2, 30, null, "o:i00", 100, r -> true);
    assertEquals(List.of("o:i001", "o:i002", "o:i004", "o:i005", "o:i006"), at30.subList(0, 5));
    assertTrue(scanAll(store, 2, 30, null, "o:i5", 100, r -> true).contains("o:i500"));

    RecordPage firstPage = join(store.scan(2, 20, null, "o:", 25, r -> true));
    assertEquals(25, firstPage.records().size());
    assertTrue(firstPage.more());
    RecordPage lastPage = join(store.scan(2, 20, "o:i1", "o:", 1000, r -> true));
    assertFalse(lastPage.more());
    assertThrows(IllegalArgumentException.class, () -> store.scan(2, 20, null, "o:", 0, r -> true));
  }

  /** Every key a scan returns, page by page; checks each page's size and order. */
  private static List<String> scanAll(
      CassandraInstanceStore store,
      int partition,
      long number,
      String afterKey,
      String prefix,
      int limit,
      Predicate<StoredRecord> filter) {
    List<String> keys = new ArrayList<>();
    String after = afterKey;
    while (true) {
      RecordPage page = join(store.scan(partition, number, after, prefix, limit, filter));
      assertTrue(page.records().size() <= limit, "a page holds at most the limit");
      for (StoredRecord r : page.records()) {
        assertTrue(r.key().startsWith(prefix), r.key());
        assertTrue(filter.test(r), r.key());
        if (!keys.isEmpty()) {
          assertTrue(codePointOrder(keys.get(keys.size() - 1), r.key()) < 0, "in key order");
        }
        keys.add(r.key());
      }
      if (!page.more()) {
        return keys;
      }
      assertEquals(limit, page.records().size(), "a page with more after it is full");
      after = page.records().get(page.records().size() - 1).key();
    }
  }

  private static int codePointOrder(String a, String b) {
    return Arrays.compareUnsigned(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  private static int bucketOf(String hub, int partition, String key) {
    return Math.floorMod(key.hashCode(), BUCKETS);
  }

  private static void insertChunk(
      String hub,
      int partition,
      int bucket,
      String key,
      long checkpoint,
      int chunk,
      int chunks,
      byte[] data) {
    int from = chunk * CHUNK;
    session.execute(
        "INSERT INTO "
            + table
            + " (task_hub, partition_id, bucket, record_key, checkpoint, chunk, chunks, data)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        hub,
        partition,
        bucket,
        key,
        checkpoint,
        chunk,
        chunks,
        ByteBuffer.wrap(data, from, Math.min(CHUNK, data.length - from)).slice());
  }

  private static IllegalStateException failure(CompletionStage<?> stage) {
    CompletionException e =
        assertThrows(CompletionException.class, () -> stage.toCompletableFuture().join());
    Throwable cause = e.getCause();
    assertTrue(cause instanceof IllegalStateException, String.valueOf(cause));
    return (IllegalStateException) cause;
  }
}
