package dev.open.ports;

import java.util.List;

import dev.open.ports.protocol.ProtocolException;

/**
 * A worker broke the protocol (garbage, a truncated frame, a frame over the limit). It was killed
 * and is being replaced; its calls in flight fail with this. {@link #getCause()} is the {@link
 * ProtocolException} with its code.
 */
public final class WorkerProtocolException extends WorkerCrashedException {
  private static final long serialVersionUID = 1L;

  WorkerProtocolException(String language, long pid, ProtocolException cause,
      List<String> lastStderr) {
    super(language, pid, "broke the protocol (" + cause.code().name().toLowerCase(
        java.util.Locale.ROOT) + ": " + cause.getMessage() + ") and was killed", null, lastStderr,
        cause);
  }
}
