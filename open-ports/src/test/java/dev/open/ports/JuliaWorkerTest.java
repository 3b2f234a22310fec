package dev.open.ports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.open.dag.array.NDArray;

/**
 * The Julia worker through the same pool. Runs when {@code julia} (or {@code -Dopen.julia=...})
 * starts; otherwise every test is skipped, and the skip says so.
 */
class JuliaWorkerTest {
  static final String JULIA = System.getProperty("open.julia", "julia");

  private static Boolean available;

  /** Skips each test, with the reason in the report, when Julia cannot be started. */
  @BeforeEach
  void requireJulia() {
    synchronized (JuliaWorkerTest.class) {
      if (available == null) {
        try {
          Process p = new ProcessBuilder(JULIA, "--version").redirectErrorStream(true).start();
          available = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
          available = false;
        }
        if (!available) {
          System.err.println("SKIPPED: Julia worker integration tests (no '" + JULIA
              + "' on PATH; install Julia 1.9+ or pass -Dopen.julia=/path/to/julia)");
        }
      }
    }
    assumeThat(available).as("SKIPPED: julia ('" + JULIA + "') is not installed").isTrue();
  }

  private static WorkerPool julia() {
    return WorkerPool.julia()
        .withInterpreter(JULIA)
        .withModulePath(PythonWorkers.REPO.resolve("julia-worker/tasks"))
        .withAllowedModules("TestTasks", "OdeTasks", "StatsTasks", "OptimTasks")
        .withHandshakeTimeout(java.time.Duration.ofSeconds(120))
        .withWorkers(1)
        .build();
  }

  @Test
  void callsJuliaFunctionsWithValuesAndArrays() {
    try (WorkerPool julia = julia()) {
      assertThat(julia.workerInfo()).containsEntry("language", "julia");
      assertThat(julia.call("TestTasks:add", 2, 3).join()).isEqualTo(5L);
      assertThat(julia.call("TestTasks:echo", List.of("a", 1L, 2.5)).join())
          .isEqualTo(List.of("a", 1L, 2.5));
      NDArray m = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
      NDArray doubled = (NDArray) julia.call("TestTasks:array_double", m).join();
      assertThat(doubled.shape()).containsExactly(2, 3);
      assertThat(julia.call("TestTasks:array_sum", m).join()).isEqualTo(21.0);
    }
  }

  @Test
  void streamsAndRemoteErrors() {
    try (WorkerPool julia = julia()) {
      try (CallStream stream = julia.stream("TestTasks:count", 3)) {
        assertThat(stream.stream().toList()).containsExactly(0L, 1L, 2L);
      }
      Throwable error = julia.call("TestTasks:fail", "ErrorException", "boom")
          .handle((v, e) -> e).join();
      assertThat(error).hasCauseInstanceOf(RemoteException.class);
    }
  }
}
