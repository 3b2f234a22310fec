package dev.open.dag;

import java.util.List;

/**
 * A fan-in task: receives the values of any number of input nodes of a common type, as a list in
 * the order the inputs were given to {@link DagBuilder#fanIn}. The list is unmodifiable and may
 * contain nulls.
 *
 * @param <A> the common type of the inputs
 * @param <R> the type of the result
 */
@FunctionalInterface
public interface TaskN<A, R> {

  /**
   * Computes the node's value.
   *
   * @param inputs the values of the input nodes, in order
   * @return the node's value (may be null)
   * @throws Exception when the task fails
   */
  R apply(List<A> inputs) throws Exception;
}
