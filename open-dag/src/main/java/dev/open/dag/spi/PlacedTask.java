package dev.open.dag.spi;

import java.util.List;

/**
 * One attempt of a task (or of one element of a {@code map} node), as a {@link TaskPlacement}
 * sees it: who it is, its input values, and a way to run it on the current thread.
 *
 * <p>A JVM that receives an attempt from another one rebuilds it from the same DAG with {@link
 * dev.open.dag.Dag#placedTask} and calls {@link #runHere()}.
 */
public interface PlacedTask {

  /** {@return the name of the DAG} */
  String dag();

  /** {@return the name of the node} */
  String node();

  /** {@return the index of the element of a {@code map} node, or -1 for a node's own task} */
  int element();

  /** {@return the attempt number, from 1} */
  int attempt();

  /**
   * {@return the values the task receives: its inputs' values in order, or, for an element of a
   * {@code map} node, the one element} Unmodifiable; may contain nulls.
   */
  List<Object> inputs();

  /**
   * Tells the run that the attempt has begun where it was placed: the attempt's timeout counts
   * from this call. Call it on the thread that called {@link TaskPlacement#run}; later calls do
   * nothing. Does nothing for a task rebuilt with {@link dev.open.dag.Dag#placedTask}.
   */
  void started();

  /**
   * Runs the attempt on the calling thread, with SLF4J's MDC filled with {@code dag}, {@code node}
   * and {@code attempt}.
   *
   * @return the task's value
   * @throws Exception whatever the task throws
   */
  Object runHere() throws Exception;
}
