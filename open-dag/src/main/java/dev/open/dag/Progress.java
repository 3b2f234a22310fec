package dev.open.dag;

/**
 * A snapshot of a run's progress. The counts are read one after another while the run goes on,
 * so they may not add up exactly to {@code total} until the run has finished.
 *
 * @param total the number of nodes in the DAG
 * @param running nodes whose task is running (or waiting to retry)
 * @param succeeded nodes that succeeded
 * @param failed nodes that failed
 * @param skipped nodes skipped because a node they depend on failed
 * @param cancelled nodes cancelled
 * @param cached nodes whose value was loaded from the result store instead of computed
 */
public record Progress(int total, int running, int succeeded, int failed, int skipped,
    int cancelled, int cached) {

  /** {@return the number of nodes that have finished, whatever their status} */
  public int finished() {
    return succeeded + failed + skipped + cancelled + cached;
  }

  /** {@return the number of nodes that have neither started nor finished} */
  public int pending() {
    return Math.max(0, total - finished() - running);
  }

  @Override
  public String toString() {
    return finished() + "/" + total + " finished (" + succeeded + " succeeded, "
        + (cached > 0 ? cached + " cached, " : "") + failed + " failed, " + skipped
        + " skipped, " + cancelled + " cancelled), " + running + " running";
  }
}
