package dev.open.ports;

/**
 * The base of the failures of worker calls. Carries the language and the process id of the
 * worker concerned (0 when no worker was involved).
 */
public class WorkerException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The pool's language. */
  private final String language;
  /** The worker's process id. */
  private final long pid;

  WorkerException(String language, long pid, String message, Throwable cause) {
    super(message, cause);
    this.language = language;
    this.pid = pid;
  }

  /** {@return the worker's language: {@code "python"} or {@code "julia"}} */
  public String language() {
    return language;
  }

  /** {@return the worker's process id, or 0} */
  public long pid() {
    return pid;
  }
}
