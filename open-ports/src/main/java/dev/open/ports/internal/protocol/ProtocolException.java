package dev.open.ports.internal.protocol;

import java.io.IOException;

/**
 * A frame or value that breaks the worker protocol (docs/protocol.md). {@link #code()} is one of
 * the error codes of the conformance vectors.
 */
public final class ProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What was wrong, as named in docs/protocol.md section 7. */
  public enum Code {
    /** The length prefix exceeds the frame size limit. */
    TOO_LARGE,
    /** The stream ended inside a frame. */
    TRUNCATED,
    /** The body is too short for a header length, or the header runs past the body. */
    BAD_HEADER_LENGTH,
    /** The header is not a UTF-8 JSON object. */
    BAD_HEADER,
    /** The header has no string {@code kind}. */
    MISSING_KIND,
    /** The header's {@code kind} is not a protocol message kind. */
    UNKNOWN_KIND,
    /** The buffer sizes are invalid or do not add up to the body. */
    BAD_BUFFERS,
    /** A value is malformed: an unknown {@code $} tag, an array of the wrong size, … */
    BAD_VALUE
  }

  private final Code code;

  /**
   * Creates the exception.
   *
   * @param code what kind of violation
   * @param message what exactly was wrong
   */
  public ProtocolException(Code code, String message) {
    super(message);
    this.code = code;
  }

  /** Returns the kind of violation. */
  public Code code() {
    return code;
  }
}
