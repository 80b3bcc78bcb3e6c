package dev.netherite.samples.cluster;

import dev.netherite.dsl.DurableClient;
import dev.netherite.dsl.HistoryEvent;
import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.InstanceStatus;
import dev.netherite.dsl.RuntimeStatus;
import dev.netherite.dsl.StartOptions;
import dev.netherite.samples.Greetings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One Greetings instance per unit, with three Hello5 sub-orchestrations on other partitions:
 * exercises exactly-once delivery between partitions while partitions move or crash.
 */
final class GreetingsWorkload implements Workload {
  static final int CHILDREN = 3;

  @Override
  public String name() {
    return "greetings";
  }

  static InstanceId id(String runId, int index) {
    return InstanceId.of(runId + "-greet-" + index);
  }

  @Override
  public void start(DurableClient client, String runId, int index) {
    client.start(
        Greetings.GREETINGS, CHILDREN, StartOptions.defaults().instanceId(id(runId, index)));
  }

  @Override
  public List<String> verify(DurableClient client, String runId, int index, Duration timeout) {
    InstanceId parent = id(runId, index);
    InstanceStatus done = client.waitForCompletion(parent, timeout);
    if (done.runtimeStatus() != RuntimeStatus.COMPLETED) {
      return List.of(parent + ": " + done.runtimeStatus() + " " + done.failure());
    }
    List<String> problems = new ArrayList<>();
    Integer greetings = done.output(Integer.class);
    if (greetings == null || greetings != CHILDREN * 5) {
      problems.add(parent + ": " + greetings + " greetings, expected " + CHILDREN * 5);
    }
    List<HistoryEvent> history = client.getStatus(parent, true).orElseThrow().history();
    Hello5Workload.expectCount(problems, parent, history, HistoryEvent.ExecutionStarted.class, 1);
    Hello5Workload.expectCount(
        problems, parent, history, HistoryEvent.SubOrchestrationCreated.class, CHILDREN);
    Hello5Workload.expectCount(
        problems, parent, history, HistoryEvent.SubOrchestrationCompleted.class, CHILDREN);
    Hello5Workload.expectCount(problems, parent, history, HistoryEvent.ExecutionCompleted.class, 1);
    for (int i = 0; i < CHILDREN; i++) {
      problems.addAll(Hello5Workload.verifyInstance(client, Greetings.childId(parent, i), timeout));
    }
    return problems;
  }

  @Override
  public List<String> verifyRun(DurableClient client, String runId, int count) {
    int expected = count * (1 + CHILDREN);
    int found = Workload.countInstances(client, runId + "-greet-");
    return found == expected
        ? List.of()
        : List.of(
            "run "
                + runId
                + ": "
                + found
                + " Greetings instances and children exist, expected "
                + expected);
  }
}
