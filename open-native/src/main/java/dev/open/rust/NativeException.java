package dev.open.rust;

/**
 * A native kernel reported an error: the Rust side rejected its input (corrupt zstd data, …) or
 * panicked. The message is Rust's. The JVM and later calls are unaffected: every export catches
 * panics before they reach the boundary.
 */
public final class NativeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of error the library reported. */
  public enum Status {
    /** The arguments were invalid (normally caught in Java before the call). */
    INVALID_ARGUMENT,
    /** Well-formed input the kernel could not process, such as corrupt compressed data. */
    KERNEL_ERROR,
    /** An output did not fit, or exceeded a caller's limit. */
    BUFFER_TOO_SMALL,
    /** A Rust panic was caught: a bug in the library. */
    PANIC,
    /** A status code this version does not know. */
    UNKNOWN;

    static Status of(int code) {
      return switch (code) {
        case 1 -> INVALID_ARGUMENT;
        case 2 -> KERNEL_ERROR;
        case 3 -> BUFFER_TOO_SMALL;
        case 4 -> PANIC;
        default -> UNKNOWN;
      };
    }
  }

  /** The kernel that failed. */
  private final String function;
  /** The status the kernel returned. */
  private final Status status;

  NativeException(String function, Status status, String message) {
    super(function + " failed (" + status + "): " + message);
    this.function = function;
    this.status = status;
  }

  /** {@return the kernel that failed, e.g. {@code zstdDecompress}} */
  public String function() {
    return function;
  }

  /** {@return the kind of error} */
  public Status status() {
    return status;
  }
}
