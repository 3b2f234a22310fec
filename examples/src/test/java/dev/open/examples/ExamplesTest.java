package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.open.dag.array.NDArray;
import dev.open.report.Browser;

class ExamplesTest {

  private static String stdoutOf(ThrowingRunnable main) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      main.run();
    } finally {
      System.setOut(original);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void quickStartPrintsWhatTheReadmePromises() throws Exception {
    assertThat(stdoutOf(() -> QuickStart.main(new String[0])))
        .startsWith("4 words, 21 letters\n4 succeeded, 0 failed");
  }

  @Test
  void flagshipRunsJavaRustAndPythonNodes() throws Exception {
    String python = System.getProperty("open.python", "python3");
    Process probe = new ProcessBuilder(python, "-c", "import sklearn").start();
    assumeThat(probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0)
        .as("scikit-learn is importable by " + python + " (make test uses the project venv)")
        .isTrue();

    String out = stdoutOf(() -> Flagship.main(new String[] {"100"}));

    assertThat(out).contains("duplicate documents (Rust BLAKE3): 2")
        .contains("clusters (Python, scikit-learn KMeans): 4 clusters")
        .contains("fetch-corpus   java     SUCCEEDED         3")
        .contains("similarity     native   SUCCEEDED")
        .contains("clusters       python   SUCCEEDED")
        .contains("0 failed, 0 skipped, 0 cancelled");

    // its report opens in a real browser and draws every node
    Path html = Path.of("target", "flagship-report.html").toAbsolutePath();
    assertThat(out).contains("Report written to " + html);
    Browser browser = Browser.require();
    Map<String, String> page = browser.load(html);
    assertThat(page).containsEntry("rendered", "true").doesNotContainKey("errors");
    long nodes = out.lines().filter(l -> l.matches("\\S+\\s+(java|native|python)\\s+SUCCEEDED.*"))
        .count();
    assertThat(page).containsEntry("graph-boxes", Long.toString(nodes))
        .containsEntry("timeline-bars", Long.toString(nodes));
    browser.screenshot(html, Path.of("target", "report-screenshots", "flagship.png"));
    // the Python calls sit in lanes of the workers that ran them: pids the run printed
    Matcher pids = Pattern.compile("workers \\[([0-9, ]+)\\]")
        .matcher(out);
    assertThat(pids.find()).as(out).isTrue();
    String written = Files.readString(html);
    assertThat(List.of(pids.group(1).split(", ")))
        .anyMatch(pid -> written.contains("\"python \u00b7 pid " + pid + "\""));
  }

  @Test
  void vectorsAreUnitRowsAndTheTransposeIsRight() {
    var profiles = List.of(new Flagship.Profile("a", Map.of("x", 3L, "y", 4L), "h1"),
        new Flagship.Profile("b", Map.of("y", 2L), "h2"));
    NDArray v = Flagship.normalizedVectors(profiles, List.of("x", "y"));
    assertThat(v.toDoubleArray()).containsExactly(0.6, 0.8, 0.0, 1.0);
    assertThat(Flagship.transpose(v).toDoubleArray()).containsExactly(0.6, 0.0, 0.8, 1.0);
    assertThat(Flagship.topTerms(profiles, 1)).containsExactly("y");
  }
}
