package dev.open.dag;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

/**
 * Interrupts the thread running an attempt when the attempt's timeout passes. Firing and disarming
 * are mutually exclusive, so that after {@link #disarm()} no stray interrupt can reach the thread
 * (which may go on to run another node).
 */
final class AttemptTimer implements Runnable {
  private final Thread thread;
  private ScheduledFuture<?> future;
  private boolean done;
  private boolean fired;

  private AttemptTimer(Thread thread) {
    this.thread = thread;
  }

  static AttemptTimer arm(Duration timeout) {
    AttemptTimer timer = new AttemptTimer(Thread.currentThread());
    timer.future = Timers.schedule(timer, timeout);
    return timer;
  }

  @Override
  public void run() {
    synchronized (this) {
      if (!done) {
        fired = true;
        thread.interrupt();
      }
    }
  }

  /** Stops the timer; returns whether it fired, clearing the interrupt it caused if so. */
  boolean disarm() {
    boolean wasFired;
    synchronized (this) {
      done = true;
      wasFired = fired;
    }
    future.cancel(false);
    if (wasFired) {
      Thread.interrupted();
    }
    return wasFired;
  }
}
