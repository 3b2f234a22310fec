package dev.open.rust;

/**
 * The native library could not be found, loaded or bound. The message names the platform and
 * every place searched, and says what to do ({@code -Dopen.native.library=/path/to/lib}).
 */
public final class NativeLoadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed and where it looked
   * @param cause the underlying error, or null
   */
  public NativeLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
