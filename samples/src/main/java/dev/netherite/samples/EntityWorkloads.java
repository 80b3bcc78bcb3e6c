package dev.netherite.samples;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.EntityState;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark workloads built on entities: Bank, Counter (hot and spread), WordCount and
 * CollisionSearch.
 */
final class EntityWorkloads {
  /** The partition count the benchmark runs with (netherite.partition-count's default). */
  static final int PARTITIONS = 12;

  private EntityWorkloads() {}

  /**
   * Bank transfers between random accounts on different partitions. Right when every transfer
   * completes; the whole run is right when money is conserved and, if every outcome was seen, each
   * account's balance is what the successful transfers make it (each applied once).
   */
  static final class BankWorkload implements BenchmarkWorkload {
    static final int ACCOUNTS = 1000;
    static final int BALANCE = 1000;
    private Bank.Ledger ledger = new Bank.Ledger();
    private final AtomicInteger unknown = new AtomicInteger();

    @Override
    public String name() {
      return "bank";
    }

    @Override
    public Set<Measure> measures() {
      return EnumSet.allOf(Measure.class);
    }

    @Override
    public void prepare(DurableClient client) {
      Bank.openAccounts(client, ACCOUNTS, PARTITIONS, BALANCE);
      ledger = new Bank.Ledger(); // each mode runs on a task hub of its own
      for (int k = 0; k < ACCOUNTS; k++) {
        ledger.deposited(Bank.accountKey(k, PARTITIONS), BALANCE);
      }
      unknown.set(0);
    }

    @Override
    public Boolean runOnce(DurableClient client, Duration timeout) {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      int a = random.nextInt(ACCOUNTS);
      int b;
      do {
        b = random.nextInt(ACCOUNTS);
      } while (b % PARTITIONS == a % PARTITIONS);
      Bank.Transfer t =
          new Bank.Transfer(
              Bank.accountKey(a, PARTITIONS),
              Bank.accountKey(b, PARTITIONS),
              1 + random.nextInt(100));
      InstanceStatus done;
      try {
        done = client.waitForCompletion(client.start(Bank.TRANSFER, t), timeout);
      } catch (RuntimeException e) {
        unknown.incrementAndGet();
        throw e;
      }
      if (done.runtimeStatus() != RuntimeStatus.COMPLETED) {
        unknown.incrementAndGet();
        return false;
      }
      if (done.output(Boolean.class)) {
        ledger.applied(t);
      }
      return true;
    }

    /**
     * Money conserved; and, when every outcome was seen, each account exactly as the ledger says.
     */
    @Override
    public Boolean verify(DurableClient client) {
      // A transfer completes before its partners have applied the release of its locks (a message
      // on its way), so an account may still show it locked for a moment: looked at again for a
      // while before it counts as wrong.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      List<String> problems = ledger.check(client, unknown.get() == 0);
      while (!problems.isEmpty() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
        problems = ledger.check(client, unknown.get() == 0);
      }
      if (!problems.isEmpty()) {
        System.err.println(
            "bank: the accounts are wrong after 30 s: "
                + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : ""));
      }
      return problems.isEmpty();
    }
  }

  /**
   * Increment orchestrations, each one call of a counter entity: one hot counter, or 1000 spread
   * over partitions.
   */
  static final class CounterWorkload implements BenchmarkWorkload {
    static final int SPREAD = 1000;
    private final boolean hot;
    private final String prefix = "c" + Long.toString(System.nanoTime() % 1_000_000, 36) + "-";
    private final AtomicLong succeeded = new AtomicLong();

    CounterWorkload(boolean hot) {
      this.hot = hot;
    }

    @Override
    public String name() {
      return hot ? "counter-hot" : "counter-spread";
    }

    @Override
    public Set<Measure> measures() {
      return EnumSet.allOf(Measure.class);
    }

    @Override
    public void prepare(DurableClient client) {
      succeeded.set(0); // each mode runs on a task hub of its own, whose counters start at zero
    }

    private String key(int k) {
      return prefix + k + "!" + (k % PARTITIONS);
    }

    @Override
    public Boolean runOnce(DurableClient client, Duration timeout) {
      String key = hot ? key(0) : key(ThreadLocalRandom.current().nextInt(SPREAD));
      InstanceId id = client.start(Counter.INCREMENT, key);
      Long value = client.waitForCompletion(id, timeout).output(Long.class);
      if (value == null || value < 1) {
        return false;
      }
      succeeded.incrementAndGet();
      return true;
    }

    @Override
    public Boolean verify(DurableClient client) {
      long total = 0;
      for (int k = 0; k < (hot ? 1 : SPREAD); k++) {
        EntityState<Long> c = client.readEntity(Counter.COUNTER, key(k));
        total += c.state() == null ? 0 : c.state();
      }
      return total == succeeded.get();
    }
  }

  /** WordCount jobs of 4 mappers x 2000 words, 3 reducers; right when equal to the direct count. */
  static final class WordCountWorkload implements BenchmarkWorkload {
    private final AtomicInteger jobs = new AtomicInteger();
    private final String prefix = "bench" + Long.toString(System.nanoTime() % 1_000_000, 36);

    @Override
    public String name() {
      return "wordcount";
    }

    @Override
    public int sequentialRuns(int requested) {
      return Math.max(3, Math.min(requested, 20));
    }

    @Override
    public Boolean runOnce(DurableClient client, Duration timeout) {
      WordCount.Job job =
          new WordCount.Job(prefix + "-" + jobs.incrementAndGet(), 4, 3, 2000, jobs.get(), 20);
      InstanceStatus done =
          client.waitForCompletion(client.start(WordCount.WORD_COUNT, job), timeout);
      return WordCount.directCount(job).equals(done.output(WordCount.Result.class));
    }
  }

  /**
   * CollisionSearch over 2 million values (10 x 10 sub-orchestrations of 20000); right when the
   * planted value is found.
   */
  static final class CollisionWorkload implements BenchmarkWorkload {
    @Override
    public String name() {
      return "collision";
    }

    @Override
    public int sequentialRuns(int requested) {
      return Math.max(3, Math.min(requested, 20));
    }

    @Override
    public Boolean runOnce(DurableClient client, Duration timeout) {
      long planted = ThreadLocalRandom.current().nextLong(2_000_000);
      CollisionSearch.Interval search = CollisionSearch.planted(2_000_000, planted, 20_000);
      InstanceStatus done =
          client.waitForCompletion(client.start(CollisionSearch.SEARCH, search), timeout);
      CollisionSearch.Found found = done.output(CollisionSearch.Found.class);
      return found != null && found.values().contains(planted);
    }
  }
}
