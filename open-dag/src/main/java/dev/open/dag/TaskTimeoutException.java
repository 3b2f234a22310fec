package dev.open.dag;

import java.time.Duration;

/**
 * An attempt of a task ran longer than its timeout and was interrupted. A retry policy handles it
 * like any other exception (retried by default).
 */
public final class TaskTimeoutException extends DagException {
  private static final long serialVersionUID = 1L;

  private final String node;
  private final int attempt;
  private final Duration timeout;

  TaskTimeoutException(String node, int attempt, Duration timeout, Throwable thrown) {
    super("attempt " + attempt + " of task '" + node + "' timed out after " + timeout, thrown);
    this.node = node;
    this.attempt = attempt;
    this.timeout = timeout;
  }

  /** Returns the name of the node whose attempt timed out. */
  public String node() {
    return node;
  }

  /** Returns the number of the attempt that timed out, starting at 1. */
  public int attempt() {
    return attempt;
  }

  /** Returns the timeout that was exceeded. */
  public Duration timeout() {
    return timeout;
  }
}
