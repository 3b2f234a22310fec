package dev.open.ports;

import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
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
}
