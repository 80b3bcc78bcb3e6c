package dev.netherite.dsl;

/**
 * The engine's store (Cassandra) is unavailable, so the partition that hosts the instance can
 * neither record nor answer; the client call fails at once instead of waiting for its timeout. This
 * attempt was not applied; an earlier attempt of the same call that timed out may have been, as
 * with any {@link DurableTimeoutException}. Retry once the store is back: the partitions serve
 * again within seconds of its return.
 */
public class StoreUnavailableException extends DurableTimeoutException {
  public StoreUnavailableException(String message) {
    super(message);
  }
}
