/**
 * Typed workflow DAGs run in-process on virtual threads.
 *
 * <p>Entry points: {@link dev.open.dag.Dag#builder(String)} returns a {@link
 * dev.open.dag.DagBuilder}, whose {@code task}, {@code map}, {@code fanIn} and {@code call}
 * methods return typed {@link dev.open.dag.Node} handles (an edge is a Java reference);
 * {@code build()} validates the whole graph ({@link dev.open.dag.DagValidationException} lists
 * every problem). {@link dev.open.dag.DagExecutor} runs a {@link dev.open.dag.Dag} with policies
 * (retry, timeout, deadline, concurrency limits, failure mode): {@code run} blocks and returns a
 * {@link dev.open.dag.RunReport}, {@code start} returns an {@link dev.open.dag.Execution} to
 * watch, await or cancel. Guide: docs/dag.md.
 */
package dev.open.dag;
