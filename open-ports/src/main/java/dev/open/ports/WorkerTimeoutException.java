package dev.open.ports;

import java.time.Duration;
import java.util.List;

/**
 * A call ran longer than its timeout. Its worker was killed (a worker that timed out is never
 * reused) and is being replaced.
 */
public final class WorkerTimeoutException extends WorkerCrashedException {
  private static final long serialVersionUID = 1L;

  /** The timeout that passed. */
  private final Duration timeout;

  WorkerTimeoutException(String language, long pid, String function, Duration timeout,
      List<String> lastStderr) {
    super(language, pid, "was killed: call of " + function + " exceeded its timeout of "
        + timeout, null, lastStderr, null);
    this.timeout = timeout;
  }

  /** {@return the timeout that was exceeded} */
  public Duration timeout() {
    return timeout;
  }
}
