package dev.netherite.samples.cluster;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.samples.Hello5;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One Hello5 instance per unit: five activities in sequence, each result recorded exactly once. */
final class Hello5Workload implements Workload {

  @Override
  public String name() {
    return "hello5";
  }

  static InstanceId id(String runId, int index) {
    return InstanceId.of(runId + "-hello-" + index);
  }

  @Override
  public void start(DurableClient client, String runId, int index) {
    client.start(Hello5.HELLO5, null, StartOptions.defaults().instanceId(id(runId, index)));
  }

  @Override
  public List<String> verify(DurableClient client, String runId, int index, Duration timeout) {
    return verifyInstance(client, id(runId, index), timeout);
  }

  @Override
  public List<String> verifyRun(DurableClient client, String runId, int count) {
    int found = Workload.countInstances(client, runId + "-hello-");
    return found == count
        ? List.of()
        : List.of("run " + runId + ": " + found + " Hello5 instances exist, expected " + count);
  }

  /**
   * Completed with the five greetings; started once, each activity scheduled once and completed
   * once.
   */
  static List<String> verifyInstance(DurableClient client, InstanceId id, Duration timeout) {
    List<String> problems = new ArrayList<>();
    InstanceStatus done = client.waitForCompletion(id, timeout);
    if (done.runtimeStatus() != RuntimeStatus.COMPLETED) {
      return List.of(id + ": " + done.runtimeStatus() + " " + done.failure());
    }
    if (!Hello5.EXPECTED.equals(done.output(List.class))) {
      problems.add(id + ": output " + done.serializedOutput());
    }
    List<HistoryEvent> history = client.getStatus(id, true).orElseThrow().history();
    expectCount(problems, id, history, HistoryEvent.ExecutionStarted.class, 1);
    expectCount(problems, id, history, HistoryEvent.TaskScheduled.class, 5);
    expectCount(problems, id, history, HistoryEvent.TaskCompleted.class, 5);
    expectCount(problems, id, history, HistoryEvent.ExecutionCompleted.class, 1);
    return problems;
  }

  static void expectCount(
      List<String> problems,
      InstanceId id,
      List<HistoryEvent> history,
      Class<? extends HistoryEvent> type,
      int expected) {
    long n = history.stream().filter(type::isInstance).count();
    if (n != expected) {
      problems.add(
          id + ": " + n + " " + type.getSimpleName() + " in its history, expected " + expected);
    }
  }
}
