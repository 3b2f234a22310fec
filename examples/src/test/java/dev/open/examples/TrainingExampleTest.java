package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.open.examples.TrainingExample.Evaluation;
import dev.open.examples.TrainingExample.Score;

/**
 * The training example, run once with Python workers (pandas, scikit-learn): the grid, the
 * choice of the best point, the retry of the injected failure and the held-out accuracy,
 * recomputed from the predictions.
 */
class TrainingExampleTest {
  private static TrainingExample.Result result;

  @BeforeAll
  static void train() throws Exception {
    PythonModules.assumeImportable("numpy", "pandas", "sklearn");
    result = TrainingExample.run(ExampleWorkers.repo());
  }

  @Test
  void everyGridPointIsScoredInGridOrder() {
    List<Score> scores = result.scores();
    int gammas = TrainingExample.GAMMA_VALUES.length;
    assertThat(scores).hasSize(TrainingExample.C_VALUES.length * gammas);
    for (int i = 0; i < scores.size(); i++) {
      Score s = scores.get(i);
      assertThat(s.index()).isEqualTo(i);
      assertThat(s.c()).isEqualTo(TrainingExample.C_VALUES[i / gammas]);
      assertThat(s.gamma()).isEqualTo(TrainingExample.GAMMA_VALUES[i % gammas]);
      assertThat(s.mean()).isBetween(0.0, 1.0);
      assertThat(s.std()).isGreaterThanOrEqualTo(0.0);
    }
  }

  @Test
  void theBestPointHasTheHighestScoreAndBeatsAFloor() {
    List<Score> scores = result.scores();
    double highest = scores.stream().mapToDouble(Score::mean).max().orElseThrow();
    int first = IntStream.range(0, scores.size())
        .filter(i -> scores.get(i).mean() == highest).findFirst().orElseThrow();
    assertThat(result.best()).isEqualTo(scores.get(first));
    assertThat(result.best().mean()).isGreaterThan(0.95);
    // gamma = 1 on some twenty standardised features: every training row is its own island
    Score narrow = scores.get(2 * TrainingExample.GAMMA_VALUES.length - 1);   // C = 1, gamma = 1
    assertThat(narrow.gamma()).isEqualTo(1.0);
    assertThat(narrow.mean()).isLessThan(0.8);
  }

  @Test
  void theInjectedFailureCostsExactlyOneRetry() {
    assertThat(result.gridAttempts()).isEqualTo(result.scores().size() + 1);
  }

  @Test
  void theHeldOutAccuracyIsWhatThePredictionsSay() {
    Evaluation e = result.evaluation();
    assertThat(e.predictions()).hasSameSizeAs(e.labels()).containsOnly(0L, 1L);
    assertThat(e.labels()).hasSize(143);   // a quarter of the 569 tumours
    int correct = 0;
    for (int i = 0; i < e.labels().length; i++) {
      correct += e.predictions()[i] == e.labels()[i] ? 1 : 0;
    }
    assertThat(e.accuracy()).isCloseTo((double) correct / e.labels().length, within(1e-12))
        .isGreaterThan(0.9);
    assertThat(result.features()).contains("mean radius").doesNotContain("mean area");
  }

  @Test
  void theHtmlReportIsWritten() throws Exception {
    assertThat(result.html()).isAbsolute().exists();
    assertThat(Files.size(result.html())).isPositive();
  }
}
