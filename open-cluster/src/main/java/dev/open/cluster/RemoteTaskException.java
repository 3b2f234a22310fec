package dev.open.cluster;

/**
 * Stands in for an exception that could not cross the cluster as itself (it, or something it
 * holds, is not serializable, or its class is missing on the receiving member): it keeps the
 * original's class name, message and stack trace, and its cause likewise.
 */
public final class RemoteTaskException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The class name of the exception this one stands in for. */
  private final String originalClass;

  RemoteTaskException(String originalClass, String message, RemoteTaskException cause) {
    super(originalClass + (message == null ? "" : ": " + message), cause);
    this.originalClass = originalClass;
  }

  /** {@return the class name of the exception this one stands in for} */
  public String originalClass() {
    return originalClass;
  }

  /** Builds the stand-in of {@code t} and, recursively, of its causes (at most 32 deep). */
  static RemoteTaskException of(Throwable t) {
    return of(t, 0);
  }

  private static RemoteTaskException of(Throwable t, int depth) {
    Throwable cause = t.getCause();
    RemoteTaskException standIn = new RemoteTaskException(t.getClass().getName(), t.getMessage(),
        cause == null || cause == t || depth >= 32 ? null : of(cause, depth + 1));
    standIn.setStackTrace(t.getStackTrace());
    return standIn;
  }
}
