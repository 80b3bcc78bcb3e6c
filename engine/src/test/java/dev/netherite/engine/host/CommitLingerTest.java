package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The decisions of the commit linger; no timing: the linger is either off or far longer than the
 * test.
 */
class CommitLingerTest {
  /** Wake-ups armed (not fired: the linger is an hour or off). */
  private final AtomicInteger wakes = new AtomicInteger();

  private final PartitionPorts.Clock clock =
      new PartitionPorts.Clock() {
        @Override
        public Instant now() {
          return Instant.EPOCH;
        }

        @Override
        public long nanoTime() {
          return 0;
        }
      };

  private final PartitionPorts.Timers timers =
      new PartitionPorts.Timers() {
        @Override
        public void startSingle(HostTimer timer, Duration delay) {
          assertEquals(HostTimer.COMMIT_DUE, timer);
          wakes.incrementAndGet();
        }

        @Override
        public void startPeriodic(HostTimer timer, Duration interval) {
          throw new AssertionError("the linger arms no periodic timer");
        }

        @Override
        public void cancel(HostTimer timer) {}
      };

  private CommitLinger linger(Duration maxLinger) {
    return new CommitLinger(maxLinger, clock, timers);
  }

  @Test
  void writesAtOnceWhenNoLocalWorkIsRunning() {
    CommitLinger linger = linger(Duration.ofHours(1));
    linger.observe(false);
    assertFalse(linger.holdBack());
  }

  @Test
  void holdsBackWhileLocalWorkRunsAndWritesWhenItHasReported() {
    CommitLinger linger = linger(Duration.ofHours(1));
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
    CommitLinger off = linger(Duration.ZERO);
    off.workStarted();
    off.observe(false);
    assertFalse(off.holdBack());

    CommitLinger on = linger(Duration.ofHours(1));
    on.workStarted();
    on.observe(true);
    assertFalse(on.holdBack());
  }

  @Test
  void moreReportsThanStartsDoNotLeaveTheCountNegative() {
    CommitLinger linger = linger(Duration.ofHours(1));
    linger.workReported();
    linger.workStarted();
    linger.observe(false);
    assertTrue(linger.holdBack());
  }

  @Test
  void armsOneWakeUpPerHoldAndAnotherAfterItFired() {
    CommitLinger linger = linger(Duration.ofHours(1));
    linger.workStarted();
    linger.observe(false);
    assertTrue(linger.holdBack());
    assertTrue(linger.holdBack());
    assertEquals(1, wakes.get());
    linger.written();
    linger.observe(false);
    assertTrue(linger.holdBack());
    assertEquals(2, wakes.get());
    linger.timerFired();
    assertTrue(linger.holdBack());
    assertEquals(3, wakes.get());
  }
}
