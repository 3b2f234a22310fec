package dev.open.dag;

import java.util.function.Consumer;

/**
 * What an {@link Node.Invoker} may need to know about the attempt it runs.
 *
 * @param dag the DAG's name
 * @param node the node's name
 * @param attempt the attempt, from 1
 * @param placement told where a backend runs the attempt ({@link
 *     dev.open.dag.spi.Invocation#placedOn})
 */
record AttemptContext(String dag, String node, int attempt, Consumer<String> placement) {

  /** No one to tell where the attempt runs. */
  static final Consumer<String> NOWHERE = where -> { };

  AttemptContext(String dag, String node, int attempt) {
    this(dag, node, attempt, NOWHERE);
  }
}
