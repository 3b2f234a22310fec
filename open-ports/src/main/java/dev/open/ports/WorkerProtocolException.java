package dev.open.ports;

import java.util.List;
import java.util.Locale;

import dev.open.ports.internal.protocol.ProtocolException;

/**
 * A worker broke the protocol (garbage, a truncated frame, a frame over the limit). It was killed
 * and is being replaced; the call it was running fails with this. {@link #code()} names the
 * broken rule as docs/protocol.md section 6 does.
 */
public final class WorkerProtocolException extends WorkerCrashedException {
  private static final long serialVersionUID = 1L;

  /** The protocol error code. */
  private final String code;

  WorkerProtocolException(String language, long pid, ProtocolException cause,
      List<String> lastStderr) {
    super(language, pid, "broke the protocol (" + cause.code().name().toLowerCase(Locale.ROOT)
        + ": " + cause.getMessage() + ") and was killed", null, lastStderr, cause);
    this.code = cause.code().name().toLowerCase(Locale.ROOT);
  }

  /**
   * The protocol's error code for what the worker did wrong.
   *
   * @return a code of docs/protocol.md section 7, such as {@code "bad_header"} or {@code
   *     "too_large"}
   */
  public String code() {
    return code;
  }
}
