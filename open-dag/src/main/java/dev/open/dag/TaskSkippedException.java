package dev.open.dag;

/**
 * A node did not run because a node it depends on, directly or not, failed. Reported as the error
 * of {@link NodeStatus#SKIPPED} nodes and by their futures. Carries no stack trace: it is an
 * outcome, not a fault of the code that observes it.
 */
public final class TaskSkippedException extends DagException {
  private static final long serialVersionUID = 1L;

  private final String node;
  private final String failedNode;

  TaskSkippedException(String node, String failedNode) {
    super("task '" + node + "' was skipped because '" + failedNode + "' "
        + (failedNode == null ? "did not finish" : "failed"), null, false);
    this.node = node;
    this.failedNode = failedNode;
  }

  /** Returns the name of the skipped node. */
  public String node() {
    return node;
  }

  /** Returns the name of the failed upstream node that caused the skip, if known, else null. */
  public String failedNode() {
    return failedNode;
  }
}
