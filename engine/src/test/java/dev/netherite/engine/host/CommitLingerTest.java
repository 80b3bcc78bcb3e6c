package dev.netherite.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The decisions of the commit linger; no timing: the linger is either off or far longer than the
 * test.
 */
class CommitLingerTest {
  /** Wake-ups are armed, never fired: the linger is an hour or off. */
  private final TestPorts ports = TestPorts.builder().build();

  private CommitLinger linger(Duration maxLinger) {
    return new CommitLinger(maxLinger, ports.clock, ports.timers);
  }

  private int wakes() {
    return ports.timers.singles.size();
  }

  @AfterEach
  void armsOnlyTheCommitWakeUp() {
    assertTrue(
        ports.timers.singles.stream().allMatch(t -> t == HostTimer.COMMIT_DUE),
        ports.timers.singles.toString());
    assertEquals(Map.of(), ports.timers.periodic, "the linger arms no periodic timer");
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
    assertEquals(1, wakes());
    linger.written();
    linger.observe(false);
    assertTrue(linger.holdBack());
    assertEquals(2, wakes());
    linger.timerFired();
    assertTrue(linger.holdBack());
    assertEquals(3, wakes());
  }
}
