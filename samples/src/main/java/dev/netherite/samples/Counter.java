package dev.netherite.samples;

import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Workflows;

/**
 * Counter: the smallest entity workload. {@code Increment} calls one counter's {@code add} and
 * returns the new value; run many at once against one key to load a hot entity, or against many
 * keys to spread the load.
 */
public final class Counter {
  public static final EntityOp<Long, Long> ADD = EntityOp.of("add", Long.class, Long.class);
  public static final EntityOp<Void, Long> GET = EntityOp.of("get", Void.class, Long.class);

  public static final EntityType<Long> COUNTER =
      EntityType.define("Counter", Long.class, () -> 0L)
          .operation(
              ADD,
              (ctx, n) -> {
                ctx.setState(ctx.state() + n);
                return ctx.state();
              })
          .operation(GET, (ctx, none) -> ctx.state());

  /** Adds one to the counter with the given key; returns its new value. */
  public static final OrchestrationRef<String, Long> INCREMENT =
      OrchestrationRef.of("Increment", String.class, Long.class);

  private Counter() {}

  public static Workflows.Builder register(Workflows.Builder builder) {
    return builder
        .entity(COUNTER)
        .orchestration(INCREMENT, (ctx, key) -> ctx.callEntity(COUNTER.id(key), ADD, 1L).await());
  }
}
