package dev.netherite.samples;

import dev.netherite.dsl.InstanceId;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import java.util.ArrayList;
import java.util.List;

/**
 * Greetings-N: runs N Hello5 instances as sub-orchestrations at once and returns how many greetings
 * came back. The children are named {@code <parent>/<i>}, so they land on other partitions than
 * their parent: every child is a message between partitions and back.
 */
public final class Greetings {
  public static final OrchestrationRef<Integer, Integer> GREETINGS =
      OrchestrationRef.of("Greetings", Integer.class, Integer.class);

  private Greetings() {}

  /** The instance id of the parent's {@code index}-th child. */
  public static InstanceId childId(InstanceId parent, int index) {
    return InstanceId.of(parent.value() + "/" + index);
  }

  @SuppressWarnings("rawtypes")
  static Integer greetings(OrchestrationContext ctx, Integer children) {
    List<Task<List>> calls = new ArrayList<>();
    for (int i = 0; i < children; i++) {
      calls.add(ctx.callSubOrchestration(Hello5.HELLO5, null, childId(ctx.instanceId(), i)));
    }
    int greetings = 0;
    for (List greeted : Task.allOf(calls).await()) {
      greetings += greeted.size();
    }
    return greetings;
  }

  /** Registers Greetings; it needs Hello5 registered too. */
  public static Workflows.Builder register(Workflows.Builder builder) {
    return builder.orchestration(GREETINGS, Greetings::greetings);
  }
}
