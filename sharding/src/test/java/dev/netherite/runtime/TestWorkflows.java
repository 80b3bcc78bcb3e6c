package dev.netherite.runtime;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Task;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** Orchestrations and activities the runtime tests share. */
final class TestWorkflows {
  static final List<String> CITIES = List.of("Tokyo", "Seattle", "London", "Amsterdam", "Mumbai");
  static final List<String> HELLO5_OUTPUT = CITIES.stream().map(c -> "Hello " + c + "!").toList();

  static final ActivityRef<String, String> SAY_HELLO =
      ActivityRef.of("SayHello", String.class, String.class);
  static final ActivityRef<Integer, Integer> SQUARE =
      ActivityRef.of("Square", Integer.class, Integer.class);
  static final ActivityRef<String, String> COUNTED =
      ActivityRef.of("Counted", String.class, String.class);
  static final OrchestrationRef<Void, List> HELLO5 =
      OrchestrationRef.of("Hello5", Void.class, List.class);
  static final OrchestrationRef<Integer, Integer> FAN_OUT =
      OrchestrationRef.of("FanOut", Integer.class, Integer.class);
  static final OrchestrationRef<Integer, String> WAIT_TIMER =
      OrchestrationRef.of("WaitTimer", Integer.class, String.class);
  static final OrchestrationRef<Void, String> WAIT_EVENT =
      OrchestrationRef.of("WaitEvent", Void.class, String.class);
  static final OrchestrationRef<Integer, List> PARENT =
      OrchestrationRef.of("Parent", Integer.class, List.class);
  static final OrchestrationRef<String, String> CHILD =
      OrchestrationRef.of("Child", String.class, String.class);

  /** Executions of the activity COUNTED, by input: to check that work ran once. */
  static final ConcurrentHashMap<String, AtomicInteger> COUNTED_RUNS = new ConcurrentHashMap<>();

  static final AtomicInteger SAY_HELLO_RUNS = new AtomicInteger();

  /**
   * When set, SayHello("London"), the third call of Hello5, waits for it: holds instances mid-run
   * for a crash.
   */
  static volatile CountDownLatch londonGate;

  private TestWorkflows() {}

  static Workflows app() {
    return register(Workflows.builder()).build();
  }

  static Workflows.Builder register(Workflows.Builder builder) {
    return builder
        .activity(
            SAY_HELLO,
            (ctx, city) -> {
              CountDownLatch gate = londonGate;
              if (gate != null && city.equals("London")) {
                try {
                  gate.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              SAY_HELLO_RUNS.incrementAndGet();
              return "Hello " + city + "!";
            })
        .activity(SQUARE, (ctx, n) -> n * n)
        .activity(
            COUNTED,
            (ctx, s) -> {
              COUNTED_RUNS.computeIfAbsent(s, k -> new AtomicInteger()).incrementAndGet();
              return s.toUpperCase();
            })
        .orchestration(
            HELLO5,
            (ctx, none) -> {
              List<String> out = new ArrayList<>();
              for (String city : CITIES) {
                out.add(ctx.call(SAY_HELLO, city).await());
              }
              return out;
            })
        .orchestration(
            FAN_OUT,
            (OrchestrationContext ctx, Integer n) -> {
              List<Task<Integer>> squares = new ArrayList<>();
              for (int i = 1; i <= n; i++) {
                squares.add(ctx.call(SQUARE, i));
              }
              return Task.allOf(squares).await().stream().mapToInt(Integer::intValue).sum();
            })
        .orchestration(
            WAIT_TIMER,
            (ctx, seconds) -> {
              ctx.timer(Duration.ofSeconds(seconds)).await();
              return "timer fired";
            })
        .orchestration(
            WAIT_EVENT, (ctx, none) -> "got " + ctx.waitForEvent("Approval", String.class).await())
        .orchestration(
            PARENT,
            (ctx, n) -> {
              List<Task<String>> children = new ArrayList<>();
              for (int i = 0; i < n; i++) {
                children.add(ctx.callSubOrchestration(CHILD, ctx.instanceId().value() + "/" + i));
              }
              return Task.allOf(children).await();
            })
        .orchestration(CHILD, (ctx, name) -> ctx.call(COUNTED, name).await());
  }
}
