package dev.open.bench.wfcommons;

import java.util.List;

/**
 * A workflow instance as the replay needs it: tasks with their measured runtimes and
 * dependencies, whatever the schema version it was read from.
 *
 * @param name the instance's name
 * @param schemaVersion the WfFormat version of the file
 * @param tasks the tasks, in file order
 */
public record WfInstance(String name, String schemaVersion, List<Task> tasks) {

  /**
   * One task.
   *
   * @param id the task's unique id (in 1.4 files, its name)
   * @param runtimeSeconds the measured runtime, not negative
   * @param parents indices into {@link WfInstance#tasks()} of the tasks this one depends on
   */
  public record Task(String id, double runtimeSeconds, int[] parents) {}

  /** Returns the number of dependency edges. */
  public int edgeCount() {
    int edges = 0;
    for (Task task : tasks) {
      edges += task.parents().length;
    }
    return edges;
  }
}
