package dev.open.dag.spi;

/**
 * Decides where each attempt of a task runs: the seam through which open-cluster sends tasks to
 * other JVMs. Plugged in with {@code DagExecutor.builder().withTaskPlacement(placement)}; without
 * one, every attempt runs on the run's own thread.
 *
 * <p>The run keeps everything else: it decides when a node is ready, retries attempts that fail
 * (with the node's retry policy), times them out, fires events and stores values. A placement only
 * moves one attempt's work and its value; it is called on the run's thread and blocks until the
 * attempt has ended, as a task would.
 *
 * <p>Implementations must be thread-safe: many attempts are placed at once.
 */
@FunctionalInterface
public interface TaskPlacement {

  /**
   * Runs one attempt somewhere and returns its value. Must call {@link PlacedTask#started()}, on
   * the calling thread, once the attempt has a place and begins: the attempt's timeout counts from
   * there, so time spent waiting for capacity is not held against the task. When the calling thread
   * is interrupted (a timeout, a cancelled run), the placement stops the attempt where it runs and
   * throws {@link InterruptedException}.
   *
   * @param task the attempt to run
   * @return the attempt's value
   * @throws Exception the task's failure, which the run's retry policy then judges as it would a
   *     local one, or the placement's own
   */
  Object run(PlacedTask task) throws Exception;
}
