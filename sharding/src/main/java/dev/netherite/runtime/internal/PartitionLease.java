package dev.netherite.runtime.internal;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.PoisonPill;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * INTERNAL API
 *
 * <p>The right of one partition actor to write its partition's commit log and checkpoints: a row in
 * Cassandra ({@code partition_leases}) naming the holder, taken with a lightweight transaction only
 * when no one holds it, kept alive by renewals (the row has a TTL), released when the actor stops.
 * Pekko does not fence a stale writer: a node paused (a long GC, a stopped VM) past the split-brain
 * resolver's decision comes back still hosting partitions that another node now hosts. Such a
 * node's lease has lapsed while it was paused, so it does not write, and its renewal fails, so the
 * partition stops.
 *
 * <p>The holder writes only while {@code now < sent + ttl - safety-margin}, where {@code sent} is
 * when its last successful acquisition or renewal was sent, so its right ends before the row
 * expires in Cassandra, which is when another actor can take it. A new holder takes the lease
 * before it recovers, so it replays everything its predecessor wrote. A pause between that check
 * and the write leaving the process is covered by the write's timestamp: every write of the
 * partition is dated no later than the end of the right ({@link #writeDeadlineMicros}, through
 * {@link WriteFence}), and the next holder's {@link #fence} deletes everything after its recovery
 * with a later timestamp.
 *
 * <p>The margin covers Cassandra's TTL, which counts whole seconds (a row may expire up to a second
 * before {@code write + ttl}), and the clock skew between the nodes: it must exceed both together.
 */
final class PartitionLease {
  static final String TABLE = "partition_leases";

  /** Settings under {@code netherite.partition-lease}. */
  record Settings(boolean enabled, Duration ttl, Duration renewInterval, Duration safetyMargin) {
    static Settings from(Config config) {
      Config c = config.getConfig("netherite.partition-lease");
      Settings s =
          new Settings(
              c.getBoolean("enabled"),
              c.getDuration("ttl"),
              c.getDuration("renew-interval"),
              c.getDuration("safety-margin"));
      if (s.ttl.toSeconds() < 1 || s.ttl.toMillis() % 1000 != 0) {
        throw new IllegalArgumentException(
            "netherite.partition-lease.ttl is "
                + s.ttl
                + "; it must be whole seconds, at least 1s.");
      }
      if (s.safetyMargin.compareTo(Duration.ofSeconds(1)) <= 0) {
        throw new IllegalArgumentException(
            "netherite.partition-lease.safety-margin is "
                + s.safetyMargin
                + "; it must be longer than 1s (Cassandra's TTL counts whole seconds) plus the"
                + " clock skew between the nodes.");
      }
      if (s.renewInterval.plus(s.safetyMargin).compareTo(s.ttl) >= 0) {
        throw new IllegalArgumentException(
            "netherite.partition-lease.renew-interval + safety-margin must be shorter than its ttl"
                + " (they are "
                + s.renewInterval
                + " + "
                + s.safetyMargin
                + ", ttl "
                + s.ttl
                + ").");
      }
      return s;
    }
  }

  private final LoggingAdapter log;
  private final Settings settings;
  private final ActorSystem system;
  private final int partition;
  private final String taskHub;
  private final String persistenceId;
  private StoreHealth health = new StoreHealth();
  private final String owner;
  private final ActorRef holder;
  private CqlSession session;
  private PreparedStatement renew;
  private PreparedStatement release;
  private volatile long validUntilNanos;

  /**
   * {@link #validUntilNanos} on the wall clock, as a Cassandra write timestamp (microseconds); once
   * released, the time of the release.
   */
  private volatile long writeDeadlineMicros = Long.MAX_VALUE;

  /**
   * When this holder had the lease (the acquisition's answer came back), as a Cassandra write
   * timestamp (microseconds): later than the end of the previous holder's right.
   */
  private long takenAtMicros;

  private volatile boolean lost;
  private volatile boolean released;

  private PartitionLease(
      ActorSystem system,
      Settings settings,
      String taskHub,
      int partition,
      String persistenceId,
      ActorRef holder) {
    this.system = system;
    this.persistenceId = persistenceId;
    this.settings = settings;
    this.taskHub = taskHub;
    this.partition = partition;
    this.holder = holder;
    this.owner = Cluster.get(system).selfAddress().hostPort() + "/" + UUID.randomUUID();
    this.log = Logging.getLogger(system, PartitionLease.class);
  }

  /**
   * Creates the lease table if it is missing (after the journal's session has created its
   * keyspace).
   */
  static void createTable(ActorSystem system) {
    Settings settings = Settings.from(system.settings().config());
    if (!settings.enabled()) {
      return;
    }
    session(system)
        .execute(
            SimpleStatement.newInstance(
                    "CREATE TABLE IF NOT EXISTS "
                        + keyspace(system)
                        + "."
                        + TABLE
                        + " (task_hub text, partition int, owner text,"
                        + " PRIMARY KEY ((task_hub, partition)))")
                .setTimeout(Duration.ofSeconds(30)));
  }

