package dev.open.dag;

/**
 * A node's task failed for good: its last attempt threw and the retry policy allowed no more.
 * {@link #getCause()} is what the last attempt threw (a {@link TaskTimeoutException} when it ran
 * out of time).
 */
public final class TaskFailedException extends DagException {
  private static final long serialVersionUID = 1L;

  /** The node that failed. */
  private final String node;
  /** How many attempts were made. */
  private final int attempts;

  TaskFailedException(String dag, String node, int element, int attempts, Throwable cause) {
    super("task '" + node + "' of DAG '" + dag + "' failed"
        + (element >= 0 ? " on element " + element : "")
        + " after " + attempts + (attempts == 1 ? " attempt: " : " attempts: ") + cause, cause);
    this.node = node;
    this.attempts = attempts;
  }

  /** {@return the name of the node whose task failed} */
  public String node() {
    return node;
  }

  /** {@return how many attempts were made before giving up} */
  public int attempts() {
    return attempts;
  }
}
