package dev.netherite.dsl;

import java.time.Duration;

/**
 * How an orchestration retries a failed activity: at most {@code maxAttempts} attempts in all,
 * waiting {@code firstRetryInterval} before the second, multiplied by {@code backoffCoefficient}
 * each time and capped by {@code maxRetryInterval}. The waits are durable timers.
 */
public record RetryPolicy(
    int maxAttempts,
    Duration firstRetryInterval,
    double backoffCoefficient,
    Duration maxRetryInterval) {
  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException(
          "A retry policy needs maxAttempts >= 1, got " + maxAttempts + ".");
    }
    if (firstRetryInterval == null || firstRetryInterval.isNegative()) {
      throw new IllegalArgumentException("A retry policy needs a first retry interval >= 0.");
    }
    if (backoffCoefficient < 1.0) {
      throw new IllegalArgumentException(
          "A retry policy needs a backoff coefficient >= 1, got " + backoffCoefficient + ".");
    }
    if (maxRetryInterval == null || maxRetryInterval.compareTo(firstRetryInterval) < 0) {
      maxRetryInterval = firstRetryInterval;
    }
  }

  /** {@code maxAttempts} attempts, a fixed wait between them. */
  public static RetryPolicy of(int maxAttempts, Duration retryInterval) {
    return new RetryPolicy(maxAttempts, retryInterval, 1.0, retryInterval);
  }

  public RetryPolicy withBackoff(double coefficient, Duration maxInterval) {
    return new RetryPolicy(maxAttempts, firstRetryInterval, coefficient, maxInterval);
  }

  /** The wait before attempt {@code attempt} (2 for the first retry). */
  public Duration delayBefore(int attempt) {
    double millis =
        firstRetryInterval.toMillis() * Math.pow(backoffCoefficient, Math.max(0, attempt - 2));
    return Duration.ofMillis((long) Math.min(millis, maxRetryInterval.toMillis()));
  }
}
