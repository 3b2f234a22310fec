package dev.open.dag;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * A run in progress, returned by {@link DagExecutor#start(Dag)}. Thread-safe.
 *
 * <pre>{@code
 * Execution run = executor.start(dag);
 * run.future(report).thenAccept(mailer::send);   // one node's value, as soon as it exists
 * System.out.println(run.progress());
 * RunReport result = run.await();
 * }</pre>
 */
public interface Execution {

  /** {@return the DAG being run} */
  Dag dag();

  /** {@return this run's id, unique within the JVM} */
  long runId();

  /**
   * {@return a future completed with the final report when every node has finished, including
   * tasks still stopping after a cancellation} It never completes exceptionally: failures are in
   * the report. Completing or cancelling the returned future does not affect the run.
   */
  CompletableFuture<RunReport> completion();

  /**
   * Blocks until the run has finished.
   *
   * @return the final report
   * @throws InterruptedException if the calling thread is interrupted while waiting (the run goes
   *     on; call {@link #cancel()} to stop it)
   */
  RunReport await() throws InterruptedException;

  /**
   * Blocks until the run has finished or {@code timeout} has passed.
   *
   * @param timeout how long to wait at most
   * @return the final report
   * @throws InterruptedException if the calling thread is interrupted while waiting
   * @throws TimeoutException if the run has not finished in time (it goes on)
   */
  RunReport await(Duration timeout) throws InterruptedException, TimeoutException;

  /**
   * Returns a future of one node's value: completed with the value when the node succeeds, or
   * exceptionally with {@link TaskFailedException}, {@link TaskSkippedException} or {@link
   * RunCancelledException}. Ask before the node finishes, or for a node whose value is kept ({@link
   * NodeSpec#retain()}, sinks): the value of another node is released after its last consumer
   * finished, and its future then fails with {@link IllegalStateException}.
   *
   * @param node a node of this run's DAG
   * @param <T> the node's value type
   * @return a future of the value; completing it does not affect the run
   */
  <T> CompletableFuture<T> future(Node<T> node);

  /**
   * Cancels the run: nodes that have not started end {@code CANCELLED} (descendants of a failed
   * node {@code SKIPPED}), running tasks are interrupted, backend calls are cancelled. The run
   * finishes when the interrupted tasks have returned.
   *
   * @return true if this call cancelled the run, false if it had finished or was already
   *     cancelled
   */
  boolean cancel();

  /** {@return a snapshot of the run's progress} */
  Progress progress();

  /** {@return true when the run has finished} */
  boolean isDone();
}
