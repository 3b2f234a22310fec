package dev.open.ports;

import java.util.List;

/**
 * The worker running a call died, or was killed, before answering: every call in flight on it
 * fails with this at once. A retry policy can send the call again; the pool runs it on another
 * worker. Carries the exit status (or the signal that killed the process) and the last lines the
 * worker wrote to stderr.
 */
public class WorkerCrashedException extends WorkerException {
  private static final long serialVersionUID = 1L;

  /** The exit code, or null when a signal ended the worker. */
  private final Integer exitCode;
  /** The signal that ended the worker, or null. */
  private final Integer signal;
  /** The last lines the worker wrote to standard error. */
  private final List<String> lastStderr;

  WorkerCrashedException(String language, long pid, String reason, Integer exitCode,
      List<String> lastStderr, Throwable cause) {
    super(language, pid, message(language, pid, reason, exitCode, lastStderr), cause);
    this.exitCode = exitCode;
    this.signal = exitCode != null && exitCode > 128 && exitCode < 160 ? exitCode - 128 : null;
    this.lastStderr = List.copyOf(lastStderr);
  }

  private static String message(String language, long pid, String reason, Integer exitCode,
      List<String> lastStderr) {
    StringBuilder sb = new StringBuilder(language).append(" worker ").append(pid).append(' ')
        .append(reason);
    if (exitCode != null) {
      sb.append(exitCode > 128 && exitCode < 160
          ? " (killed by signal " + (exitCode - 128) + signalName(exitCode - 128) + ")"
          : " (exit status " + exitCode + ")");
    }
    if (!lastStderr.isEmpty()) {
      sb.append("; last stderr lines:");
      for (String line : lastStderr) {
        sb.append("\n  ").append(line);
      }
    }
    return sb.toString();
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 6 -> " SIGABRT";
      case 9 -> " SIGKILL";
      case 11 -> " SIGSEGV";
      case 15 -> " SIGTERM";
      default -> "";
    };
  }

  /** {@return the worker's exit status if it exited (128 + n when killed by signal n)} */
  public Integer exitCode() {
    return exitCode;
  }

  /** {@return the signal that killed the worker, if one did} */
  public Integer signal() {
    return signal;
  }

  /** {@return the last lines the worker wrote to stderr, oldest first} */
  public List<String> lastStderr() {
    return lastStderr;
  }
}
