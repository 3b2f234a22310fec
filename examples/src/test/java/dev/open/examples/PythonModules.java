package dev.open.examples;

import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** The Python interpreter the examples use, as the tests see it. */
final class PythonModules {
  private PythonModules() {}

  /** The interpreter: {@code -Dopen.python} (set by the build), else the repository's venv. */
  static String interpreter() {
    return Flagship.pythonInterpreter(ExampleWorkers.repo());
  }

  /**
   * Skips the calling test (or class, from {@code @BeforeAll}) unless the interpreter imports
   * every module; {@code make test} runs the tests on the project venv, which has them all.
   */
  static void assumeImportable(String... modules) throws IOException, InterruptedException {
    String python = interpreter();
    boolean importable;
    try {
      Process probe = new ProcessBuilder(python, "-c", "import " + String.join(", ", modules))
          .redirectErrorStream(true).start();
      probe.getInputStream().transferTo(OutputStream.nullOutputStream());
      importable = probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0;
    } catch (IOException e) {
      importable = false;   // no such interpreter
    }
    assumeThat(importable)
        .as(String.join(", ", modules) + " importable by " + python
            + " (make test uses the project venv)")
        .isTrue();
  }

  /** Runs a Python snippet and returns what it printed, trimmed. */
  static String output(String code) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(interpreter(), "-c", code).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("python -c '" + code + "' failed: " + out);
    }
    return out;
  }
}
