package dev.netherite.dsl;

/**
 * A payload (an input, an output, an event's payload, a custom status, an activity's result, an
 * entity's state) is larger, once serialized, than its configured limit ({@code
 * netherite.limits.*}). The client throws it at the call; an oversized value produced by user code
 * fails its task, operation or instance with it as the recorded failure ({@link
 * FailureDetails#isCausedBy(Class)}), so that it never reaches the commit log.
 *
 * <p>Keep large data outside the workflow (store it, pass a reference), or raise the limit.
 */
public class PayloadTooLargeException extends IllegalArgumentException {
  public PayloadTooLargeException(String message) {
    super(message);
  }
}
