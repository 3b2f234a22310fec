package dev.open.dag;

/**
 * A task with 2 inputs, run by a {@link Node}: receives the values of its input nodes in the
 * order they were given to the builder and returns the node's value. It may throw any exception;
 * the executor's retry policy decides what happens next.
 *
 * <p>Tasks run on virtual threads and should respond to interruption (cancellation and timeouts
 * interrupt the running thread).
 *
 * @param <A> the type of input 1
 * @param <B> the type of input 2
 * @param <R> the type of the result
 */
@FunctionalInterface
public interface Task2<A, B, R> {

  /**
   * Computes the node's value.
   *
   * @param a the value of input 1
   * @param b the value of input 2
   * @return the node's value (may be null)
   * @throws Exception when the task fails
   */
  R apply(A a, B b) throws Exception;
}
