package dev.open.rust.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.open.rust.NativeLoadException;

/**
 * Finds {@code libopen_native} and binds it. Internal: {@link dev.open.rust.RustKernels#load()}
 * is the way in.
 *
 * <p>Where: the file named by the system property {@value #LIBRARY_PROPERTY}, else the library
 * packaged in the jar under {@code native/<os>-<arch>/}, extracted once per JVM to a temporary
 * directory deleted on exit. How: the binding named by {@value #BINDING_PROPERTY} ({@code jnr} or
 * {@code ffm}), else FFM on Java 22+ and JNR-FFI before.
 */
public final class NativeLibrary {
  /** System property: path of a library file to load instead of the packaged one. */
  public static final String LIBRARY_PROPERTY = "open.native.library";
  /** System property: {@code jnr} or {@code ffm} to force a binding. */
  public static final String BINDING_PROPERTY = "open.native.binding";
  /** The ABI version this code was written against (rust/src/lib.rs ABI_VERSION). */
  public static final int ABI_VERSION = 1;

  private NativeLibrary() {}

  /**
   * Locates, loads and checks the library.
   *
   * @return the bound library and where it came from
   * @throws NativeLoadException naming the platform and every place searched
   */
  public static Loaded load() {
    return load(System.getProperty(BINDING_PROPERTY, ""));
  }

  /**
   * Locates, loads and checks the library with a given binding (benchmarks compare them).
   *
   * @param bindingName {@code "jnr"}, {@code "ffm"}, or empty for the default
   * @return the bound library and where it came from
   * @throws NativeLoadException naming the platform and every place searched
   */
  public static Loaded load(String bindingName) {
    String platform = platform();
    List<String> searched = new ArrayList<>();
    Path file = locate(platform, searched);
    Binding binding = bind(file, platform, bindingName);
    int version = binding.abiVersion();
    if (version != ABI_VERSION) {
      throw new NativeLoadException("libopen_native at " + file + " has ABI version " + version
          + ", this open-native needs " + ABI_VERSION + "; rebuild rust/ or fix "
          + LIBRARY_PROPERTY, null);
    }
    return new Loaded(binding, file);
  }

  /**
   * A bound library.
   *
   * @param binding the calls
   * @param file the library file loaded
   */
  public record Loaded(Binding binding, Path file) {}

  /** Returns {@code <os>-<arch>}, e.g. {@code linux-x86_64}, as used in resource paths. */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osId = os.startsWith("linux") ? "linux"
        : os.startsWith("mac") || os.startsWith("darwin") ? "macos"
        : os.startsWith("windows") ? "windows"
        : os.replaceAll("[^a-z0-9]", "");
    String archId = switch (arch) {
      case "amd64", "x86_64", "x64" -> "x86_64";
      case "aarch64", "arm64" -> "aarch64";
      default -> arch.replaceAll("[^a-z0-9_]", "");
    };
    return osId + "-" + archId;
  }

  static String fileName(String platform) {
    return platform.startsWith("windows") ? "open_native.dll"
        : platform.startsWith("macos") ? "libopen_native.dylib"
        : "libopen_native.so";
  }

  private static Path locate(String platform, List<String> searched) {
    String override = System.getProperty(LIBRARY_PROPERTY);
    if (override != null && !override.isBlank()) {
      Path file = Path.of(override);
      if (Files.isReadable(file)) {
        return file;
      }
      searched.add("system property " + LIBRARY_PROPERTY + "=" + override + " (no such file)");
      throw failure(platform, searched, null);
    }
    searched.add("system property " + LIBRARY_PROPERTY + " (not set)");
    String resource = "native/" + platform + "/" + fileName(platform);
    try (InputStream in = NativeLibrary.class.getResourceAsStream("/" + resource)) {
      if (in == null) {
        searched.add("classpath resource " + resource + " (not found)");
        throw failure(platform, searched, null);
      }
      Path dir = Files.createTempDirectory("open-native-");
      Path file = dir.resolve(fileName(platform));
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      file.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      searched.add("classpath resource " + resource + " (could not be extracted: " + e + ")");
      throw failure(platform, searched, e);
    }
  }

  private static NativeLoadException failure(String platform, List<String> searched,
      Throwable cause) {
    return new NativeLoadException("no loadable libopen_native for platform " + platform
        + "; searched: " + String.join("; ", searched), cause);
  }

  private static Binding bind(Path file, String platform, String bindingName) {
    String requested = bindingName.trim().toLowerCase(Locale.ROOT);
    int java = Runtime.version().feature();
    boolean ffm = switch (requested) {
      case "ffm" -> {
        if (java < 22) {
          throw new NativeLoadException(BINDING_PROPERTY + "=ffm needs Java 22 or newer, this is "
              + "Java " + java, null);
        }
        yield true;
      }
      case "jnr" -> false;
      case "" -> java >= 22 && ffmAvailable();
      default -> throw new NativeLoadException(BINDING_PROPERTY + " must be jnr or ffm, was '"
          + requested + "'", null);
    };
    try {
      return ffm ? newFfm(file) : new JnrBinding(file);
    } catch (LinkageError | RuntimeException e) {
      throw new NativeLoadException("cannot load " + file + " for platform " + platform
          + " with the " + (ffm ? "FFM" : "JNR-FFI") + " binding: " + e, e);
    }
  }

  private static boolean ffmAvailable() {
    try {
      Class.forName("dev.open.rust.internal.FfmBinding");
      return true;
    } catch (ClassNotFoundException e) {
      return false; // running from classes rather than the multi-release jar
    }
  }

  private static Binding newFfm(Path file) {
    try {
      var constructor = Class.forName("dev.open.rust.internal.FfmBinding")
          .getDeclaredConstructor(Path.class);
      constructor.setAccessible(true);
      return (Binding) constructor.newInstance(file);
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new NativeLoadException("the FFM binding is not in this jar (it is built with a "
          + "JDK >= 22 into META-INF/versions/22): " + e, e);
    }
  }
}
