package dev.open.ports;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/** A worker does not outlive its JVM, even one killed with SIGKILL (no hook runs then). */
class NoOrphanTest {

  /** The tests may run on the module path; the child runs everything from the class path. */
  static String classPathOfThisJvm() {
    return java.util.stream.Stream.of("jdk.module.path", "java.class.path")
        .map(System::getProperty)
        .filter(p -> p != null && !p.isEmpty())
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
  }

  @Test
  void workersExitWhenTheirJvmIsKilled() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process host = new ProcessBuilder(java.toString(), "-cp", classPathOfThisJvm(),
        OrphanHost.class.getName(), PythonWorkers.PYTHON,
        PythonWorkers.REPO.resolve("python-worker/test_tasks").toString())
        .redirectErrorStream(true).start();
    long workerPid = -1;
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("worker ")) {
          workerPid = Long.parseLong(line.substring(7).trim());
          break;
        }
      }
      assertThat(workerPid).as("the host printed its worker's pid").isPositive();
      assertThat(PythonWorkers.gone(workerPid)).isFalse();

      host.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
      host.waitFor();

      long pid = workerPid;
      PythonWorkers.eventually(Duration.ofSeconds(15), () -> PythonWorkers.gone(pid));
    } finally {
      host.destroyForcibly();
    }
  }
}
