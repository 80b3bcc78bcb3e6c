package dev.netherite.runtime.internal;

import com.datastax.oss.driver.api.core.context.DriverContext;
import com.datastax.oss.driver.api.core.time.TimestampGenerator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * INTERNAL API
 *
 * <p>The Cassandra driver's write timestamps (microseconds, increasing), dated before a pause of
 * the process when the write is sent just after one: a write that a partition decided on before the
 * pause (while it held its lease) then carries a timestamp from before the pause, which the fence
 * of a partition's new holder ({@link PartitionLease#fence}) shadows. A ticker thread notes the
 * time every few milliseconds; a timestamp asked for while the last tick is older than {@link
 * #PAUSE_MICROS} is the tick's. Enabled in reference.conf ({@code
 * datastax-java-driver.advanced.timestamp-generator.class}).
 */
public final class PauseAwareTimestampGenerator implements TimestampGenerator {
  static final long PAUSE_MICROS = 300_000;
  private static final long TICK_MILLIS = 5;
  private static volatile long lastTickMicros = nowMicros();

  static {
    Thread.ofPlatform()
        .daemon()
        .name("netherite-pause-ticker")
        .start(
            () -> {
              while (true) {
                lastTickMicros = nowMicros();
                try {
                  Thread.sleep(TICK_MILLIS);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
  }

  private final AtomicLong last = new AtomicLong();

  public PauseAwareTimestampGenerator(DriverContext context) {}

  @Override
  public long next() {
    long now = nowMicros();
    long tick = lastTickMicros;
    long candidate = now - tick > PAUSE_MICROS ? tick : now;
    return last.updateAndGet(previous -> Math.max(previous + 1, candidate));
  }

  private static long nowMicros() {
    return System.currentTimeMillis() * 1000;
  }

  @Override
  public void close() {}
}
