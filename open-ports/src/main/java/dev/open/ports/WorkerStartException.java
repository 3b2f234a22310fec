package dev.open.ports;

/**
 * A worker could not be started: the interpreter is missing, the runtime failed to import, or no
 * {@code hello} arrived in time. The message includes the command and what the process wrote to
 * stderr.
 */
public final class WorkerStartException extends WorkerException {
  private static final long serialVersionUID = 1L;

  WorkerStartException(String language, long pid, String message, Throwable cause) {
    super(language, pid, message, cause);
  }
}
