package dev.open.dag;

/** How a run ended. */
public enum RunStatus {
  /** Every node succeeded. */
  SUCCEEDED,
  /** At least one node failed (see {@link RunReport#failure()} for the first). */
  FAILED,
  /** The run was cancelled (by the caller or its deadline) and no node failed. */
  CANCELLED
}
