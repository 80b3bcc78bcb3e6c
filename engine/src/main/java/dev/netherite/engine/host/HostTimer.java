package dev.netherite.engine.host;

/** INTERNAL API: the host's timers; each has at most one pending wake-up. */
public enum HostTimer {
  /** The earliest durable timer of the partition's timer table is due. */
  TIMER_DUE,
  /** Periodic: resend outbox entries that were not acknowledged in time. */
  RESEND,
  /** Periodic: take a checkpoint if the partition has been idle long enough. */
  CHECKPOINT_IF_IDLE,
  /** Periodic, when retention is on: purge the instances that ended longer ago than it. */
  RETENTION,
  /** The commit linger ran out: write what is buffered. Needs millisecond precision. */
  COMMIT_DUE
}
