package dev.netherite.samples;

import dev.netherite.dsl.ActivityRef;
import dev.netherite.dsl.OrchestrationContext;
import dev.netherite.dsl.OrchestrationRef;
import dev.netherite.dsl.Workflows;

/**
 * Sequence-N: N activities in a chain, each taking the small record the previous one returned. Its
 * per-step cost shows whether a step's cost grows with the length of the history (it must not).
 */
public final class Sequence {
  /** What travels along the chain. */
  public record Token(int length, int step, long checksum) {}

  public static final ActivityRef<Token, Token> ADVANCE =
      ActivityRef.of("Advance", Token.class, Token.class);
  public static final OrchestrationRef<Integer, Token> SEQUENCE =
      OrchestrationRef.of("Sequence", Integer.class, Token.class);

  private Sequence() {}

  static Token sequence(OrchestrationContext ctx, Integer length) {
    Token token = new Token(length, 0, 0);
    for (int i = 0; i < length; i++) {
      token = ctx.call(ADVANCE, token).await();
    }
    return token;
  }

  /** The checksum the chain of {@code length} steps must end with. */
  public static long expectedChecksum(int length) {
    long sum = 0;
    for (int step = 1; step <= length; step++) {
      sum = sum * 31 + step;
    }
    return sum;
  }

  public static Workflows.Builder register(Workflows.Builder builder) {
    return builder
        .activity(
            ADVANCE,
            (ctx, t) -> new Token(t.length(), t.step() + 1, t.checksum() * 31 + t.step() + 1))
        .orchestration(SEQUENCE, Sequence::sequence);
  }
}
