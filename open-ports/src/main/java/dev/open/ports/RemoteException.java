package dev.open.ports;

/**
 * The called function raised an exception in the worker. The worker is fine and keeps serving.
 * {@link #remoteType()} is the language's exception type ({@code ValueError},
 * {@code numpy.linalg.LinAlgError}, {@code DomainError}), {@link #remoteTraceback()} its
 * formatted stack.
 */
public final class RemoteException extends WorkerException {
  private static final long serialVersionUID = 1L;

  private final String function;
  private final String remoteType;
  private final String remoteMessage;
  private final String remoteTraceback;

  RemoteException(String language, long pid, String function, String remoteType,
      String remoteMessage, String remoteTraceback) {
    super(language, pid, remoteType + ": " + remoteMessage + " (in " + language + " function "
        + function + ", worker pid " + pid + ")", null);
    this.function = function;
    this.remoteType = remoteType;
    this.remoteMessage = remoteMessage;
    this.remoteTraceback = remoteTraceback;
  }

  /** Returns the function that raised. */
  public String function() {
    return function;
  }

  /** Returns the remote exception's type name. */
  public String remoteType() {
    return remoteType;
  }

  /** Returns the remote exception's message. */
  public String remoteMessage() {
    return remoteMessage;
  }

  /** Returns the remote stack trace as the worker formatted it (may be empty). */
  public String remoteTraceback() {
    return remoteTraceback;
  }
}
