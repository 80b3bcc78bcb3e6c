package dev.netherite.persistence.internal;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.typesafe.config.Config;
import dev.netherite.engine.WireSerializable;
import dev.netherite.engine.partition.StoredRecord;
import dev.netherite.persistence.StorageMetrics;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * INTERNAL API
 *
 * <p>The instance store on Cassandra: the per-instance records of every partition of one task hub,
 * in one table, through the driver session of the Pekko Persistence Cassandra plugin (one session,
 * one set of contact points and credentials for the journal, the snapshots and this table).
 *
 * <p>A row is (task hub, partition, bucket | record key, checkpoint number, chunk) with a part of
 * the record's bytes, or no bytes for a deletion. A record's bytes are split into chunks of at most
 * {@code chunk-bytes}, so that no request carries a whole large record; every chunk names how many
 * there are, so a version that lacks some is recognised. The bucket, a hash of the key, spreads a
 * partition's records over {@code buckets} Cassandra partitions, so that none grows without bound.
 * Rows are never updated: a checkpoint inserts a new version labelled with its number, its snapshot
 * commits it, and readers take each key's newest version at or below the committed number. After
 * the commit, the versions a checkpoint supersedes are removed by one range delete per record (no
 * read before it, and the live version sorts first, before the range tombstone).
 */
public final class CassandraInstanceStore {
  /** Above this, one request would approach Cassandra's default limit on a mutation (16 MiB). */
  private static final long MAX_REQUEST_BYTES = 8L * 1024 * 1024;

  private final String taskHub;
  private final int buckets;
  private final int parallelism;
  private final int batchRows;
  private final long batchBytes;
  private final int chunkBytes;
  private final int readPageRows;
  private final Serialization serialization;
  private final ActorSystem system;
  private final String keyspace;
  private final String table;
  private final boolean autocreate;
  private final long gcGrace;
  private final int replication;
  private CompletionStage<Statements> ready;

  private record Statements(
      CqlSession session,
      PreparedStatement insert,
      PreparedStatement selectBucket,
      PreparedStatement selectOne,
      PreparedStatement scanFrom,
      PreparedStatement scanFromBelow,
      PreparedStatement scanAfter,
      PreparedStatement scanAfterBelow,
      PreparedStatement deleteBelow,
      PreparedStatement deleteUpTo) {}

  /**
   * A record's key and bytes (null: deleted), ready to be written; {@code superseding}: the store
   * may hold earlier rows of it, which go once the checkpoint has committed.
   */
  public record RecordRow(String key, byte[] data, boolean superseding) {}

  /**
   * One page of a {@link #scan}: records in ascending key order; {@code more}: records may follow
   * the last one (scan again after its key).
   */
  public record RecordPage(List<StoredRecord> records, boolean more) {}

  /** One chunk of a record's version, as written: {@code data} null for a deletion. */
  private record Chunk(String key, int chunk, int chunks, ByteBuffer data) {
    long size() {
      return key.length() + (data == null ? 0 : data.remaining());
    }
  }

  public CassandraInstanceStore(ActorSystem system, String taskHub) {
    Config config = system.settings().config().getConfig("netherite.persistence.instance-store");
    this.taskHub = taskHub;
    this.buckets = config.getInt("buckets");
    this.parallelism = config.getInt("write-parallelism");
    this.batchRows = config.getInt("write-batch-rows");
    this.batchBytes = config.getBytes("write-batch-bytes");
    long chunk = config.getBytes("chunk-bytes");
    this.readPageRows = config.getInt("read-page-rows");
    if (buckets < 1 || parallelism < 1 || batchRows < 1 || readPageRows < 1) {
      throw new IllegalArgumentException(
          "netherite.persistence.instance-store.buckets, write-parallelism, write-batch-rows and"
              + " read-page-rows must be at least 1, found buckets="
              + buckets
              + " write-parallelism="
              + parallelism
              + " write-batch-rows="
              + batchRows
              + " read-page-rows="
              + readPageRows);
    }
    if (chunk < 1
        || chunk > MAX_REQUEST_BYTES
        || batchBytes < 1
        || batchBytes > MAX_REQUEST_BYTES) {
      throw new IllegalArgumentException(
          "netherite.persistence.instance-store.chunk-bytes and write-batch-bytes must be between 1"
              + " byte and 8 MiB (Cassandra refuses a request above half its commit log segment,"
              + " 16 MiB by default), found chunk-bytes="
              + chunk
              + " write-batch-bytes="
              + batchBytes);
    }
    this.chunkBytes = (int) chunk;
    this.serialization = SerializationExtension.get(system);
    this.system = system;
    this.keyspace = config.getString("keyspace");
    this.table = keyspace + "." + config.getString("table");
    this.autocreate = config.getBoolean("tables-autocreate");
    this.gcGrace = config.getDuration("gc-grace").toSeconds();
    this.replication = config.getInt("replication-factor");
  }

