package dev.netherite.engine.orchestration;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>The loaded executions of one partition, least recently used first. When it holds more than its
 * capacity the eldest idle run is discarded; it is replayed from history if it takes another step.
 * Host thread only.
 */
public final class InstanceCache {
  private final int capacity;
  private final LinkedHashMap<String, OrchestrationRun> runs = new LinkedHashMap<>(64, 0.75f, true);

  public InstanceCache(int capacity) {
    this.capacity = capacity;
  }

  public OrchestrationRun get(String instanceId) {
    return runs.get(instanceId);
  }

  public void put(OrchestrationRun run) {
    OrchestrationRun previous = runs.put(run.instanceId(), run);
    if (previous != null && previous != run) {
      previous.discard();
    }
    if (runs.size() > capacity) {
      Iterator<Map.Entry<String, OrchestrationRun>> it = runs.entrySet().iterator();
      while (runs.size() > capacity && it.hasNext()) {
        OrchestrationRun eldest = it.next().getValue();
        if (eldest != run) {
          // A run in the middle of a step still reports it; it unwinds afterwards.
          eldest.discard();
          it.remove();
        }
      }
    }
  }

  public void discard(String instanceId) {
    OrchestrationRun run = runs.remove(instanceId);
    if (run != null) {
      run.discard();
    }
  }

  public void discardAll() {
    new ArrayList<>(runs.values()).forEach(OrchestrationRun::discard);
    runs.clear();
  }

  public int size() {
    return runs.size();
  }
}
