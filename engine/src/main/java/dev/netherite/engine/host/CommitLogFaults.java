package dev.netherite.engine.host;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>What a partition's hosts remember, across restarts on one node, about writes the commit log
 * refused; the host's owner keeps one per partition and hands it to each new host. A refused write
 * stops its host, and the work that produced the refused event runs again after recovery and
 * produces the same event: without this memory the partition would crash-loop with every other
 * instance on it held hostage. So after a refused batch of several events the next host writes one
 * event per batch ({@link #isolating()}) until the culprit is refused alone, and that event's key
 * is then {@linkplain #poisoned(String) poisoned}: when its work produces it again, the host
 * records a failure of that task or instance in its place.
 *
 * <p>Only refusals count: a write that failed because the store was unavailable says nothing about
 * the events in it. Used on the owner's thread only (the supervisor's and the host's, in turn).
 */
public final class CommitLogFaults {
  /** Poisoned keys kept at most; the oldest are forgotten first. */
  static final int MAX_POISONED = 1000;

  /** Single-event writes still to make before batching again; 0 when not isolating. */
  private int isolatingFor;

  /** Keys of events the commit log refused on their own, with the refusal. */
  private final Map<String, String> poisoned =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
          return size() > MAX_POISONED;
        }
      };

  /** Whether the next writes take one event each. */
  public boolean isolating() {
    return isolatingFor > 0;
  }

  /**
   * A batch of {@code events} events was refused: write one event at a time until at least as many
   * (and a margin for the work recovery dispatches again in another order) have been written.
   */
  void isolate(int events) {
    isolatingFor = Math.max(isolatingFor, events + 100);
  }

  void isolatedWriteSucceeded() {
    if (isolatingFor > 0) {
      isolatingFor--;
    }
  }

  void poison(String key, String refusal) {
    poisoned.put(key, refusal);
  }

  /** The refusal of the event with {@code key}, or null when the commit log never refused it. */
  String poisoned(String key) {
    return key == null ? null : poisoned.get(key);
  }

  /** How many event keys are poisoned (for tests and diagnostics). */
  public int poisonedCount() {
    return poisoned.size();
  }
}
