package dev.open.ports;

/**
 * The called function raised an exception in the worker. The worker is fine and keeps serving.
 * {@link #remoteType()} is the language's exception type ({@code ValueError},
 * {@code numpy.linalg.LinAlgError}, {@code DomainError}), {@link #remoteTraceback()} its
 * formatted stack.
 */
public final class RemoteException extends WorkerException {
  private static final long serialVersionUID = 1L;

  /** The worker function that raised. */
  private final String function;
  /** The exception's type in the worker. */
  private final String remoteType;
  /** The exception's message in the worker. */
  private final String remoteMessage;
  /** The worker's traceback. */
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

  /** {@return the function that raised} */
  public String function() {
    return function;
  }

  /** {@return the remote exception's type name} */
  public String remoteType() {
    return remoteType;
  }

  /** {@return the remote exception's message} */
  public String remoteMessage() {
    return remoteMessage;
  }

  /** {@return the remote stack trace as the worker formatted it (may be empty)} */
  public String remoteTraceback() {
    return remoteTraceback;
  }
}
