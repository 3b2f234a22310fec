package dev.open.dag;

/**
 * A run did not succeed and the caller asked for a value or for success: thrown by {@link
 * RunReport#orThrow()} and {@link RunReport#result(Node)}. {@link #getCause()} is the first
 * failure of the run ({@link TaskFailedException}, {@link TaskSkippedException} or {@link
 * RunCancelledException}).
 */
public final class DagExecutionException extends DagException {
  private static final long serialVersionUID = 1L;

  DagExecutionException(String message, Throwable cause) {
    super(message, cause);
  }
}
