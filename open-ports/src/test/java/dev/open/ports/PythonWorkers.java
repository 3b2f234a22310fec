package dev.open.ports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Test fixtures: the interpreter under test and the task modules of python-worker/. */
final class PythonWorkers {
  static final Path REPO = Path.of(System.getProperty("open.repo", "..")).toAbsolutePath();
  static final String PYTHON = System.getProperty("open.python", "python3");
  private static Boolean numpy;

  private PythonWorkers() {}

  /** A builder with the test and example task modules allowed, and fast health checks. */
  static WorkerPool.Builder pool() {
    return WorkerPool.python()
        .withInterpreter(PYTHON)
        .withModulePath(REPO.resolve("python-worker/test_tasks"),
            REPO.resolve("python-worker/examples"))
        .withAllowedModules("open_test_tasks", "open_examples.*");
  }

  /** Skips the calling test, saying why, when the interpreter has no NumPy. */
  static synchronized void assumeNumpy() {
    if (numpy == null) {
      try {
        Process p = new ProcessBuilder(PYTHON, "-c", "import numpy").start();
        numpy = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
      } catch (IOException | InterruptedException e) {
        numpy = false;
      }
    }
    assumeThat(numpy).as("NumPy is importable by " + PYTHON
        + " (run through make test, which uses the project venv)").isTrue();
  }

  /** Waits until {@code condition} holds, failing after {@code timeout}. */
  static void eventually(Duration timeout, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout);
      }
      Thread.sleep(20);
    }
  }

  /** Returns whether a process is gone (exited and reaped). */
  static boolean gone(long pid) {
    return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
  }

  /** Adds open-ports/src/test/python, and allows its {@code hostile_tasks} module. */
  static WorkerPool.Builder withHostileTasks(WorkerPool.Builder builder) {
    return builder.withModulePath(REPO.resolve("open-ports/src/test/python"))
        .withAllowedModules("hostile_tasks");
  }

  /** Returns a call's value, failing the test if it fails or takes over a minute. */
  static Object join(CompletableFuture<Object> future) {
    try {
      return future.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Returns why a call failed (unwrapped), or what waiting for it threw. */
  static Throwable failure(CompletableFuture<?> future) {
    Throwable t = catchThrowable(() -> future.get(60, TimeUnit.SECONDS));
    return t instanceof ExecutionException ? t.getCause() : t;
  }

  /** Closes the pools and checks that none of their workers is left. */
  static void closeAndCheckNoWorkerIsLeft(List<WorkerPool> pools) {
    List<Long> pids = new ArrayList<>();
    for (WorkerPool pool : pools) {
      pids.addAll(pool.pids());
      pool.close();
    }
    assertThat(pids).allSatisfy(pid -> assertThat(gone(pid)).as("worker %d is gone", pid).isTrue());
  }
}
