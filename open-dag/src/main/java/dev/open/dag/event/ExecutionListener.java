package dev.open.dag.event;

import java.time.Duration;

import dev.open.dag.RunReport;

/**
 * Receives the events of runs. Register with {@link
 * dev.open.dag.DagExecutor.Builder#withListener(ExecutionListener)}; every method has an empty
 * default, so implement only what you need.
 *
 * <p>Methods are called synchronously on the thread of the task concerned, so they must be fast
 * and thread-safe: many tasks report at once. An exception thrown by a listener is logged and
 * otherwise ignored; it never changes the run.
 */
public interface ExecutionListener {

  /**
   * A run has started.
   *
   * @param event the run
   */
  default void onRunStarted(RunStartedEvent event) {}

  /**
   * A task has started running: sent once per task, before its first attempt. Every started task
   * later ends with exactly one of {@code onTaskSucceeded}, {@code onTaskFailed} or {@code
   * onTaskCancelled}.
   *
   * @param event the task
   */
  default void onTaskStarted(TaskEvent event) {}

  /**
   * An attempt's backend said where it runs: a worker pool names the worker process it handed
   * the call to ({@code "pid 4711"}). Sent after {@code onTaskStarted}, on the backend's thread,
   * for each attempt (each element attempt of a {@code map} node) whose backend says so; Java
   * tasks and the Rust kernels run in this JVM and send none.
   *
   * @param event the task, with the attempt concerned
   * @param where the backend's name for the place
   */
  default void onTaskPlaced(TaskEvent event, String where) {}

  /**
   * An attempt failed and will be tried again after {@code delay}. For a {@code map} node, sent
   * for each element attempt that is retried.
   *
   * @param event the task; {@code error} is the attempt's failure
   * @param delay the backoff before the next attempt
   */
  default void onTaskRetrying(TaskEvent event, Duration delay) {}

  /**
   * A task succeeded.
   *
   * @param event the task; {@code duration} covers all its attempts
   */
  default void onTaskSucceeded(TaskEvent event) {}

  /**
   * A task failed for good.
   *
   * @param event the task; {@code error} is a {@link dev.open.dag.TaskFailedException}
   */
  default void onTaskFailed(TaskEvent event) {}

  /**
   * A task was skipped because a node it depends on failed.
   *
   * @param event the task
   */
  default void onTaskSkipped(TaskEvent event) {}

  /**
   * A task's value was loaded from the result store instead of computed: it did not run. Called
   * once per such node, instead of {@code onTaskStarted} and {@code onTaskSucceeded}; for a map
   * node whose elements were all found, after its {@code onTaskStarted} (the event then says
   * {@code started}), since a map node looks its elements up once it has started.
   *
   * @param event the node, with {@code attempt} 0 and the time the lookup and load took
   */
  default void onTaskCached(TaskEvent event) {}

  /**
   * A task was cancelled, before or while running.
   *
   * @param event the task
   */
  default void onTaskCancelled(TaskEvent event) {}

  /**
   * A run has finished: every task has ended.
   *
   * @param report the final report
   */
  default void onRunFinished(RunReport report) {}
}
