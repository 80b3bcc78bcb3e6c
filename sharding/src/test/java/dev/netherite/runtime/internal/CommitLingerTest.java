package dev.netherite.runtime.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The decisions of the commit linger; no timing: the linger is either off or far longer than the
 * test.
 */
class CommitLingerTest {
  private final AtomicInteger wakes = new AtomicInteger();

  @Test
  void writesAtOnceWhenNoLocalWorkIsRunning() {
    CommitLinger linger = new CommitLinger(Duration.ofHours(1), wakes::incrementAndGet);
    linger.observe(false);
    assertFalse(linger.holdBack());
  }

  @Test
  void holdsBackWhileLocalWorkRunsAndWritesWhenItHasReported() {
    CommitLinger linger = new CommitLinger(Duration.ofHours(1), wakes::incrementAndGet);
    linger.workStarted();
    linger.workStarted();
    linger.observe(false);
    assertTrue(linger.holdBack());
    linger.workReported();
    assertTrue(linger.holdBack());
    linger.workReported();
    assertFalse(linger.holdBack());
  }

  @Test
  void neverHoldsBackAnEmptyBufferOrWhenTurnedOff() {
    CommitLinger off = new CommitLinger(Duration.ZERO, wakes::incrementAndGet);
    off.workStarted();
    off.observe(false);
    assertFalse(off.holdBack());

    CommitLinger on = new CommitLinger(Duration.ofHours(1), wakes::incrementAndGet);
    on.workStarted();
    on.observe(true);
    assertFalse(on.holdBack());
  }

  @Test
  void moreReportsThanStartsDoNotLeaveTheCountNegative() {
    CommitLinger linger = new CommitLinger(Duration.ofHours(1), wakes::incrementAndGet);
    linger.workReported();
    linger.workStarted();
    linger.observe(false);
    assertTrue(linger.holdBack());
  }

  @Test
  void armsOneWakeUpPerHoldAndAnotherAfterItFired() {
    CommitLinger linger = new CommitLinger(Duration.ofHours(1), wakes::incrementAndGet);
    linger.workStarted();
    linger.observe(false);
    assertTrue(linger.holdBack());
    assertTrue(linger.holdBack());
    linger.written();
    linger.observe(false);
    assertTrue(linger.holdBack());
    assertEquals(0, wakes.get()); // an hour away
  }
}