  /**
   * Takes the lease of {@code partition} for {@code holder}, waiting (blocking the caller, a
   * virtual thread) while another holds it; returns a lease that permits nothing if the node shuts
   * down meanwhile. When the lease is later lost, {@code holder} is stopped.
   */
  static PartitionLease acquire(
      ActorSystem system,
      String taskHub,
      int partition,
      String persistenceId,
      ActorRef holder,
      StoreHealth health) {
    Settings settings = Settings.from(system.settings().config());
    PartitionLease lease =
        new PartitionLease(system, settings, taskHub, partition, persistenceId, holder);
    lease.health = health;
    if (!settings.enabled()) {
      lease.validUntilNanos = Long.MAX_VALUE;
      return lease;
    }
    lease.take();
    return lease;
  }

  private void take() {
    session = session(system);
    String table = keyspace(system) + "." + TABLE;
    int ttl = (int) settings.ttl().toSeconds();
    PreparedStatement insert = null;
    long waitingSince = System.nanoTime();
    boolean warned = false;
    while (true) {
      if (CoordinatedShutdown.get(system).getShutdownReason().isPresent()) {
        lost = true;
        return;
      }
      long sent = System.nanoTime();
      long sentMicros = WriteFence.nowMicros();
      try {
        if (insert == null) {
          // Prepared here, in the retry loop: the store may be unavailable when the partition
          // starts.
          insert =
              session.prepare(
                  "INSERT INTO "
                      + table
                      + " (task_hub, partition, owner) VALUES (?, ?, ?) IF NOT EXISTS USING TTL "
                      + ttl);
          renew =
              session.prepare(
                  "UPDATE "
                      + table
                      + " USING TTL "
                      + ttl
                      + " SET owner = ? WHERE task_hub = ? AND partition = ? IF owner = ?");
          release =
              session.prepare(
                  "DELETE FROM " + table + " WHERE task_hub = ? AND partition = ? IF owner = ?");
        }
        boolean applied = session.execute(insert.bind(taskHub, partition, owner)).wasApplied();
        health.available(sent);
        if (applied) {
          takenAtMicros = WriteFence.ID.get(system).next();
          extendUntil(sent, sentMicros);
          if (takenAtMicros >= writeDeadlineMicros) {
            // The answer took longer than the right it gives: nothing could be written under it.
            log.warning(
                "partition {} took its lease after {} ms, too late to use it; taking it again",
                partition,
                (System.nanoTime() - sent) / 1_000_000);
            continue;
          }
          WriteFence.ID.get(system).register(persistenceId, this);
          break;
        }
      } catch (RuntimeException e) {
        unreachable("partition " + partition + " could not take its lease yet", e);
      }
      if (!warned && System.nanoTime() - waitingSince > settings.ttl().toNanos() * 2) {
        warned = true;
        log.warning(
            "partition {} is waiting for its lease, which another holder keeps renewing",
            partition);
      }
      sleep(Math.max(50, settings.renewInterval().toMillis() / 4));
    }
    if (System.nanoTime() - waitingSince > TimeUnit.MILLISECONDS.toNanos(500)) {
      log.info(
          "partition {} took its lease after waiting {} ms for the previous holder's to lapse",
          partition,
          (System.nanoTime() - waitingSince) / 1_000_000);
    }
    Thread.ofVirtual().name("netherite-lease-" + partition).start(this::keepRenewing);
  }

  /**
   * Shadows whatever a previous holder's writes still bring to the log after {@code recoveredUpTo}:
   * a range tombstone over the later sequence numbers, dated when this holder took the lease. A
   * previous holder's write that was on its way when it paused (checked while it held the lease,
   * sent after) carries a timestamp no later than the end of that holder's right ({@link
   * WriteFence}), which is before this holder took the lease, so if it reaches Cassandra after this
   * recovery it is deleted on arrival; this holder's own writes come later and carry later
   * timestamps. Called once, after recovery and before the first write.
   */
  void fence(String persistenceId, long recoveredUpTo) {
    if (session == null || lost) {
      return;
    }
    Config journal = system.settings().config().getConfig("pekko.persistence.cassandra.journal");
    long partitionSize = journal.getLong("target-partition-size");
    long first = (recoveredUpTo + 1) / partitionSize;
    for (long partitionNr = first; partitionNr <= first + 1; partitionNr++) {
      session.execute(
          SimpleStatement.newInstance(
                  "DELETE FROM "
                      + journal.getString("keyspace")
                      + "."
                      + journal.getString("table")
                      + " USING TIMESTAMP "
                      + takenAtMicros
                      + " WHERE persistence_id = ? AND partition_nr = ? AND sequence_nr > ?",
                  persistenceId,
                  partitionNr,
                  recoveredUpTo)
              .setTimeout(Duration.ofSeconds(30)));
    }
    log.info(
        "partition {} fenced its log after seqNr {} (timestamp {})",
        partition,
        recoveredUpTo,
        takenAtMicros);
  }

