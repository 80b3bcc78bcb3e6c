package dev.netherite.engine.partition;

import dev.netherite.engine.WireSerializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * INTERNAL API
 *
 * <p>The answers to the most recent client requests, by request id, so that a client that retries
 * after a lost reply gets the same answer and the request takes effect once. Bounded: a retry older
 * than the last {@code capacity} requests of the partition is treated as new (clients retry within
 * seconds).
 */
public final class RequestLog implements WireSerializable {
  private final int capacity;
  private final LinkedHashMap<String, ClientResponse> answers = new LinkedHashMap<>();

  RequestLog(int capacity) {
    this.capacity = capacity;
  }

  ClientResponse answerOf(String requestId) {
    return answers.get(requestId);
  }

  void record(String requestId, ClientResponse response) {
    answers.put(requestId, response);
    if (answers.size() > capacity) {
      Map.Entry<String, ClientResponse> eldest = answers.entrySet().iterator().next();
      answers.remove(eldest.getKey());
    }
  }

  int size() {
    return answers.size();
  }
}
