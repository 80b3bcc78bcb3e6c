package dev.netherite.runtime.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StoreHealthTest {
  @Test
  void aCallStartedBeforeTheOutageWasNoticedDoesNotEndIt() {
    StoreHealth health = new StoreHealth();
    long writeSent = System.nanoTime(); // a write in flight when Cassandra goes down
    health.unavailable(new NoNodeAvailableException());
    Instant since = health.unavailableSince();
    assertNotNull(since);

    health.available(writeSent); // it was stored before the outage: says nothing about now
    assertEquals(since, health.unavailableSince(), "the outage goes on");

    health.available(System.nanoTime()); // a retry started during the outage succeeded
    assertNull(health.unavailableSince());
  }

  @Test
  void aSecondFailureDuringAnOutageKeepsItsStart() {
    StoreHealth health = new StoreHealth();
    health.unavailable(new NoNodeAvailableException());
    Instant since = health.unavailableSince();
    health.unavailable(new NoNodeAvailableException());
    assertEquals(since, health.unavailableSince());
  }

  @Test
  void tellsTheStoreBeingUnreachableFromItRefusing() {
    assertTrue(StoreHealth.meansUnavailable(new RuntimeException(new NoNodeAvailableException())));
    assertFalse(StoreHealth.meansUnavailable(new IllegalStateException("bad query")));
  }
}
