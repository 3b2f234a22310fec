package dev.open.ports;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The worker runtimes (python-worker/open_worker, julia-worker/open_worker.jl) ship inside the
 * jar under {@code dev/open/ports/runtime/<language>/}; they are copied once per JVM to a
 * temporary directory, deleted on exit, so that a Maven user needs only an interpreter.
 */
final class WorkerRuntime {
  private static final String ROOT = "dev/open/ports/runtime/";
  private static final Map<Language, Path> EXTRACTED = new EnumMap<>(Language.class);

  private WorkerRuntime() {}

  /** Returns the directory holding the runtime of {@code language}, extracting it once. */
  static synchronized Path of(Language language) {
    Path dir = EXTRACTED.get(language);
    if (dir == null) {
      dir = extract(language);
      EXTRACTED.put(language, dir);
    }
    return dir;
  }

  private static Path extract(Language language) {
    String prefix = ROOT + language.id();
    // A file, not the directory: inside a named module a directory is not a resource.
    String entry = prefix + "/" + entryPoint(language);
    URL url = WorkerRuntime.class.getResource("/" + entry);
    if (url == null) {
      throw new WorkerStartException(language.id(), 0, "the " + language.id() + " worker "
          + "runtime is missing from the classpath (resource " + entry + ")", null);
    }
    try {
      Path target = Files.createTempDirectory("open-" + language.id() + "-runtime-");
      if (url.getProtocol().equals("jar")) {
        URI jar = URI.create(url.toString().substring(0, url.toString().indexOf("!/")));
        try (FileSystem zip = openZip(jar)) {
          copyTree(zip.getPath("/" + prefix), target);
        }
      } else {
        copyTree(Path.of(url.toURI()).getParent(), target);
      }
      deleteOnExit(target);
      return target;
    } catch (IOException | URISyntaxException e) {
      throw new WorkerStartException(language.id(), 0, "cannot extract the " + language.id()
          + " worker runtime: " + e, e);
    }
  }

  private static String entryPoint(Language language) {
    return switch (language) {
      case PYTHON -> "open_worker_main.py";
      case JULIA -> "open_worker.jl";
    };
  }

  private static FileSystem openZip(URI jar) throws IOException {
    try {
      return FileSystems.newFileSystem(URI.create(jar + "!/"), Map.of());
    } catch (FileSystemAlreadyExistsException e) {
      return FileSystems.newFileSystem(Path.of(URI.create(jar.toString().substring(4))));
    }
  }

  private static void copyTree(Path source, Path target) throws IOException {
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : files.toList()) {
        Path to = target.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(to);
        } else {
          try (InputStream in = Files.newInputStream(file)) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    }
  }

  private static void deleteOnExit(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      // Parents first: deleteOnExit runs in reverse order of registration.
      List<Path> all = files.toList();
      all.forEach(p -> p.toFile().deleteOnExit());
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
