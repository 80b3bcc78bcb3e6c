package dev.netherite.samples;

import dev.netherite.dsl.EntityId;
import dev.netherite.dsl.EntityOp;
import dev.netherite.dsl.EntityType;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * WordCount, map-reduce with entities: M mapper entities, R reducer entities and one summary
 * entity. A mapper generates its text, signals {@code reducer[hash(word) mod R]} once per word,
 * then tells every reducer it is done; a reducer that has heard from all M mappers reports its top
 * words and totals to the summary. The orchestration starts the mappers and waits (on durable
 * timers) until the summary has every report.
 *
 * <p>Texts are generated deterministically (Zipf-distributed words over a fixed vocabulary), so the
 * result can be checked against a direct count of the same texts: {@link #directCount}.
 */
public final class WordCount {
  /**
   * A job: {@code mappers} texts of {@code wordsPerMapper} words each, generated from {@code seed}.
   */
  public record Job(
      String name, int mappers, int reducers, int wordsPerMapper, long seed, int top) {
    public Job {
      if (mappers < 1 || reducers < 1 || wordsPerMapper < 1 || top < 1) {
        throw new IllegalArgumentException(
            "A word-count job needs at least one mapper, reducer, word and top word: " + this);
      }
      if (name.contains("!")) {
        throw new IllegalArgumentException(
            "A job name must not contain '!', which places entities: " + name);
      }
    }
  }

  /** What a mapper is asked to do. */
  public record MapTask(Job job, int mapper) {}

  /** A word and how often it occurs. */
  public record WordCountEntry(String word, long count) {}

  /**
   * The result: the total number of words, of distinct words, and the most frequent words (ties by
   * word).
   */
  public record Result(long words, long distinct, List<WordCountEntry> top) {}

  /** A reducer's counts, and how many mappers have told it they are done. */
  public record ReducerState(Map<String, Long> counts, int mappersDone) {}

  /** A reducer's report: its totals and its top words; {@code of} is how many reducers report. */
  public record Report(int reducer, int of, long words, long distinct, List<WordCountEntry> top) {}

  public record SummaryState(Map<Integer, Report> reports) {}

  public static final EntityOp<MapTask, Void> MAP = EntityOp.of("map", MapTask.class, Void.class);
  public static final EntityOp<String, Void> COUNT = EntityOp.of("count", String.class, Void.class);
  public static final EntityOp<Job, Void> MAPPER_DONE =
      EntityOp.of("mapperDone", Job.class, Void.class);
  public static final EntityOp<Report, Void> REPORT =
      EntityOp.of("report", Report.class, Void.class);
  public static final EntityOp<Void, Result> RESULT =
      EntityOp.of("result", Void.class, Result.class);

  public static final EntityType<Integer> MAPPER =
      EntityType.define("WordMapper", Integer.class, () -> 0).operation(MAP, WordCount::map);

  public static final EntityType<ReducerState> REDUCER =
      EntityType.define(
              "WordReducer", ReducerState.class, () -> new ReducerState(new HashMap<>(), 0))
          .operation(
              COUNT,
              (ctx, word) -> {
                // The counts are updated in place: a batch that fails is re-run from its stored
                // state, so no copy.
                ReducerState s = ctx.state();
                s.counts().merge(word, 1L, Long::sum);
                ctx.setState(s);
                return null;
              })
          .operation(
              MAPPER_DONE,
              (ctx, job) -> {
                ReducerState s = ctx.state();
                ReducerState next = new ReducerState(s.counts(), s.mappersDone() + 1);
                ctx.setState(next);
                if (next.mappersDone() == job.mappers()) {
                  String key = ctx.id().key();
                  int reducer =
                      Integer.parseInt(key.substring(key.lastIndexOf("-r") + 2, key.indexOf('!')));
                  long words = s.counts().values().stream().mapToLong(Long::longValue).sum();
                  ctx.signal(
                      summaryId(job),
                      REPORT,
                      new Report(
                          reducer,
                          job.reducers(),
                          words,
                          s.counts().size(),
                          top(s.counts(), job.top())));
                }
                return null;
              });

  public static final EntityType<SummaryState> SUMMARY =
      EntityType.define("WordSummary", SummaryState.class, () -> new SummaryState(new TreeMap<>()))
          .operation(
              REPORT,
              (ctx, report) -> {
                SummaryState s = ctx.state();
                s.reports().put(report.reducer(), report);
                ctx.setState(s);
                return null;
              })
          .operation(
              RESULT,
              (ctx, none) -> {
                // Null until every reducer has reported.
                Map<Integer, Report> reports = ctx.state().reports();
                boolean complete =
                    !reports.isEmpty() && reports.size() == reports.values().iterator().next().of();
                return complete ? merge(reports, Integer.MAX_VALUE) : null;
              });

  public static final OrchestrationRef<Job, Result> WORD_COUNT =
      OrchestrationRef.of("WordCount", Job.class, Result.class);

  private WordCount() {}

  static Result run(OrchestrationContext ctx, Job job) {
    for (int m = 0; m < job.mappers(); m++) {
      ctx.signalEntity(mapperId(job, m), MAP, new MapTask(job, m));
    }
    while (true) {
      Result r = ctx.callEntity(summaryId(job), RESULT).await();
      if (r != null) {
        return new Result(
            r.words(), r.distinct(), r.top().subList(0, Math.min(job.top(), r.top().size())));
      }
      ctx.timer(Duration.ofMillis(200)).await();
    }
  }

  private static Void map(dev.netherite.dsl.EntityContext<Integer> ctx, MapTask task) {
    Job job = task.job();
    for (String word : text(job, task.mapper())) {
      ctx.signal(reducerId(job, Math.floorMod(word.hashCode(), job.reducers())), COUNT, word);
    }
    for (int r = 0; r < job.reducers(); r++) {
      ctx.signal(reducerId(job, r), MAPPER_DONE, job);
    }
    ctx.setState(ctx.state() + 1);
    return null;
  }

  public static EntityId mapperId(Job job, int m) {
    return MAPPER.id(job.name() + "-m" + m + "!" + m);
  }

  public static EntityId reducerId(Job job, int r) {
    return REDUCER.id(job.name() + "-r" + r + "!" + (r + 1));
  }

  public static EntityId summaryId(Job job) {
    return SUMMARY.id(job.name() + "-summary");
  }

  // ---------------------------------------------------------------- the texts and the direct count

  private static final int VOCABULARY = 2000;
  private static final double ZIPF_EXPONENT = 1.1;
  private static final double[] CUMULATIVE = zipfCumulative();

  private static double[] zipfCumulative() {
    double[] c = new double[VOCABULARY];
    double sum = 0;
    for (int k = 0; k < VOCABULARY; k++) {
      sum += 1.0 / Math.pow(k + 1, ZIPF_EXPONENT);
      c[k] = sum;
    }
    for (int k = 0; k < VOCABULARY; k++) {
      c[k] /= sum;
    }
    return c;
  }

  /** The text of mapper {@code m}: the same words on every call and every node. */
  public static List<String> text(Job job, int m) {
    SplittableRandom random = new SplittableRandom(job.seed() * 1_000_003L + m);
    List<String> words = new ArrayList<>(job.wordsPerMapper());
    for (int k = 0; k < job.wordsPerMapper(); k++) {
      int rank = java.util.Arrays.binarySearch(CUMULATIVE, random.nextDouble());
      words.add(word(rank < 0 ? -rank - 1 : rank));
    }
    return words;
  }

  private static final String[] SYLLABLES = {
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "po"
  };

  private static String word(int rank) {
    StringBuilder w = new StringBuilder();
    int n = rank;
    do {
      w.append(SYLLABLES[n % SYLLABLES.length]);
      n /= SYLLABLES.length;
    } while (n > 0);
    return w.toString();
  }

  /** The same job counted directly, in memory. */
  public static Result directCount(Job job) {
    Map<String, Long> counts = new HashMap<>();
    for (int m = 0; m < job.mappers(); m++) {
      text(job, m).forEach(w -> counts.merge(w, 1L, Long::sum));
    }
    long words = counts.values().stream().mapToLong(Long::longValue).sum();
    return new Result(words, counts.size(), top(counts, job.top()));
  }

  private static final Comparator<WordCountEntry> BY_COUNT_THEN_WORD =
      Comparator.comparingLong(WordCountEntry::count)
          .reversed()
          .thenComparing(WordCountEntry::word);

  static List<WordCountEntry> top(Map<String, Long> counts, int n) {
    return counts.entrySet().stream()
        .map(e -> new WordCountEntry(e.getKey(), e.getValue()))
        .sorted(BY_COUNT_THEN_WORD)
        .limit(n)
        .toList();
  }

  private static Result merge(Map<Integer, Report> reports, int n) {
    long words = 0;
    long distinct = 0;
    List<WordCountEntry> all = new ArrayList<>();
    for (Report r : reports.values()) {
      words += r.words();
      distinct += r.distinct();
      all.addAll(r.top());
    }
    all.sort(BY_COUNT_THEN_WORD);
    return new Result(words, distinct, all.subList(0, Math.min(n, all.size())));
  }

  public static Workflows.Builder register(Workflows.Builder builder) {
    return builder
        .entity(MAPPER)
        .entity(REDUCER)
        .entity(SUMMARY)
        .orchestration(WORD_COUNT, WordCount::run);
  }
}
