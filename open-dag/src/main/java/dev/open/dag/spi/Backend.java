package dev.open.dag.spi;

import java.util.concurrent.CompletableFuture;

/**
 * The extension point through which tasks run outside plain Java: a Rust library, a pool of Python
 * or Julia worker processes. open-dag knows backends only through this interface; modules such as
 * open-native and open-ports implement it.
 *
 * <p>A node that calls a {@link dev.open.dag.FunctionRef} runs on its own virtual thread, calls
 * {@link #invoke} and waits for the returned future. Timeouts and cancellation reach the backend as
 * {@link CompletableFuture#cancel(boolean)} on that future: a backend must then stop the call (send
 * a cancel message, kill a worker) and release what it holds.
 *
 * <p>Implementations must be thread-safe: many nodes call {@code invoke} at once.
 */
public interface Backend {

  /**
   * {@return the backend's name, such as {@code "python"} or {@code "native"}: used as the {@code
   * backend} tag of metrics and events and as an implicit resource tag, so that {@code
   * withConcurrencyLimit("python", 4)} limits the calls in flight to this backend}
   */
  String name();

  /**
   * Starts a call. Must not block for the duration of the call; slow work belongs on the
   * backend's own threads or processes.
   *
   * @param invocation the function, its arguments and the calling node
   * @return a future completed with the result (of a type assignable to {@link
   *     Invocation#resultType()}), or exceptionally with a typed failure
   */
  CompletableFuture<?> invoke(Invocation invocation);

  /**
   * Returns what identifies the code of {@code function} as this backend would run it now — a hash
   * of a Python module's source, a native library's ABI version and build hash — so that a result
   * store's key changes when the code does. The default, {@code ""}, says nothing: keys then
   * change only with the node's or DAG's declared version. Called once per node and run; may do
   * I/O (implementations cache what they compute).
   *
   * @param function the function, as in {@link Invocation#function()}
   * @return the identity, or {@code ""} when unknown
   */
  default String codeIdentity(String function) {
    return "";
  }
}