  /**
   * The session and statements, on first use. Not earlier: the plugin's journal and snapshot store
   * create the shared session with their own initialization (their keyspaces and tables), which
   * runs only for the first to ask; a partition uses this store only after its journal and snapshot
   * store have started.
   */
  private synchronized CompletionStage<Statements> ready() {
    if (ready == null || ready.toCompletableFuture().isCompletedExceptionally()) {
      ready =
          CassandraSessionRegistry.get(system)
              .sessionFor("pekko.persistence.cassandra")
              .underlying()
              .thenCompose(this::createSchemaAndPrepare);
    }
    return ready;
  }

  private CompletionStage<Statements> createSchemaAndPrepare(CqlSession session) {
    CompletionStage<?> schema = CompletableFuture.completedFuture(null);
    if (autocreate) {
      schema =
          session
              .executeAsync(
                  "CREATE KEYSPACE IF NOT EXISTS "
                      + keyspace
                      + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': "
                      + replication
                      + "}")
              .thenCompose(
                  r ->
                      session.executeAsync(
                          "CREATE TABLE IF NOT EXISTS "
                              + table
                              + " (task_hub text, partition_id int, bucket int, record_key text,"
                              + " checkpoint bigint, chunk int, chunks int, data blob, PRIMARY KEY"
                              + " ((task_hub, partition_id, bucket), record_key, checkpoint, chunk))"
                              + " WITH CLUSTERING ORDER BY (record_key ASC, checkpoint DESC, chunk"
                              + " ASC) AND gc_grace_seconds = "
                              + gcGrace));
    }
    return schema.thenCompose(r -> prepareAll(session, table));
  }

