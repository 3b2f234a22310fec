package dev.open.dag.policy;

import java.time.Duration;

/**
 * Waits between retry attempts. The executor's seam for time: tests pass a sleeper that records
 * the requested delays and returns at once, so backoff is checked without waiting for it.
 *
 * <p>Implementations must be thread-safe; they are called from many task threads at once and
 * must respond to interruption (a cancelled run interrupts a task waiting to retry).
 */
@FunctionalInterface
public interface Sleeper {

  /** Sleeps with {@link Thread#sleep(Duration)}. */
  Sleeper SYSTEM = Thread::sleep;

  /**
   * Blocks the calling thread for {@code delay}.
   *
   * @param delay how long to wait, never negative
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  void sleep(Duration delay) throws InterruptedException;
}
