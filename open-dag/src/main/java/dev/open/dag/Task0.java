package dev.open.dag;

/**
 * A task without inputs, run by a source {@link Node}. It may throw any exception; the executor's
 * retry policy decides what happens next.
 *
 * <p>Tasks run on virtual threads and should respond to interruption (cancellation and timeouts
 * interrupt the running thread).
 *
 * @param <R> the type of the result
 */
@FunctionalInterface
public interface Task0<R> {

  /**
   * Computes the node's value.
   *
   * @return the node's value (may be null)
   * @throws Exception when the task fails
   */
  R call() throws Exception;
}
