package dev.open.dag;

/**
 * A task with 5 inputs, run by a {@link Node}: receives the values of its input nodes in the
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
 * @param <E> the type of input 5
 * @param <R> the type of the result
 */
@FunctionalInterface
public interface Task5<A, B, C, D, E, R> {

  /**
   * Computes the node's value.
   *
   * @param a the value of input 1
   * @param b the value of input 2
   * @param c the value of input 3
   * @param d the value of input 4
   * @param e the value of input 5
   * @return the node's value (may be null)
   * @throws Exception when the task fails
   */
  R apply(A a, B b, C c, D d, E e) throws Exception;
}
