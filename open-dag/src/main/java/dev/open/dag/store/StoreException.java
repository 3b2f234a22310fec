package dev.open.dag.store;

/** A result store cannot be opened or used at all: its directory, its format version. */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what is wrong and where
   * @param cause the underlying error, or null
   */
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
