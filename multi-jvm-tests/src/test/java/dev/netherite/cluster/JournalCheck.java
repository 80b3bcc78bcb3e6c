package dev.netherite.cluster;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.netherite.cassandra.TestCassandra;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** Reads the partitions' commit logs in Cassandra directly, as evidence of who wrote what. */
final class JournalCheck {
  private JournalCheck() {}

  /**
   * Fails if, in any partition's log, a writer (the journal's {@code writer_uuid}, one per
   * partition actor incarnation) writes again after another one took over, or a sequence number
   * appears twice: what a stale host writing beside the new one would leave.
   */
  static void assertWritersNeverInterleave(String taskHub, int partitions) {
    String[] hostPort = TestCassandra.contactPoint().split(":");
    List<String> problems = new ArrayList<>();
    int rows = 0;
    try (CqlSession session =
        CqlSession.builder()
            .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
            .withLocalDatacenter("datacenter1")
            .build()) {
      for (int p = 0; p < partitions; p++) {
        String persistenceId = taskHub + "-partition-" + p;
        List<UUID> writers = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (Row row :
            session.execute(
                "SELECT sequence_nr, writer_uuid FROM netherite.messages"
                    + " WHERE persistence_id = ? AND partition_nr = 0",
                persistenceId)) {
          rows++;
          long seq = row.getLong("sequence_nr");
          UUID writer = UUID.fromString(row.getString("writer_uuid"));
          if (!seen.add(seq)) {
            problems.add(persistenceId + ": sequence number " + seq + " written twice");
          }
          if (writers.isEmpty() || !writers.get(writers.size() - 1).equals(writer)) {
            if (writers.contains(writer)) {
              problems.add(
                  persistenceId
                      + ": writer "
                      + writer
                      + " wrote again at "
                      + seq
                      + " after "
                      + writers);
            }
            writers.add(writer);
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(String.join("\n", problems));
    }
    System.out.printf(
        "journal check: %d events in %d partitions, writers never interleave%n", rows, partitions);
  }

  /**
   * Fails if, in a partition of {@code fencePoints} (partition to the sequence number its new host
   * recovered up to), an event after that point is readable from a writer that wrote at or before
   * it: an event the replaced host wrote after the takeover, which the new host never replayed.
   */
  static void assertNothingOfTheOldWriterAfterTheFence(
      String taskHub, Map<Integer, Long> fencePoints) {
    List<String> problems = new ArrayList<>();
    try (CqlSession session = session()) {
      fencePoints.forEach(
          (p, fence) -> {
            Set<String> before = new HashSet<>();
            List<Row> rows =
                session
                    .execute(
                        "SELECT sequence_nr, writer_uuid FROM netherite.messages"
                            + " WHERE persistence_id = ? AND partition_nr = 0",
                        taskHub + "-partition-" + p)
                    .all();
            for (Row row : rows) {
              if (row.getLong("sequence_nr") <= fence) {
                before.add(row.getString("writer_uuid"));
              }
            }
            for (Row row : rows) {
              long seq = row.getLong("sequence_nr");
              if (seq > fence && before.contains(row.getString("writer_uuid"))) {
                problems.add(
                    "partition " + p + ": the replaced writer's event " + seq + " after " + fence);
              }
            }
          });
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(String.join("\n", problems));
    }
    System.out.printf(
        "journal check: nothing of a replaced writer after the fences %s%n", fencePoints);
  }

  private static CqlSession session() {
    String[] hostPort = TestCassandra.contactPoint().split(":");
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
        .withLocalDatacenter("datacenter1")
        .build();
  }
}
