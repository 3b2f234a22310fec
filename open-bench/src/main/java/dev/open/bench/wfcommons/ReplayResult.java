package dev.open.bench.wfcommons;

/**
 * What one replay measured. Printed by {@code open-bench.jar replay} as one JSON line.
 *
 * @param file the instance file
 * @param workflow the instance's name
 * @param schemaVersion its WfFormat version
 * @param tasks the number of tasks
 * @param edges the number of dependencies
 * @param maxParallel the parallelism limit, 0 for none
 * @param criticalPathSeconds the longest path of scaled runtimes: the best possible makespan
 * @param makespanSeconds the measured wall time of the run
 * @param precedenceViolations dependencies whose child started before the parent finished
 * @param exactlyOnce whether every task ran exactly once (or, with a result store, every task
 *     not loaded from it)
 * @param status the run's status
 * @param cached the tasks loaded from the result store instead of run
 */
public record ReplayResult(String file, String workflow, String schemaVersion, int tasks,
    int edges, int maxParallel, double criticalPathSeconds, double makespanSeconds,
    int precedenceViolations, boolean exactlyOnce, String status, int cached) {

  /** Returns how much longer the run took than its critical path, in percent of it. */
  public double overheadPercent() {
    return criticalPathSeconds == 0 ? 0 : 100 * (makespanSeconds / criticalPathSeconds - 1);
  }
}
