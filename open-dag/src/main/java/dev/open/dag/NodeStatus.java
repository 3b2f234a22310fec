package dev.open.dag;

/** How a node ended in a run. */
public enum NodeStatus {
  /** The task returned a value. */
  SUCCEEDED,
  /** The task threw on its last allowed attempt (see {@link NodeReport#error()}). */
  FAILED,
  /** The task never ran because a node it depends on failed. */
  SKIPPED,
  /** The run was cancelled before the task started, or while it ran. */
  CANCELLED,
  /**
   * The task did not run: its value was loaded from the executor's result store under the node's
   * key (see {@link NodeReport#cache()}).
   */
  CACHED;

  /** {@return whether a node that ended so has a value: {@link #SUCCEEDED} or {@link #CACHED}} */
  public boolean hasValue() {
    return this == SUCCEEDED || this == CACHED;
  }
}
