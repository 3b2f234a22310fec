package dev.open.dag.policy;

/** What a run does when a task has failed for good (after its retries). */
public enum FailureMode {
  /**
   * Stop the run: running tasks are interrupted and end {@code CANCELLED}, tasks that have not
   * started are {@code CANCELLED}, except the descendants of the failed task, which are {@code
   * SKIPPED}. The default.
   */
  FAIL_FAST,
  /**
   * Keep going: only the descendants of the failed task are {@code SKIPPED}; every task that does
   * not depend on it still runs.
   */
  CONTINUE
}