  /**
   * The right to write runs until {@code ttl - safety-margin} after the acquisition or renewal sent
   * at {@code sentNanos} (the monotonic clock, which runs on through a pause) and {@code
   * sentMicros} (the wall clock, for write timestamps).
   */
  private synchronized void extendUntil(long sentNanos, long sentMicros) {
    Duration right = settings.ttl().minus(settings.safetyMargin());
    validUntilNanos = sentNanos + right.toNanos();
    if (!released) {
      writeDeadlineMicros = sentMicros + right.toNanos() / 1000;
    }
  }

  /**
   * The latest timestamp a write of this partition may carry: the end of this holder's right to
   * write, or when it released the lease. The next holder's fence is dated later.
   */
  long writeDeadlineMicros() {
    return writeDeadlineMicros;
  }

  /** True while this holder may write: checked before every journal write and checkpoint. */
  boolean permitsWrite() {
    return !lost && !released && System.nanoTime() < validUntilNanos;
  }

  private void keepRenewing() {
    long lastRenewalMillis = 0;
    long lastSent = System.nanoTime();
    while (!released && !lost) {
      // Renewals leave every renew-interval from the last one's sending, not from its answer: a
      // store that answers slowly (a lightweight transaction under load) must not also space the
      // renewals out, or the right to write lapses at half the latency it could bear.
      long wait = settings.renewInterval().toNanos() - (System.nanoTime() - lastSent);
      if (wait > 0) {
        sleep(TimeUnit.NANOSECONDS.toMillis(wait));
      }
      if (released) {
        return;
      }
      if (System.nanoTime() >= validUntilNanos) {
        // Paused or unable to renew for longer than the lease: another node may hold it by now.
        loseLease(
            "it lapsed: no renewal got through for "
                + settings.ttl().minus(settings.safetyMargin())
                + "; the last one that did took "
                + lastRenewalMillis
                + " ms (a slow store or a paused process; netherite.partition-lease.ttl)");
        return;
      }
      long sent = System.nanoTime();
      lastSent = sent;
      long sentMicros = WriteFence.nowMicros();
      try {
        boolean applied =
            session.execute(renew.bind(owner, taskHub, partition, owner)).wasApplied();
        lastRenewalMillis = (System.nanoTime() - sent) / 1_000_000;
        if (!applied) {
          // The row expired before this renewal reached Cassandra, and a new holder took it: a
          // host on another node, or this node's next host of the partition.
          loseLease("its row names another holder now");
          return;
        }
        health.available(sent);
        if (System.nanoTime() < validUntilNanos) {
          extendUntil(sent, sentMicros);
        }
      } catch (RuntimeException e) {
        unreachable("partition " + partition + " could not renew its lease", e);
      }
    }
  }

  /**
   * A failed lease call: an unavailable store is reported once per outage by {@link StoreHealth},
   * anything else here.
   */
  private void unreachable(String what, RuntimeException e) {
    if (StoreHealth.meansUnavailable(e)) {
      health.unavailable(e);
    } else {
      log.warning("{}: {}", what, e.toString());
    }
  }

  private void loseLease(String why) {
    lost = true;
    if (health.unavailableSince() != null) {
      log.info("partition {} lost its lease ({}); it stops without writing", partition, why);
    } else {
      log.warning("partition {} lost its lease ({}); it stops without writing", partition, why);
    }
    holder.tell(PoisonPill.getInstance(), ActorRef.noSender());
  }

  /** Gives the lease up (the actor stopped), so that a new holder need not wait for it to lapse. */
  void release() {
    synchronized (this) {
      released = true;
      writeDeadlineMicros = Math.min(writeDeadlineMicros, WriteFence.nowMicros());
    }
    if (session == null || lost || release == null) {
      return;
    }
    session
        .executeAsync(release.bind(taskHub, partition, owner))
        .whenComplete(
            (r, e) -> {
              if (e != null && !StoreHealth.meansUnavailable(e)) {
                log.warning(
                    "partition {} could not release its lease (it lapses in {}): {}",
                    partition,
                    settings.ttl(),
                    e.toString());
              }
            });
  }

  private static CqlSession session(ActorSystem system) {
    try {
      return CassandraSessionRegistry.get(system)
          .sessionFor(CassandraSessionSettings.create("pekko.persistence.cassandra"))
          .underlying()
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the Cassandra session for partition leases failed", e);
    }
  }

  private static String keyspace(ActorSystem system) {
    return system.settings().config().getString("pekko.persistence.cassandra.journal.keyspace");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
