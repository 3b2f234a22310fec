package dev.open.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every Java snippet of README.md and docs/*.md compiles against the library as built: a guide
 * cannot drift from the code unnoticed.
 *
 * <p>A snippet is compiled as the body of a method, in a class that imports every public
 * package of OPEN, Hazelcast's {@code HazelcastInstance}, {@code java.util}, {@code java.time},
 * {@code java.nio.file} and the made-up
 * business of {@link DocsDomain}. The names a snippet uses without declaring them are declared
 * in an HTML comment right above its fence, which readers of the rendered page do not see:
 *
 * <pre>
 * &lt;!-- compile: DagBuilder b; WorkerPool python; Node&lt;NDArray&gt; x; --&gt;
 * </pre>
 *
 * These become fields of the class, so they need no value. {@code <!-- compile: members -->}
 * compiles the snippet as members of the class instead (a method or a class of its own), and
 * {@code <!-- compile: file -->} as a whole source file of its own (package, imports, class) —
 * for a guide that quotes a tested file. Every {@code .md} under docs/ is read.
 */
class DocSnippetsTest {
  static final Path REPO = Path.of(System.getProperty("open.repo", "..")).toAbsolutePath();
  private static final Pattern FENCE = Pattern.compile("(?m)^```java\\n(.*?)^```",
      Pattern.DOTALL);
  private static final Pattern CONTEXT = Pattern.compile(
      "<!-- compile: ((?:(?!-->).)*) -->\\s*\\z", Pattern.DOTALL);
  private static final String IMPORTS = """
      import dev.open.dag.*;
      import dev.open.dag.array.*;
      import dev.open.dag.event.*;
      import dev.open.dag.export.*;
      import dev.open.dag.metrics.*;
      import dev.open.dag.policy.*;
      import dev.open.dag.spi.*;
      import dev.open.dag.store.*;
      import dev.open.ports.*;
      import dev.open.rust.*;
      import dev.open.cluster.*;
      import dev.open.report.*;
      import com.hazelcast.core.HazelcastInstance;
      import com.sun.net.httpserver.HttpServer;
      import io.micrometer.prometheusmetrics.PrometheusConfig;
      import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
      import java.io.OutputStream;
      import java.net.InetSocketAddress;
      import java.nio.charset.StandardCharsets;
      import dev.open.examples.docs.DocsDomain.*;
      import java.util.*;
      import java.util.concurrent.*;
      import java.time.*;
      import java.nio.*;
      import java.nio.file.*;
      """;

  /** One ```java block: where it is, its code, and the context comment above it, if any. */
  record Snippet(String file, int line, String code, String context) {
    @Override
    public String toString() {
      return file + ":" + line;
    }
  }

  static Stream<Snippet> snippets() throws IOException {
    List<Path> files = new ArrayList<>();
    files.add(REPO.resolve("README.md"));
    try (Stream<Path> docs = Files.walk(REPO.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    List<Snippet> all = new ArrayList<>();
    for (Path file : files) {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      Matcher fence = FENCE.matcher(text);
      while (fence.find()) {
        String before = text.substring(Math.max(0, fence.start() - 2000), fence.start());
        Matcher context = CONTEXT.matcher(before);
        int line = (int) text.substring(0, fence.start()).chars().filter(c -> c == '\n').count() + 1;
        all.add(new Snippet(REPO.relativize(file).toString(), line, fence.group(1),
            context.find() ? context.group(1).trim() : ""));
      }
    }
    return all.stream();
  }

  @Test
  void theGuidesHaveSnippetsToCompile() throws IOException {
    assertThat(snippets().count()).as("java snippets in README.md and docs/").isGreaterThan(10);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("snippets")
  void compiles(Snippet snippet) {
    String className = "Snippet_" + snippet.file().replaceAll("\\W", "_") + "_" + snippet.line();
    boolean members = snippet.context().equals("members");
    if (snippet.context().equals("file")) {
      Matcher type = Pattern.compile("(?m)^public (?:final )?class (\\w+)").matcher(snippet.code());
      assertThat(type.find()).as("%s: a file snippet declares a public class", snippet).isTrue();
      List<String> errors = compile(type.group(1), snippet.code());
      assertThat(errors).as("%s does not compile:%n%s", snippet, numbered(snippet.code()))
          .isEmpty();
      return;
    }
    String source = "package docsnippets;\n" + IMPORTS + "@SuppressWarnings(\"all\")\nclass "
        + className + " {\n"
        + (members ? snippet.code() : snippet.context() + "\n  void snippet() throws Exception {\n"
            + snippet.code() + "  }\n")
        + "}\n";
    List<String> errors = compile(className, source);
    assertThat(errors).as("%s does not compile; the snippet as compiled:%n%s", snippet,
        numbered(source)).isEmpty();
  }

  /** Compiles one source in memory against the test class path; returns the errors. */
  static List<String> compile(String className, String source) {
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///docsnippets/"
        + className + ".java"), JavaFileObject.Kind.SOURCE) {
      @Override
      public CharSequence getCharContent(boolean ignoreEncodingErrors) {
        return source;
      }
    };
    var fileManager = compiler.getStandardFileManager(diagnostics, Locale.ROOT,
        StandardCharsets.UTF_8);
    Path out;
    try {
      out = Files.createTempDirectory("doc-snippets");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    List<String> options = List.of("-proc:none", "-d", out.toString(), "-classpath",
        System.getProperty("java.class.path"));
    compiler.getTask(null, fileManager, diagnostics, options, null, List.of(file)).call();
    List<String> errors = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() == Diagnostic.Kind.ERROR) {
        errors.add("line " + d.getLineNumber() + ": " + d.getMessage(Locale.ROOT));
      }
    }
    return errors;
  }

  private static String numbered(String source) {
    StringBuilder sb = new StringBuilder();
    String[] lines = source.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      sb.append(String.format(Locale.ROOT, "%3d  %s%n", i + 1, lines[i]));
    }
    return sb.toString();
  }
}
