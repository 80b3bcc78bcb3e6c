package dev.netherite.samples;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Workflows;
import java.util.ArrayList;
import java.util.List;

/**
 * Hello5: an orchestration that calls the activity SayHello five times in sequence and returns the
 * greetings.
 */
public final class Hello5 {
  public static final List<String> CITIES =
      List.of("Tokyo", "Seattle", "London", "Amsterdam", "Mumbai");
  public static final List<String> EXPECTED = CITIES.stream().map(c -> "Hello " + c + "!").toList();

  public static final ActivityRef<String, String> SAY_HELLO =
      ActivityRef.of("SayHello", String.class, String.class);

  @SuppressWarnings("rawtypes")
  public static final OrchestrationRef<Void, List> HELLO5 =
      OrchestrationRef.of("Hello5", Void.class, List.class);

  private Hello5() {}

  static List<String> hello5(OrchestrationContext ctx, Void input) {
    List<String> out = new ArrayList<>();
    for (String city : CITIES) {
      out.add(ctx.call(SAY_HELLO, city).await());
    }
    return out;
  }

  /** Registers Hello5 and its activity. */
  public static Workflows.Builder register(Workflows.Builder builder) {
    return builder
        .activity(SAY_HELLO, (ctx, city) -> "Hello " + city + "!")
        .orchestration(HELLO5, Hello5::hello5);
  }
}
