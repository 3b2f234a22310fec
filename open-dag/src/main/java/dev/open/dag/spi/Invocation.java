package dev.open.dag.spi;

import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One call of a backend function from a DAG node.
 *
 * @param dag the name of the DAG being run
 * @param node the name of the calling node
 * @param attempt the attempt number, starting at 1 (retries call again with a higher number)
 * @param function the backend-specific function name
 * @param arguments the values of the node's inputs, in order; unmodifiable, may contain nulls
 * @param resultType the Java type the caller expects; a backend converts to it where it can
 * @param placement told where the call runs, through {@link #placedOn(String)}
 */
public record Invocation(
    String dag, String node, int attempt, String function, List<Object> arguments,
    Class<?> resultType, Consumer<String> placement) {

  /** Checks that every component is present. */
  public Invocation {
    Objects.requireNonNull(dag, "dag");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(arguments, "arguments");
    Objects.requireNonNull(resultType, "resultType");
    Objects.requireNonNull(placement, "placement");
  }

  /**
   * Creates an invocation whose placement nobody hears of.
   *
   * @param dag the name of the DAG being run
   * @param node the name of the calling node
   * @param attempt the attempt number, starting at 1
   * @param function the backend-specific function name
   * @param arguments the values of the node's inputs, in order
   * @param resultType the Java type the caller expects
   */
  public Invocation(String dag, String node, int attempt, String function, List<Object> arguments,
      Class<?> resultType) {
    this(dag, node, attempt, function, arguments, resultType, where -> { });
  }

  /**
   * Says where the call runs, once it does: a backend with several places to run calls (a pool
   * of worker processes) calls this when it hands the call to one, so that listeners ({@link
   * dev.open.dag.event.ExecutionListener#onTaskPlaced}) and the HTML report can tell them apart.
   * Optional for a backend; must not block.
   *
   * @param where a short name of the place, such as {@code "pid 4711"}
   */
  public void placedOn(String where) {
    placement.accept(Objects.requireNonNull(where, "where"));
  }
}
