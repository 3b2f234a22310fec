package dev.open.dag;

/**
 * A node did not run because a node it depends on, directly or not, failed. Reported as the error
 * of {@link NodeStatus#SKIPPED} nodes and by their futures. Its cause is the failed node's own
 * error (a {@link TaskFailedException} with the task's exception inside), and its message names
 * both nodes and that error, so the root cause travels with every skip. Carries no stack trace
 * of its own: it is an outcome, not a fault of the code that observes it.
 */
public final class TaskSkippedException extends DagException {
  private static final long serialVersionUID = 1L;

  /** The node skipped. */
  private final String node;
  /** The node whose failure caused the skip. */
  private final String failedNode;

  TaskSkippedException(String node, String failedNode, Throwable failure) {
    super("task '" + node + "' was skipped because '" + failedNode + "' "
        + (failedNode == null ? "did not finish" : "failed")
        + (failure == null ? "" : ": " + failure.getMessage()), failure, false);
    this.node = node;
    this.failedNode = failedNode;
  }

  /** {@return the name of the skipped node} */
  public String node() {
    return node;
  }

  /** {@return the name of the failed upstream node that caused the skip, if known, else null} */
  public String failedNode() {
    return failedNode;
  }
}
