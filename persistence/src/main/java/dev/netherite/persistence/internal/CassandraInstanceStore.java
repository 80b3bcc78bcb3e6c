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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
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
 * <p>A row is (task hub, partition, bucket | record key, checkpoint number) with the record's
 * bytes, or no bytes for a deletion. The bucket, a hash of the key, spreads a partition's records
 * over {@code buckets} Cassandra partitions, so that none grows without bound. Rows are never
 * updated: a checkpoint inserts a new version labelled with its number, its snapshot commits it,
 * and readers take each key's newest row at or below the committed number. After the commit, the
 * versions a checkpoint supersedes are removed by one range delete per record (no read before it,
 * and the live version sorts first, before the range tombstone).
 */
public final class CassandraInstanceStore {
  private final String taskHub;
  private final int buckets;
  private final int parallelism;
  private final int batchRows;
  private final long batchBytes;
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
      PreparedStatement deleteBelow,
      PreparedStatement deleteUpTo) {}

  /**
   * A record's key and bytes (null: deleted), ready to be written; {@code superseding}: the store
   * may hold earlier rows of it, which go once the checkpoint has committed.
   */
  public record RecordRow(String key, byte[] data, boolean superseding) {}

  public CassandraInstanceStore(ActorSystem system, String taskHub) {
    Config config = system.settings().config().getConfig("netherite.persistence.instance-store");
    this.taskHub = taskHub;
    this.buckets = config.getInt("buckets");
    this.parallelism = config.getInt("write-parallelism");
    this.batchRows = config.getInt("write-batch-rows");
    this.batchBytes = config.getBytes("write-batch-bytes");
    if (buckets < 1 || parallelism < 1 || batchRows < 1) {
      throw new IllegalArgumentException(
          "netherite.persistence.instance-store.buckets, write-parallelism and write-batch-rows must"
              + " be at least 1, found buckets="
              + buckets
              + " write-parallelism="
              + parallelism
              + " write-batch-rows="
              + batchRows);
    }
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
                              + " checkpoint bigint, data blob, PRIMARY KEY ((task_hub,"
                              + " partition_id, bucket), record_key, checkpoint)) WITH CLUSTERING"
                              + " ORDER BY (record_key ASC, checkpoint DESC) AND"
                              + " gc_grace_seconds = "
                              + gcGrace));
    }
    return schema.thenCompose(r -> prepareAll(session, table));
  }

  private static CompletionStage<Statements> prepareAll(CqlSession session, String table) {
    String key = " WHERE task_hub = ? AND partition_id = ? AND bucket = ?";
    CompletableFuture<PreparedStatement> insert =
        session
            .prepareAsync(
                "INSERT INTO "
                    + table
                    + " (task_hub, partition_id, bucket, record_key, checkpoint, data)"
                    + " VALUES (?, ?, ?, ?, ?, ?)")
            .toCompletableFuture();
    CompletableFuture<PreparedStatement> select =
        session
            .prepareAsync("SELECT record_key, checkpoint, data FROM " + table + key)
            .toCompletableFuture();
    CompletableFuture<PreparedStatement> below =
        session
            .prepareAsync("DELETE FROM " + table + key + " AND record_key = ? AND checkpoint < ?")
            .toCompletableFuture();
    CompletableFuture<PreparedStatement> upTo =
        session
            .prepareAsync("DELETE FROM " + table + key + " AND record_key = ? AND checkpoint <= ?")
            .toCompletableFuture();
    return CompletableFuture.allOf(insert, select, below, upTo)
        .thenApply(
            v -> new Statements(session, insert.join(), select.join(), below.join(), upTo.join()));
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

  /**
   * Writes the rows labelled {@code number}: by bucket, in unlogged single-partition batches, at
   * most {@code write-parallelism} requests at a time.
   */
  public CompletionStage<Void> write(int partition, long number, List<RecordRow> rows) {
    return ready()
        .thenCompose(
            s ->
                bounded(
                    batches(
                        rows,
                        r -> {
                          BoundStatement b =
                              s.insert()
                                  .bind()
                                  .setString(0, taskHub)
                                  .setInt(1, partition)
                                  .setInt(2, bucketOf(r.key()))
                                  .setString(3, r.key())
                                  .setLong(4, number);
                          return r.data() == null
                              ? b
                              : b.setByteBuffer(5, ByteBuffer.wrap(r.data()));
                        }),
                    st -> s.session().executeAsync(st)));
  }

  /**
   * After checkpoint {@code number} committed: removes the versions its rows supersede, and every
   * version of the records it deleted; nothing for records new since the previous checkpoint, which
   * have no earlier rows. Best effort: what stays is superseded and never read.
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
                        r ->
                            (r.data() == null ? s.deleteUpTo() : s.deleteBelow())
                                .bind(taskHub, partition, bucketOf(r.key()), r.key(), number)),
                    st -> s.session().executeAsync(st)));
  }

  /**
   * The rows' statements grouped by bucket (one Cassandra partition) into unlogged batches of at
   * most {@code write-batch-rows} rows and {@code write-batch-bytes}; a row above the byte cap goes
   * alone.
   */
  private List<Statement<?>> batches(
      List<RecordRow> rows, Function<RecordRow, BatchableStatement<?>> statement) {
    Map<Integer, List<RecordRow>> byBucket = new LinkedHashMap<>();
    for (RecordRow r : rows) {
      byBucket.computeIfAbsent(bucketOf(r.key()), b -> new ArrayList<>()).add(r);
    }
    List<Statement<?>> out = new ArrayList<>();
    for (List<RecordRow> bucket : byBucket.values()) {
      List<BatchableStatement<?>> batch = new ArrayList<>();
      long bytes = 0;
      for (RecordRow r : bucket) {
        long size = r.key().length() + (r.data() == null ? 0 : r.data().length);
        if (size > batchBytes) {
          out.add(statement.apply(r));
          continue;
        }
        if (!batch.isEmpty() && (batch.size() >= batchRows || bytes + size > batchBytes)) {
          out.add(batchOf(batch));
          batch = new ArrayList<>();
          bytes = 0;
        }
        batch.add(statement.apply(r));
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
   * Every record of the partition as of checkpoint {@code number}: for each key its newest row at
   * or below it, deleted ones left out; rows of checkpoints that never committed are above it.
   */
  public CompletionStage<List<StoredRecord>> loadAll(int partition, long number) {
    return ready()
        .thenCompose(
            s -> {
              List<CompletableFuture<List<StoredRecord>>> parts = new ArrayList<>(buckets);
              for (int b = 0; b < buckets; b++) {
                List<StoredRecord> found = new ArrayList<>();
                parts.add(
                    readAll(
                            s.session().executeAsync(s.selectBucket().bind(taskHub, partition, b)),
                            new Newest(number, found))
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

  /** A page of records in key order, and whether the store holds more after it. */
  public record RecordPage(List<StoredRecord> records, boolean more) {}

  /**
   * One record's newest version at or below checkpoint {@code number}; empty if none or deleted.
   */
  public CompletionStage<java.util.Optional<StoredRecord>> loadOne(
      int partition, String key, long number) {
    return loadAll(partition, number)
        .thenApply(all -> all.stream().filter(r -> r.key().equals(key)).findFirst());
  }

  /** Up to {@code limit} records after {@code afterKey} with the prefix that the filter takes. */
  public CompletionStage<RecordPage> scan(
      int partition,
      long number,
      String afterKey,
      String keyPrefix,
      int limit,
      java.util.function.Predicate<StoredRecord> filter) {
    return loadAll(partition, number)
        .thenApply(
            all -> {
              List<StoredRecord> matching =
                  all.stream()
                      .filter(r -> r.key().startsWith(keyPrefix))
                      .filter(r -> afterKey == null || r.key().compareTo(afterKey) > 0)
                      .filter(filter)
                      .sorted(java.util.Comparator.comparing(StoredRecord::key))
                      .toList();
              return new RecordPage(
                  matching.subList(0, Math.min(limit, matching.size())), matching.size() > limit);
            });
  }

  /** Picks each key's newest row at or below the number (rows come by key, newest first). */
  private final class Newest {
    private final long number;
    private final List<StoredRecord> found;
    private String lastKey;

    Newest(long number, List<StoredRecord> found) {
      this.number = number;
      this.found = found;
    }

    void accept(Row row) {
      String key = row.getString(0);
      if (key.equals(lastKey) || row.getLong(1) > number) {
        return;
      }
      lastKey = key;
      ByteBuffer data = row.getByteBuffer(2);
      if (data != null) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        found.add(
            new StoredRecord(
                key,
                (WireSerializable)
                    serialization.deserialize(bytes, KryoSerializer.IDENTIFIER, "").get()));
      }
    }
  }

  private static CompletionStage<Void> readAll(CompletionStage<AsyncResultSet> page, Newest sink) {
    return page.thenCompose(
        rs -> {
          for (Row row : rs.currentPage()) {
            sink.accept(row);
          }
          return rs.hasMorePages()
              ? readAll(rs.fetchNextPage(), sink)
              : CompletableFuture.<Void>completedFuture(null);
        });
  }

  /**
   * Runs {@code op} on every row, at most {@code parallelism} at a time; fails on the first error.
   */
  private <T> CompletionStage<Void> bounded(List<T> items, Function<T, CompletionStage<?>> op) {
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
    for (int k = 0; k < Math.min(parallelism, items.size()); k++) {
      launch[0].run();
    }
    return done;
  }
}
