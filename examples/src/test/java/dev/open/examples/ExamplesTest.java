package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

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
  void flagshipFindsTheDuplicatesItPlanted() throws Exception {
    String out = stdoutOf(() -> Flagship.main(new String[] {"100"}));
    assertThat(out).contains("duplicate documents: 2")
        .contains("fetch-corpus   SUCCEEDED         3")
        .contains("8 succeeded, 0 failed, 0 skipped, 0 cancelled");
  }

  @Test
  void termCountsAndSimilarityAreRight() {
    assertThat(Flagship.termCounts("Run, run! RUN dags.")).isEqualTo(Map.of("run", 3, "dags", 1));
    double[][] v = {{1, 0}, {0.6, 0.8}};
    double[][] s = Flagship.multiply(v, Flagship.transpose(v));
    assertThat(s[0][1]).isEqualTo(0.6);
    assertThat(s[1][1]).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(Flagship.generateCorpus(3, 1)).extracting(Flagship.Document::id)
        .isEqualTo(List.of("doc-0", "doc-1", "doc-2"));
  }
}
