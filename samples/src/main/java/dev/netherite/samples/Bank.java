package dev.netherite.samples;

import dev.netherite.dsl.CriticalSection;
import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityState;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bank: {@code Account} entities holding a balance, and a transfer orchestration that locks both
 * accounts, reads the source balance, and moves the amount only if the balance covers it. Critical
 * sections make the read and the two updates one atomic step as far as other transfers can tell, so
 * money is conserved whatever runs concurrently.
 */
public final class Bank {
  public static final EntityOp<Integer, Void> ADD = EntityOp.of("add", Integer.class, Void.class);
  public static final EntityOp<Void, Integer> GET = EntityOp.of("get", Void.class, Integer.class);

  public static final EntityType<Integer> ACCOUNT =
      EntityType.define("Account", Integer.class, () -> 0)
          .operation(
              ADD,
              (ctx, amount) -> {
                ctx.setState(ctx.state() + amount);
                return null;
              })
          .operation(GET, (ctx, none) -> ctx.state());

  /** Move {@code amount} from account {@code from} to account {@code to} (account keys). */
  public record Transfer(String from, String to, int amount) {}

  public static final OrchestrationRef<Transfer, Boolean> TRANSFER =
      OrchestrationRef.of("Transfer", Transfer.class, Boolean.class);

  /** Put {@code amount} into the account with key {@code account}. */
  public record Deposit(String account, int amount) {}

  /**
   * A deposit as an orchestration: started with a fixed instance id, it takes effect once however
   * often started.
   */
  public static final OrchestrationRef<Deposit, Integer> DEPOSIT =
      OrchestrationRef.of("Deposit", Deposit.class, Integer.class);

  private Bank() {}

  /**
   * What the accounts must hold: the deposits, plus and minus every transfer that reported success.
   * Thread-safe, so that concurrent clients can record outcomes. {@link #check} compares it with
   * the accounts.
   */
  public static final class Ledger {
    private final Map<String, AtomicLong> expected = new ConcurrentHashMap<>();
    private final AtomicLong deposited = new AtomicLong();

    public void deposited(String account, int amount) {
      expected.computeIfAbsent(account, k -> new AtomicLong()).addAndGet(amount);
      deposited.addAndGet(amount);
    }

    /** Records a transfer that reported success. */
    public void applied(Transfer t) {
      expected.computeIfAbsent(t.from(), k -> new AtomicLong()).addAndGet(-t.amount());
      expected.computeIfAbsent(t.to(), k -> new AtomicLong()).addAndGet(t.amount());
    }

    /**
     * What is wrong with the accounts (empty when nothing is): money not conserved, and, when
     * {@code exact} (every transfer's outcome was recorded and none is still running), an account
     * that holds other than the ledger says, or one still locked or with work queued.
     */
    public List<String> check(DurableClient client, boolean exact) {
      List<String> problems = new ArrayList<>();
      long total = 0;
      for (Map.Entry<String, AtomicLong> e : new TreeMap<>(expected).entrySet()) {
        EntityState<Integer> account = client.readEntity(ACCOUNT, e.getKey());
        long balance = account.state() == null ? 0 : account.state();
        total += balance;
        if (exact && balance != e.getValue().get()) {
          problems.add(
              "account "
                  + e.getKey()
                  + " holds "
                  + balance
                  + "; the successful transfers make it "
                  + e.getValue().get());
        }
        if (exact && (account.lockedBy() != null || account.backlog() != 0)) {
          problems.add(
              "account "
                  + e.getKey()
                  + " is locked by "
                  + account.lockedBy()
                  + " with "
                  + account.backlog()
                  + " queued");
        }
      }
      if (total != deposited.get()) {
        problems.add(
            "money is not conserved: the accounts hold "
                + total
                + ", "
                + deposited.get()
                + " was deposited");
      }
      return problems;
    }
  }

  @SuppressWarnings("try") // the section is used for its scope: closing it releases the locks
  static Boolean transfer(OrchestrationContext ctx, Transfer t) {
    if (t.amount() <= 0) {
      throw new IllegalArgumentException(
          "A transfer moves a positive amount; it was " + t.amount() + ".");
    }
    EntityId from = ACCOUNT.id(t.from());
    EntityId to = ACCOUNT.id(t.to());
    try (CriticalSection section = ctx.lockEntities(from, to)) {
      if (ctx.callEntity(from, GET).await() < t.amount()) {
        return false;
      }
      Task.allOf(ctx.callEntity(from, ADD, -t.amount()), ctx.callEntity(to, ADD, t.amount()))
          .await();
      return true;
    }
  }

  /**
   * The key of account {@code k} of {@code partitions}: the {@code !n} suffix spreads accounts over
   * all partitions, so that a transfer between accounts {@code k} and {@code k + 1} always spans
   * two partitions.
   */
  public static String accountKey(int k, int partitions) {
    return "acct-" + k + "!" + (k % partitions);
  }

  /**
   * Opens {@code count} accounts with {@code balance} each, by signal; returns once the signals are
   * durable.
   */
  public static void openAccounts(DurableClient client, int count, int partitions, int balance) {
    for (int k = 0; k < count; k++) {
      client.signalEntity(ACCOUNT.id(accountKey(k, partitions)), ADD, balance);
    }
  }

  public static Workflows.Builder register(Workflows.Builder builder) {
    return builder
        .entity(ACCOUNT)
        .orchestration(TRANSFER, Bank::transfer)
        .orchestration(
            DEPOSIT,
            (ctx, d) -> {
              ctx.callEntity(ACCOUNT.id(d.account()), ADD, d.amount()).await();
              return d.amount();
            });
  }
}
