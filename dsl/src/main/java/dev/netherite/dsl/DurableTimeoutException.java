package dev.netherite.dsl;

/**
 * A client call did not finish in time: the instance did not complete within the wait, or the
 * partition that hosts it did not answer after retries. The outcome of a mutating request that
 * timed out is unknown; repeating it is safe for starts with an explicit instance id.
 */
public class DurableTimeoutException extends RuntimeException {
  public DurableTimeoutException(String message) {
    super(message);
  }
}
