package dev.netherite.samples.cluster;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.samples.Bank;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Bank under a moving or crashing cluster. Unit {@code i} is one transfer between two of {@link
 * #ACCOUNTS} accounts on different partitions (few accounts, so transfers conflict), and, for the
 * first {@link #ACCOUNTS} units, the deposit that opens account {@code i}. Both are orchestrations
 * with ids derived from the run, so a unit started twice takes effect once. The run check: money is
 * conserved, every account holds exactly what its deposit and the successful transfers make it
 * (each applied once), and no lock or queued message is left.
 */
final class BankWorkload implements Workload {
  static final int ACCOUNTS = 24;
  static final int PARTITIONS = 12;
  static final int BALANCE = 100;

  @Override
  public String name() {
    return "bank";
  }

  static String account(String runId, int k) {
    return runId + "-acct-" + k + "!" + (k % PARTITIONS);
  }

  static InstanceId depositId(String runId, int k) {
    return InstanceId.of(runId + "-bank-open-" + k);
  }

  static InstanceId transferId(String runId, int index) {
    return InstanceId.of(runId + "-bank-t-" + index);
  }

  static Bank.Transfer transfer(String runId, int index) {
    int a = Math.floorMod(index * 7 + 3, ACCOUNTS);
    int b = Math.floorMod(a + 1 + index % (ACCOUNTS - 1), ACCOUNTS);
    if (b % PARTITIONS == a % PARTITIONS) {
      b = (b + 1) % ACCOUNTS;
    }
    return new Bank.Transfer(account(runId, a), account(runId, b), 1 + index % 60);
  }

  @Override
  public void start(DurableClient client, String runId, int index) {
    if (index < ACCOUNTS) {
      client.start(
          Bank.DEPOSIT,
          new Bank.Deposit(account(runId, index), BALANCE),
          StartOptions.defaults().instanceId(depositId(runId, index)));
    }
    client.start(
        Bank.TRANSFER,
        transfer(runId, index),
        StartOptions.defaults().instanceId(transferId(runId, index)));
  }

  @Override
  public List<String> verify(DurableClient client, String runId, int index, Duration timeout) {
    List<String> problems = new ArrayList<>();
    if (index < ACCOUNTS) {
      problems.addAll(completedOnce(client, depositId(runId, index), timeout));
    }
    problems.addAll(completedOnce(client, transferId(runId, index), timeout));
    return problems;
  }

  private static List<String> completedOnce(DurableClient client, InstanceId id, Duration timeout) {
    InstanceStatus done = client.waitForCompletion(id, timeout);
    if (done.runtimeStatus() != RuntimeStatus.COMPLETED) {
      return List.of(id + ": " + done.runtimeStatus() + " " + done.failure());
    }
    List<String> problems = new ArrayList<>();
    List<HistoryEvent> history = client.getStatus(id, true).orElseThrow().history();
    Hello5Workload.expectCount(problems, id, history, HistoryEvent.ExecutionStarted.class, 1);
    Hello5Workload.expectCount(problems, id, history, HistoryEvent.ExecutionCompleted.class, 1);
    long calls = history.stream().filter(e -> e instanceof HistoryEvent.EntityCalled).count();
    long answers =
        history.stream().filter(e -> e instanceof HistoryEvent.EntityCallCompleted).count();
    if (calls != answers) {
      problems.add(id + ": " + calls + " entity calls but " + answers + " answers");
    }
    return problems;
  }

  @Override
  public List<String> verifyRun(DurableClient client, String runId, int count) {
    Bank.Ledger ledger = new Bank.Ledger();
    int opened = Math.min(count, ACCOUNTS);
    for (int k = 0; k < opened; k++) {
      ledger.deposited(account(runId, k), BALANCE);
    }
    for (int i = 0; i < count; i++) {
      InstanceStatus s = client.getStatus(transferId(runId, i)).orElse(null);
      if (s == null) {
        return List.of("run " + runId + ": transfer " + i + " does not exist");
      }
      if (Boolean.TRUE.equals(s.output(Boolean.class))) {
        ledger.applied(transfer(runId, i));
      }
    }
    List<String> problems = new ArrayList<>();
    ledger.check(client, true).forEach(p -> problems.add("run " + runId + ": " + p));
    int instances = Workload.countInstances(client, runId + "-bank-");
    if (instances != count + opened) {
      problems.add(
          "run "
              + runId
              + ": "
              + instances
              + " Bank instances exist, expected "
              + (count + opened));
    }
    return problems;
  }
}
