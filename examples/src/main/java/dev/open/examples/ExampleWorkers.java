package dev.open.examples;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import dev.open.ports.WorkerPool;

/**
 * What the science, training and analysis examples share: the repository they run in, their
 * pool of Python workers, and a call to a worker made from inside a Java task (a {@code map}
 * element), where a DAG's {@code call} node cannot be used.
 */
final class ExampleWorkers {
  private ExampleWorkers() {}

  /** The repository root: {@code -Dopen.repo}, else the working directory. */
  static Path repo() {
    return Path.of(System.getProperty("open.repo", ".")).toAbsolutePath();
  }

  /** How many Python workers the examples start: one per processor, 2 to 4. */
  static int workers() {
    return Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  /**
   * Starts Python workers for the {@code open_examples} task modules, with the interpreter of
   * {@link Flagship#pythonInterpreter(Path)} ({@code -Dopen.python}, else the repository's
   * {@code .venv}, else {@code python3}).
   */
  static WorkerPool python(Path repo) {
    return WorkerPool.python()
        .withInterpreter(Flagship.pythonInterpreter(repo))
        .withModulePath(repo.resolve("python-worker/examples"))
        .withAllowedModules("open_examples.*")
        .withWorkers(workers())
        .build();
  }

  /**
   * Waits for a worker call as a DAG's {@code call} node does: an interrupt (the node's timeout,
   * the run's cancellation) cancels the call in the worker, and the call's own failure ({@code
   * RemoteException}, {@code WorkerCrashedException}, ...) is thrown as it is, so that a retry
   * policy sees its type.
   *
   * @param call the pending call
   * @param type the expected type of the result
   * @param <T> the result type
   * @return the result
   * @throws Exception the call's failure, or {@link InterruptedException}
   */
  static <T> T await(CompletableFuture<Object> call, Class<T> type) throws Exception {
    Object value;
    try {
      value = call.get();
    } catch (InterruptedException e) {
      call.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
    if (!type.isInstance(value)) {
      throw new ClassCastException("a worker returned "
          + (value == null ? "null" : value.getClass().getName()) + ", expected "
          + type.getName());
    }
    return type.cast(value);
  }
}
