package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.open.dag.Dag;
import dev.open.cluster.ClusterExecutor;
import dev.open.ports.WorkerPool;
import dev.open.report.HtmlReport;
import dev.open.rust.RustKernels;

/**
 * The library's modules show a user their API and nothing else: the exports are exactly the
 * documented packages, a consumer module cannot compile against an internal package, and no
 * public signature of open-ports names a Jackson type.
 */
class ModuleBoundaryTest {

  private static final Map<String, Set<String>> EXPORTS = Map.of(
      "dev.open.dag", Set.of("dev.open.dag", "dev.open.dag.array", "dev.open.dag.event",
          "dev.open.dag.export", "dev.open.dag.metrics", "dev.open.dag.policy",
          "dev.open.dag.spi", "dev.open.dag.store"),
      "dev.open.rust", Set.of("dev.open.rust", "dev.open.rust.internal.jnr"),
      "dev.open.ports", Set.of("dev.open.ports"),
      "dev.open.cluster", Set.of("dev.open.cluster"),
      "dev.open.report", Set.of("dev.open.report"));

  @Test
  void eachModuleExportsExactlyItsApi() {
    for (ModuleReference module : libraryModules()) {
      ModuleDescriptor descriptor = module.descriptor();
      Set<String> exported = descriptor.exports().stream()
          .peek(e -> assertThat(e.isQualified())
              .as("%s exports %s to named modules only", descriptor.name(), e.source()).isFalse())
          .map(ModuleDescriptor.Exports::source)
          .collect(Collectors.toCollection(TreeSet::new));
      assertThat(exported).as(descriptor.name())
          .containsExactlyInAnyOrderElementsOf(EXPORTS.get(descriptor.name()));
      assertThat(descriptor.opens()).as("%s opens nothing", descriptor.name()).isEmpty();
    }
  }

  @Test
  void aConsumerModuleCannotCompileAgainstAnInternalPackage(@TempDir Path dir) throws Exception {
    String modulePath = modulePath();
    String publicUse = """
        package consumer;
        public class Uses {
          public static Object pool() { return dev.open.ports.WorkerPool.python(); }
        }
        """;
    assertThat(compileConsumer(dir.resolve("ok"), modulePath, publicUse)).isEmpty();

    String internalUse = """
        package consumer;
        public class Uses {
          public static Object limit() {
            return dev.open.ports.internal.protocol.FrameCodec.MAX_DEPTH;
          }
        }
        """;
    assertThat(compileConsumer(dir.resolve("internal"), modulePath, internalUse))
        .contains("package dev.open.ports.internal.protocol is not visible");
  }

  @Test
  void noPublicSignatureOfPortsNamesAJacksonType() throws Exception {
    List<String> leaks = new ArrayList<>();
    for (Class<?> type : exportedPublicTypes(WorkerPool.class)) {
      List<String> signatures = new ArrayList<>();
      signatures.add(String.valueOf(type.getGenericSuperclass()));
      Stream.of(type.getGenericInterfaces()).map(String::valueOf).forEach(signatures::add);
      for (Method m : type.getDeclaredMethods()) {
        if (isVisible(m.getModifiers())) {
          signatures.add(m.toGenericString());
        }
      }
      for (var c : type.getDeclaredConstructors()) {
        if (isVisible(c.getModifiers())) {
          signatures.add(c.toGenericString());
        }
      }
      for (Field f : type.getDeclaredFields()) {
        if (isVisible(f.getModifiers())) {
          signatures.add(f.toGenericString());
        }
      }
      signatures.stream().filter(s -> s.contains("com.fasterxml")).forEach(leaks::add);
    }
    assertThat(leaks).isEmpty();
  }

  private static boolean isVisible(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  /** The public classes of the exported packages of the module that holds {@code anchor}. */
  private static List<Class<?>> exportedPublicTypes(Class<?> anchor) throws IOException,
      ClassNotFoundException {
    ModuleReference module = ModuleFinder.of(location(anchor)).findAll().iterator().next();
    Set<String> exported = module.descriptor().exports().stream()
        .map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
    List<Class<?>> types = new ArrayList<>();
    try (ModuleReader reader = module.open(); Stream<String> names = reader.list()) {
      for (String name : names.filter(n -> n.endsWith(".class")).toList()) {
        String className = name.substring(0, name.length() - 6).replace('/', '.');
        int dot = className.lastIndexOf('.');
        if (dot > 0 && exported.contains(className.substring(0, dot))
            && !className.endsWith("package-info")) {
          Class<?> type = Class.forName(className, false, anchor.getClassLoader());
          if (Modifier.isPublic(type.getModifiers())) {
            types.add(type);
          }
        }
      }
    }
    assertThat(types).as("public types of %s", module.descriptor().name()).isNotEmpty();
    return types;
  }

  private static List<ModuleReference> libraryModules() {
    Path[] locations = Stream.of(Dag.class, RustKernels.class, WorkerPool.class,
            ClusterExecutor.class, HtmlReport.class)
        .map(ModuleBoundaryTest::location).toArray(Path[]::new);
    List<ModuleReference> modules = new ArrayList<>(ModuleFinder.of(locations).findAll());
    assertThat(modules).extracting(m -> m.descriptor().name())
        .containsExactlyInAnyOrder("dev.open.dag", "dev.open.rust", "dev.open.ports",
            "dev.open.cluster", "dev.open.report");
    return modules;
  }

  /** The module path of the library and everything it requires: this JVM's class path. */
  private static String modulePath() {
    return System.getProperty("java.class.path");
  }

  private static Path location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Compiles a module {@code consumer} requiring dev.open.ports; returns javac's diagnostics. */
  private static String compileConsumer(Path dir, String modulePath, String source)
      throws IOException {
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("consumer"));
    Files.writeString(src.resolve("module-info.java"),
        "module consumer { requires dev.open.ports; }\n");
    Files.writeString(src.resolve("consumer/Uses.java"), source);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    List<String> options = List.of("-d", dir.resolve("out").toString(),
        "--module-path", modulePath, "-Xlint:-requires-automatic");
    try (var files = javac.getStandardFileManager(null, null, null)) {
      boolean ok = javac.getTask(diagnostics, files, null, options, null,
          files.getJavaFileObjects(src.resolve("module-info.java"),
              src.resolve("consumer/Uses.java"))).call();
      return ok ? diagnostics.toString().strip() : "failed: " + diagnostics;
    }
  }
}
