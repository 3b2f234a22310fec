package dev.open.ports;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A worker language: how to start its runtime and where it finds task modules. */
public enum Language {
  /**
   * CPython 3.9+, running {@code python -u <runtime>/open_worker_main.py}: a script, so that
   * Python puts the runtime's directory first on {@code sys.path}, never the working directory.
   */
  PYTHON("python", "python3", "PYTHONPATH", "open.python"),
  /** Julia 1.9+, running {@code open_worker.jl} with two threads. */
  JULIA("julia", "julia", "JULIA_LOAD_PATH", "open.julia");

  private final String id;
  private final String defaultInterpreter;
  private final String pathVariable;
  private final String interpreterProperty;

  Language(String id, String defaultInterpreter, String pathVariable, String interpreterProperty) {
    this.id = id;
    this.defaultInterpreter = defaultInterpreter;
    this.pathVariable = pathVariable;
    this.interpreterProperty = interpreterProperty;
  }

  /** {@return {@code "python"} or {@code "julia"}: the backend name and log category} */
  public String id() {
    return id;
  }

  /**
   * {@return the interpreter used when none is configured: the system property {@code
   * open.python} / {@code open.julia}, else {@code python3} / {@code julia} on the PATH}
   */
  public String defaultInterpreter() {
    return System.getProperty(interpreterProperty, defaultInterpreter);
  }

  /** Returns the environment variable holding the module search path. */
  String pathVariable() {
    return pathVariable;
  }

  /** The files under {@code root} that may hold the source of {@code module}, in search order. */
  List<Path> sourceFiles(Path root, String module) {
    if (this == PYTHON) {
      Path base = root.resolve(module.replace('.', '/'));
      // Python's own order: a package directory wins over a module file of the same name.
      return List.of(base.resolve("__init__.py"), base.resolveSibling(base.getFileName() + ".py"));
    }
    return List.of(root.resolve(module + ".jl"), root.resolve(module).resolve("src")
        .resolve(module + ".jl"));
  }

  /** The module search path: the runtime (Python only) and then the user's directories. */
  String searchPath(Path runtime, List<Path> modulePath) {
    List<String> entries = new ArrayList<>();
    if (this == PYTHON) {
      entries.add(runtime.toString());
    }
    modulePath.forEach(p -> entries.add(p.toAbsolutePath().toString()));
    if (this == JULIA) {
      entries.add("@stdlib"); // keep the standard library reachable for task modules
    }
    return String.join(java.io.File.pathSeparator, entries);
  }

  List<String> command(String interpreter, Path runtime, List<String> allowed, int maxFrame,
      boolean attributePaths) {
    List<String> command = new ArrayList<>();
    command.add(interpreter);
    if (this == PYTHON) {
      command.addAll(List.of("-u", runtime.resolve("open_worker_main.py").toString()));
    } else {
      command.addAll(List.of("--threads=2", "--startup-file=no", "--history-file=no",
          runtime.resolve("open_worker.jl").toString()));
    }
    for (String module : allowed) {
      command.add("--allow");
      command.add(module);
    }
    command.add("--max-frame");
    command.add(Integer.toString(maxFrame));
    if (attributePaths) {
      command.add("--allow-attribute-paths");
    }
    return command;
  }
}
