package dev.open.dag;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one timer thread of open-dag, shared by all runs: fires attempt timeouts and run deadlines.
 * Its actions only interrupt threads or flag a run, so one daemon thread suffices.
 */
final class Timers {
  private static final ScheduledThreadPoolExecutor TIMER = create();

  private Timers() {}

  static ScheduledFuture<?> schedule(Runnable action, Duration delay) {
    return TIMER.schedule(action, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static ScheduledThreadPoolExecutor create() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "open-dag-timer");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true); // cancelled timeouts must not pile up in the queue
    return timer;
  }
}
