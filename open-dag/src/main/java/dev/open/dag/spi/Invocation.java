package dev.open.dag.spi;

import java.util.List;
import java.util.Objects;

/**
 * One call of a backend function from a DAG node.
 *
 * @param dag the name of the DAG being run
 * @param node the name of the calling node
 * @param attempt the attempt number, starting at 1 (retries call again with a higher number)
 * @param function the backend-specific function name
 * @param arguments the values of the node's inputs, in order; unmodifiable, may contain nulls
 * @param resultType the Java type the caller expects; a backend converts to it where it can
 */
public record Invocation(
    String dag, String node, int attempt, String function, List<Object> arguments,
    Class<?> resultType) {

  /** Checks that every component is present. */
  public Invocation {
    Objects.requireNonNull(dag, "dag");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(arguments, "arguments");
    Objects.requireNonNull(resultType, "resultType");
  }
}
