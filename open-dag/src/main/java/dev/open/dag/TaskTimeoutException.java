package dev.open.dag;

import java.time.Duration;

/**
 * An attempt of a task ran longer than its timeout and was interrupted. A retry policy handles it
 * like any other exception (retried by default).
 */
public final class TaskTimeoutException extends DagException {
  private static final long serialVersionUID = 1L;

  /** The node whose attempt timed out. */
  private final String node;
  /** The attempt that timed out, from 1. */
  private final int attempt;
  /** The timeout that passed. */
  private final Duration timeout;

  TaskTimeoutException(String node, int attempt, Duration timeout, Throwable thrown) {
    super("attempt " + attempt + " of task '" + node + "' timed out after " + timeout, thrown);
    this.node = node;
    this.attempt = attempt;
    this.timeout = timeout;
  }

  /** {@return the name of the node whose attempt timed out} */
  public String node() {
    return node;
  }

  /** {@return the number of the attempt that timed out, starting at 1} */
  public int attempt() {
    return attempt;
  }

  /** {@return the timeout that was exceeded} */
  public Duration timeout() {
    return timeout;
  }
}
