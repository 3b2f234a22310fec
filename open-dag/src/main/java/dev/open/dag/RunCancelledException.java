package dev.open.dag;

import java.util.concurrent.CancellationException;

/**
 * A run was cancelled before all of its tasks finished: by {@link Execution#cancel()}, by an
 * interrupt of the thread blocked in {@link DagExecutor#run(Dag)}, by its deadline ({@link
 * DeadlineExceededException}) or, in {@link dev.open.dag.policy.FailureMode#FAIL_FAST} mode, by the
 * failure named in {@link #getCause()}. Futures of nodes that were cancelled complete with it.
 */
public class RunCancelledException extends CancellationException {
  private static final long serialVersionUID = 1L;

  RunCancelledException(String message, Throwable cause) {
    super(message);
    if (cause != null) {
      initCause(cause);
    }
  }
}
