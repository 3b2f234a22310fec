package dev.open.dag;

/**
 * A task with 4 inputs, run by a {@link Node}: receives the values of its input nodes in the
 * order they were given to the builder and returns the node's value. It may throw any exception;
 * the executor's retry policy decides what happens next.
 *
 * <p>Tasks run on virtual threads and should respond to interruption (cancellation and timeouts
 * interrupt the running thread).
 *
 * @param <A> the type of input 1
 * @param <B> the type of input 2
 * @param <C> the type of input 3
 * @param <D> the type of input 4
 * @param <R> the type of the result
 */
@FunctionalInterface
public interface Task4<A, B, C, D, R> {

  /**
   * Computes the node's value.
   *
   * @param a the value of input 1
   * @param b the value of input 2
   * @param c the value of input 3
   * @param d the value of input 4
   * @return the node's value (may be null)
   * @throws Exception when the task fails
   */
  R apply(A a, B b, C c, D d) throws Exception;
}