  private static CompletionStage<Statements> prepareAll(CqlSession session, String table) {
    String select = "SELECT record_key, checkpoint, chunk, chunks, data FROM " + table;
    String key = " WHERE task_hub = ? AND partition_id = ? AND bucket = ?";
    List<String> cql =
        List.of(
            "INSERT INTO "
                + table
                + " (task_hub, partition_id, bucket, record_key, checkpoint, chunk, chunks, data)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            select + key,
            select + key + " AND record_key = ? AND checkpoint <= ?",
            select + key + " AND record_key >= ?",
            select + key + " AND record_key >= ? AND record_key < ?",
            select + key + " AND record_key > ?",
            select + key + " AND record_key > ? AND record_key < ?",
            "DELETE FROM " + table + key + " AND record_key = ? AND checkpoint < ?",
            "DELETE FROM " + table + key + " AND record_key = ? AND checkpoint <= ?");
    List<CompletableFuture<PreparedStatement>> prepared =
        cql.stream().map(q -> session.prepareAsync(q).toCompletableFuture()).toList();
    return CompletableFuture.allOf(prepared.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              List<PreparedStatement> p = prepared.stream().map(CompletableFuture::join).toList();
              return new Statements(
                  session, p.get(0), p.get(1), p.get(2), p.get(3), p.get(4), p.get(5), p.get(6),
                  p.get(7), p.get(8));
            });
  }

  private int bucketOf(String key) {
    return Math.floorMod(key.hashCode(), buckets);
  }

  /**
   * The rows of a checkpoint's records, serialized now (the caller's quiescent point), so that the
   * writes may run after the records change again.
   */
  public List<RecordRow> serialize(List<StoredRecord> records) {
    List<RecordRow> rows = new ArrayList<>(records.size());
    for (StoredRecord r : records) {
      byte[] data = r.deleted() ? null : serialization.serialize(r.value()).get();
      if (data != null) {
        StorageMetrics.global().recordRecordBytes(data.length);
      }
      rows.add(new RecordRow(r.key(), data, r.superseding()));
    }
    return rows;
  }

  /**
   * A private copy of {@code value} (through its bytes), taken at the caller's quiescent point so
   * that it may be written after the original changes again.
   */
  public <T extends WireSerializable> T copyOf(T value) {
    // Plain Kryo bytes, not those of the serializer bound to the type (a checkpoint's deflates):
    // they never leave this process, and are not counted as stored.
    KryoSerializer kryo =
        (KryoSerializer) serialization.serializerByIdentity().apply(KryoSerializer.IDENTIFIER);
    @SuppressWarnings("unchecked")
    T copy = (T) kryo.fromBinaryJava(kryo.encode(value), null);
    return copy;
  }

  /** A record's bytes as chunks of at most {@code chunk-bytes}; a deletion is one empty chunk. */
  private List<Chunk> chunksOf(RecordRow r) {
    if (r.data() == null) {
      return List.of(new Chunk(r.key(), 0, 1, null));
    }
    int count = Math.max(1, (r.data().length + chunkBytes - 1) / chunkBytes);
    List<Chunk> out = new ArrayList<>(count);
    for (int c = 0; c < count; c++) {
      int from = c * chunkBytes;
      int length = Math.min(chunkBytes, r.data().length - from);
      out.add(new Chunk(r.key(), c, count, ByteBuffer.wrap(r.data(), from, length).slice()));
    }
    return out;
  }

  /**
   * Writes the rows labelled {@code number}, each record as its chunks: by bucket, in unlogged
   * single-partition batches, at most {@code write-parallelism} requests at a time. A request
   * carries at most {@code write-batch-bytes} of data, or one chunk when chunks are larger.
   */
  public CompletionStage<Void> write(int partition, long number, List<RecordRow> rows) {
    List<Chunk> chunks = new ArrayList<>(rows.size());
    for (RecordRow r : rows) {
      chunks.addAll(chunksOf(r));
    }
    return ready()
        .thenCompose(
            s ->
                bounded(
                    batches(
                        chunks,
                        Chunk::key,
                        Chunk::size,
                        c -> {
                          BoundStatement b =
                              s.insert()
                                  .bind()
                                  .setString(0, taskHub)
                                  .setInt(1, partition)
                                  .setInt(2, bucketOf(c.key()))
                                  .setString(3, c.key())
                                  .setLong(4, number)
                                  .setInt(5, c.chunk())
                                  .setInt(6, c.chunks());
                          // A deletion leaves data unset: no cell, not even a tombstone.
                          return c.data() == null ? b : b.setByteBuffer(7, c.data());
                        }),
                    st -> s.session().executeAsync(st)));
  }

  /**
   * After checkpoint {@code number} committed: removes the versions its rows supersede, and every
   * version of the records it deleted; nothing for records new since the previous checkpoint, which
   * have no earlier rows. A range delete on (record key, checkpoint) covers every chunk of those
   * versions. Best effort: what stays is superseded and never read.
   */
  public CompletionStage<Void> collectGarbage(int partition, long number, List<RecordRow> rows) {
    List<RecordRow> superseding = rows.stream().filter(RecordRow::superseding).toList();
    if (superseding.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return ready()
        .thenCompose(
            s ->
                bounded(
                    batches(
                        superseding,
                        RecordRow::key,
                        r -> r.key().length(),
                        r ->
                            (r.data() == null ? s.deleteUpTo() : s.deleteBelow())
                                .bind(taskHub, partition, bucketOf(r.key()), r.key(), number)),
                    st -> s.session().executeAsync(st)));
  }

  /**
   * The items' statements grouped by bucket (one Cassandra partition) into unlogged batches of at
   * most {@code write-batch-rows} rows and {@code write-batch-bytes}; an item above the byte cap
   * goes alone.
   */
  private <T> List<Statement<?>> batches(
      List<T> items,
      Function<T, String> keyOf,
      ToLongFunction<T> sizeOf,
      Function<T, BatchableStatement<?>> statement) {
    Map<Integer, List<T>> byBucket = new LinkedHashMap<>();
    for (T item : items) {
      byBucket.computeIfAbsent(bucketOf(keyOf.apply(item)), b -> new ArrayList<>()).add(item);
    }
    List<Statement<?>> out = new ArrayList<>();
    for (List<T> bucket : byBucket.values()) {
      List<BatchableStatement<?>> batch = new ArrayList<>();
      long bytes = 0;
      for (T item : bucket) {
        long size = sizeOf.applyAsLong(item);
        if (size > batchBytes) {
          out.add(statement.apply(item));
          continue;
        }
        if (!batch.isEmpty() && (batch.size() >= batchRows || bytes + size > batchBytes)) {
          out.add(batchOf(batch));
          batch = new ArrayList<>();
          bytes = 0;
        }
        batch.add(statement.apply(item));
        bytes += size;
      }
      if (!batch.isEmpty()) {
        out.add(batchOf(batch));
      }
    }
    return out;
  }

  private static Statement<?> batchOf(List<BatchableStatement<?>> statements) {
    return statements.size() == 1
        ? statements.get(0)
        : BatchStatement.newInstance(DefaultBatchType.UNLOGGED, statements);
  }

  /**
   * Every record of the partition as of checkpoint {@code number}: for each key its newest version
   * at or below it, deleted ones left out; rows of checkpoints that never committed are above it.
   */
  public CompletionStage<List<StoredRecord>> loadAll(int partition, long number) {
    return ready()
        .thenCompose(
            s -> {
              List<CompletableFuture<List<StoredRecord>>> parts = new ArrayList<>(buckets);
              for (int b = 0; b < buckets; b++) {
                List<StoredRecord> found = new ArrayList<>();
                Versions versions =
                    new Versions(
                        partition,
                        number,
                        (key, data) -> {
                          if (data != null) {
                            found.add(record(key, data));
                          }
                        });
                parts.add(
                    readAll(
                            s.session()
                                .executeAsync(
                                    s.selectBucket()
                                        .bind(taskHub, partition, b)
                                        .setPageSize(readPageRows)),
                            versions)
                        .thenApply(v -> found)
                        .toCompletableFuture());
              }
              return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                  .thenApply(
                      v -> {
                        List<StoredRecord> all = new ArrayList<>();
                        parts.forEach(p -> all.addAll(p.join()));
                        return all;
                      });
            });
  }

  /** Point reads in flight at once for {@link #loadSome}. */
  private static final int READS_IN_FLIGHT = 32;

  /**
   * The records under {@code keys} as of checkpoint {@code number}, each read as {@link #loadOne}
   * reads it, {@value #READS_IN_FLIGHT} at a time; keys with none are left out.
   */
  public CompletionStage<List<StoredRecord>> loadSome(
      int partition, List<String> keys, long number) {
    List<StoredRecord> found = java.util.Collections.synchronizedList(new ArrayList<>());
    return bounded(
            keys,
            READS_IN_FLIGHT,
            key -> loadOne(partition, key, number).thenAccept(r -> r.ifPresent(found::add)))
        .thenApply(done -> List.copyOf(found));
  }

  /**
   * The record {@code key} as of checkpoint {@code number}: its newest version at or below it, read
   * with one slice of its bucket; empty if it has none or that version is a deletion.
   */
  public CompletionStage<Optional<StoredRecord>> loadOne(int partition, String key, long number) {
    Objects.requireNonNull(key, "key");
    return ready()
        .thenCompose(
            s -> {
              StoredRecord[] found = new StoredRecord[1];
              Versions versions =
                  new Versions(
                      partition,
                      number,
                      (k, data) -> found[0] = data == null ? null : record(k, data));
              return readUntil(
                      s.session()
                          .executeAsync(
                              s.selectOne()
                                  .bind(taskHub, partition, bucketOf(key), key, number)
                                  .setPageSize(readPageRows)),
                      versions,
                      versions::keyDone)
                  .thenApply(v -> Optional.ofNullable(found[0]));
            });
  }

  /**
   * Up to {@code limit} records of the partition as of checkpoint {@code number} (each key's newest
   * version at or below it; deletions left out) whose keys start with {@code keyPrefix}, come after
   * {@code afterKey} (null: from the first) and pass {@code filter}, in ascending key order (the
   * order of their UTF-8 bytes, Cassandra's for text). Reads every bucket's slice in key order and
   * merges them, a page of about {@code 2 * limit / buckets} rows of each at a time, so that memory
   * stays bounded by the pages, never the partition.
   */
  public CompletionStage<RecordPage> scan(
      int partition,
      long number,
      String afterKey,
      String keyPrefix,
      int limit,
      Predicate<StoredRecord> filter) {
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    Objects.requireNonNull(filter, "filter");
    if (limit < 1) {
      throw new IllegalArgumentException("A scan's limit must be at least 1, found " + limit);
    }
    int pageRows = (int) Math.min(readPageRows, Math.max(8, 2L * limit / buckets + 8));
    boolean after = afterKey != null && compareKeys(afterKey, keyPrefix) >= 0;
    String from = after ? afterKey : keyPrefix;
    String below = successorOfPrefix(keyPrefix);
    if (below != null && compareKeys(from, below) >= 0) {
      return CompletableFuture.completedFuture(new RecordPage(List.of(), false));
    }
    return ready()
        .thenCompose(
            s -> {
              List<Cursor> cursors = new ArrayList<>(buckets);
              List<CompletableFuture<Void>> started = new ArrayList<>(buckets);
              for (int b = 0; b < buckets; b++) {
                PreparedStatement p =
                    after
                        ? (below == null ? s.scanAfter() : s.scanAfterBelow())
                        : (below == null ? s.scanFrom() : s.scanFromBelow());
                BoundStatement st =
                    from.isEmpty() && below == null
                        ? s.selectBucket().bind(taskHub, partition, b)
                        : below == null
                            ? p.bind(taskHub, partition, b, from)
                            : p.bind(taskHub, partition, b, from, below);
                Cursor cursor = new Cursor(partition, number);
                cursors.add(cursor);
                started.add(cursor.start(s.session().executeAsync(st.setPageSize(pageRows))));
              }
              return CompletableFuture.allOf(started.toArray(CompletableFuture[]::new))
                  .thenCompose(v -> new Merge(cursors, limit, filter).run());
            });
  }

  /**
   * The least string above every string that starts with {@code prefix}, in code point order; null
   * when there is none (the empty prefix, or one of only the highest code point).
   */
  static String successorOfPrefix(String prefix) {
    int end = prefix.length();
    while (end > 0) {
      int last = prefix.codePointBefore(end);
      int start = end - Character.charCount(last);
      if (last < Character.MAX_CODE_POINT) {
        int next = last + 1 == Character.MIN_SURROGATE ? Character.MAX_SURROGATE + 1 : last + 1;
        return prefix.substring(0, start) + Character.toString(next);
      }
      end = start;
    }
    return null;
  }

  /** Compares by code points: the order of UTF-8 bytes, in which Cassandra sorts text. */
  static int compareKeys(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Boolean.compare(i < a.length(), j < b.length());
  }

  private StoredRecord record(String key, byte[] data) {
    return new StoredRecord(
        key,
        (WireSerializable) serialization.deserialize(data, KryoSerializer.IDENTIFIER, "").get());
  }

  /** Receives each key's newest version at or below the number: its bytes, or null if deleted. */
  @FunctionalInterface
  private interface VersionSink {
    void accept(String key, byte[] data);
  }

  /**
   * Reassembles, from rows in clustering order (by key, newest checkpoint first, chunks in order),
   * each key's newest version at or below the number. Rows above it belong to checkpoints that
   * never committed and are skipped; a version at or below it is complete unless the store is
   * damaged, and one that is not fails the read rather than return part of a record.
   */
  private final class Versions {
    private final int partition;
    private final long number;
    private final VersionSink sink;
    private String key;
    private boolean keyDone;
    private long checkpoint;
    private int chunks;
    private List<ByteBuffer> parts;
    private int size;

    Versions(int partition, long number, VersionSink sink) {
      this.partition = partition;
      this.number = number;
      this.sink = sink;
    }

    /** Whether the current key's version has been delivered (or it has none to deliver). */
    boolean keyDone() {
      return keyDone;
    }

    void accept(Row row) {
      String rowKey = row.getString(0);
      if (!rowKey.equals(key)) {
        if (parts != null) {
          throw incomplete(parts.size());
        }
        key = rowKey;
        keyDone = false;
      }
      if (keyDone) {
        return; // older versions, or chunks past the count
      }
      long rowCheckpoint = row.getLong(1);
      int chunk = row.getInt(2);
      ByteBuffer data = row.getByteBuffer(4);
      if (parts == null) {
        if (rowCheckpoint > number) {
          return;
        }
        checkpoint = rowCheckpoint;
        chunks = row.isNull(3) ? -1 : row.getInt(3);
        if (chunk != 0 || chunks < 1) {
          throw incomplete(0);
        }
        if (chunks == 1) {
          keyDone = true;
          sink.accept(key, data == null ? null : bytesOf(List.of(data), data.remaining()));
          return;
        }
        parts = new ArrayList<>(chunks);
        size = 0;
      } else if (rowCheckpoint != checkpoint || chunk != parts.size()) {
        throw incomplete(parts.size());
      }
      if (data == null) {
        throw incomplete(parts.size());
      }
      parts.add(data);
      size += data.remaining();
      if (parts.size() == chunks) {
        List<ByteBuffer> all = parts;
        parts = null;
        keyDone = true;
        sink.accept(key, bytesOf(all, size));
      }
    }

    /** The rows ended: a version being reassembled lacks its last chunks. */
    void finish() {
      if (parts != null) {
        throw incomplete(parts.size());
      }
    }

    private IllegalStateException incomplete(int found) {
      return new IllegalStateException(
          "instance record version incomplete at or below the committed checkpoint (the store is"
              + " damaged): task_hub="
              + taskHub
              + " partition="
              + partition
              + " record_key="
              + key
              + " checkpoint="
              + checkpoint
              + " committed="
              + number
              + " chunks="
              + chunks
              + " chunks_found="
              + found);
    }
  }

  private static byte[] bytesOf(List<ByteBuffer> parts, int size) {
    byte[] bytes = new byte[size];
    int at = 0;
    for (ByteBuffer part : parts) {
      int n = part.remaining();
      part.duplicate().get(bytes, at, n);
      at += n;
    }
    return bytes;
  }

  private static CompletionStage<Void> readAll(
      CompletionStage<AsyncResultSet> page, Versions sink) {
    return page.thenCompose(
        rs -> {
          for (Row row : rs.currentPage()) {
            sink.accept(row);
          }
          if (rs.hasMorePages()) {
            return readAll(rs.fetchNextPage(), sink);
          }
          sink.finish();
          return CompletableFuture.<Void>completedFuture(null);
        });
  }

  /** Like {@link #readAll}, but fetches no further page once {@code done} holds. */
  private static CompletionStage<Void> readUntil(
      CompletionStage<AsyncResultSet> page, Versions sink, BooleanSupplier done) {
    return page.thenCompose(
        rs -> {
          for (Row row : rs.currentPage()) {
            sink.accept(row);
            if (done.getAsBoolean()) {
              return CompletableFuture.<Void>completedFuture(null);
            }
          }
          if (rs.hasMorePages()) {
            return readUntil(rs.fetchNextPage(), sink, done);
          }
          sink.finish();
          return CompletableFuture.<Void>completedFuture(null);
        });
  }

  /** A version ready in a bucket's slice: its key and bytes (null: deleted). */
  private record Head(String key, byte[] data) {}

  /**
   * One bucket's slice, read a page at a time: the versions reassembled from the current page wait
   * in {@code ready} (at most a page of them), and the next page is fetched only when they are used
   * up.
   */
  private final class Cursor {
    private final ArrayDeque<Head> ready = new ArrayDeque<>();
    private final Versions versions;
    private AsyncResultSet page;
    private Iterator<Row> rows;
    private boolean exhausted;

    Cursor(int partition, long number) {
      this.versions = new Versions(partition, number, (k, d) -> ready.add(new Head(k, d)));
    }

    CompletableFuture<Void> start(CompletionStage<AsyncResultSet> first) {
      return first.toCompletableFuture().thenCompose(rs -> onPage(rs));
    }

    private CompletableFuture<Void> onPage(AsyncResultSet rs) {
      page = rs;
      rows = rs.currentPage().iterator();
      return fill();
    }

    /** Makes {@link #head} available, or the slice exhausted; completed at once if no I/O. */
    CompletableFuture<Void> fill() {
      while (ready.isEmpty() && !exhausted) {
        if (rows.hasNext()) {
          versions.accept(rows.next());
        } else if (page.hasMorePages()) {
          return page.fetchNextPage().toCompletableFuture().thenCompose(this::onPage);
        } else {
          versions.finish();
          exhausted = true;
        }
      }
      return CompletableFuture.completedFuture(null);
    }

    Head head() {
      return ready.peek();
    }

    Head take() {
      return ready.poll();
    }

    /** Whether anything may follow what was taken. */
    boolean mayHaveMore() {
      return !ready.isEmpty() || !exhausted;
    }
  }

  /** Merges the buckets' cursors in key order into one page. */
  private final class Merge {
    private final PriorityQueue<Cursor> byHead =
        new PriorityQueue<>(Comparator.comparing((Cursor c) -> c.head().key(), Merge::order));
    private final int limit;
    private final Predicate<StoredRecord> filter;
    private final List<StoredRecord> records = new ArrayList<>();
    private final CompletableFuture<RecordPage> done = new CompletableFuture<>();

    Merge(List<Cursor> cursors, int limit, Predicate<StoredRecord> filter) {
      this.limit = limit;
      this.filter = filter;
      for (Cursor c : cursors) {
        if (c.head() != null) {
          byHead.add(c);
        }
      }
    }

    private static int order(String a, String b) {
      return compareKeys(a, b);
    }

    CompletableFuture<RecordPage> run() {
      step();
      return done;
    }

    private void step() {
      try {
        while (!byHead.isEmpty()) {
          Cursor c = byHead.poll();
          Head head = c.take();
          if (head.data() != null) {
            StoredRecord r = record(head.key(), head.data());
            if (filter.test(r)) {
              records.add(r);
              if (records.size() == limit) {
                done.complete(new RecordPage(records, c.mayHaveMore() || !byHead.isEmpty()));
                return;
              }
            }
          }
          CompletableFuture<Void> filled = c.fill();
          if (!filled.isDone()) {
            filled.whenComplete(
                (v, error) -> {
                  if (error != null) {
                    done.completeExceptionally(error);
                  } else {
                    requeue(c);
                    step();
                  }
                });
            return;
          }
          filled.join();
          requeue(c);
        }
        done.complete(new RecordPage(records, false));
      } catch (CompletionException e) {
        done.completeExceptionally(e.getCause() != null ? e.getCause() : e);
      } catch (RuntimeException e) {
        done.completeExceptionally(e);
      }
    }

    private void requeue(Cursor c) {
      if (c.head() != null) {
        byHead.add(c);
      }
    }
  }

  /**
   * Runs {@code op} on every row, at most {@code parallelism} at a time; fails on the first error.
   */
  private <T> CompletionStage<Void> bounded(List<T> items, Function<T, CompletionStage<?>> op) {
    return bounded(items, parallelism, op);
  }

  /** Runs {@code op} on every item, at most {@code limit} at a time; fails on the first error. */
  private <T> CompletionStage<Void> bounded(
      List<T> items, int limit, Function<T, CompletionStage<?>> op) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (items.isEmpty()) {
      done.complete(null);
      return done;
    }
    Iterator<T> next = items.iterator();
    AtomicInteger outstanding = new AtomicInteger(items.size());
    Object lock = new Object();
    Runnable[] launch = new Runnable[1];
    launch[0] =
        () -> {
          T item;
          synchronized (lock) {
            if (done.isDone() || !next.hasNext()) {
              return;
            }
            item = next.next();
          }
          op.apply(item)
              .whenComplete(
                  (r, error) -> {
                    if (error != null) {
                      done.completeExceptionally(error);
                    } else if (outstanding.decrementAndGet() == 0) {
                      done.complete(null);
                    } else {
                      launch[0].run();
                    }
                  });
        };
    for (int k = 0; k < Math.min(limit, items.size()); k++) {
      launch[0].run();
    }
    return done;
  }
}
