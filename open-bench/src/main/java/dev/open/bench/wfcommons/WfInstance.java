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

  /**
   * Returns {@code copies} side-by-side copies of this workflow, as one: a larger DAG of the same
   * shape, for reports and scheduling at scale. Copy {@code k}'s tasks are named {@code
   * "copy<k>:" + id}.
   *
   * @param copies how many copies, at least 1
   * @return the copies
   */
  public WfInstance copies(int copies) {
    if (copies < 1) {
      throw new IllegalArgumentException("copies must be at least 1, was " + copies);
    }
    if (copies == 1) {
      return this;
    }
    int n = tasks.size();
    List<Task> all = new java.util.ArrayList<>(n * copies);
    for (int k = 0; k < copies; k++) {
      for (Task task : tasks) {
        int[] parents = task.parents().clone();
        for (int p = 0; p < parents.length; p++) {
          parents[p] += k * n;
        }
        all.add(new Task("copy" + k + ":" + task.id(), task.runtimeSeconds(), parents));
      }
    }
    return new WfInstance(name + " \u00d7" + copies, schemaVersion, List.copyOf(all));
  }
}
