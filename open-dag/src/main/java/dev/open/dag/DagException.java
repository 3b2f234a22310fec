package dev.open.dag;

/** The base of the unchecked exceptions that OPEN's DAG layer throws. */
public class DagException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message and an optional cause.
   *
   * @param message what went wrong, naming the node or DAG concerned
   * @param cause the underlying failure, or null
   */
  public DagException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Creates an exception without a stack trace: for frequent, expected outcomes. */
  DagException(String message, Throwable cause, boolean stackTrace) {
    super(message, cause, true, stackTrace);
  }
}
