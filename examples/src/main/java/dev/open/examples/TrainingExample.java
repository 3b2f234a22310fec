package dev.open.examples;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.array.NDArray;
import dev.open.dag.policy.RetryPolicy;
import dev.open.ports.RemoteException;
import dev.open.ports.WorkerCrashedException;
import dev.open.ports.WorkerPool;

/**
 * Machine learning ({@code make example-training}): choose a model's hyper-parameters by
 * cross-validation, in parallel, and test the winner on rows it never saw.
 *
 * <ol>
 *   <li>Python prepares the features of scikit-learn's bundled breast cancer data with pandas
 *       (a stratified split; skewed features log-transformed, near-duplicates dropped, decided on
 *       the training rows only);
 *   <li>Java lays out a grid of 16 points (C x gamma of an RBF support vector machine);
 *   <li>each point is one element of a {@code map} node: a Python worker scores it by 5-fold
 *       cross-validation. The first attempt of one point fails on purpose (a simulated transient
 *       fault), so the node's retry policy can be seen at work, in the output and in the HTML
 *       report;
 *   <li>Java picks the best point (fan-in);
 *   <li>Python fits that model on all training rows and predicts the held-out rows in one batch;
 *       Java scores the predictions.
 * </ol>
 *
 * <p>It writes an HTML report of the run to {@code target/training-report.html}. Run from the
 * repository root; {@code -Dopen.python} names the interpreter (it needs scikit-learn).
 */
public final class TrainingExample {
  /** The grid: every C with every gamma. */
  static final double[] C_VALUES = {0.1, 1, 10, 100};
  static final double[] GAMMA_VALUES = {0.001, 0.01, 0.1, 1};
  static final int FOLDS = 5;
  static final int SEED = 0;
  /** The grid point whose first attempt fails on purpose. */
  static final int FLAKY_POINT = 6;

  private TrainingExample() {}

  /** The prepared data, as {@code open_examples.training:prepare} returns it. */
  record Dataset(NDArray xTrain, NDArray yTrain, NDArray xTest, NDArray yTest,
      List<String> features, List<String> logTransformed, List<String> dropped) {}

  /** One grid point with the training rows it is scored on. */
  record Trial(int index, double c, double gamma, NDArray x, NDArray y) {}

  /**
   * A grid point's cross-validated accuracy.
   *
   * @param index the point's place in the grid (C-major)
   * @param c the SVM's C
   * @param gamma the RBF kernel's gamma
   * @param mean the mean accuracy over the folds
   * @param std its standard deviation over the folds
   */
  public record Score(int index, double c, double gamma, double mean, double std) {}

  /**
   * The best model on the held-out rows.
   *
   * @param predictions the predicted label of each held-out row (0 malignant, 1 benign)
   * @param labels the true labels
   * @param accuracy the share of correct predictions, as Python computed it
   */
  public record Evaluation(long[] predictions, long[] labels, double accuracy) {}

  /**
   * What a run produced.
   *
   * @param scores every grid point's score, in grid order
   * @param best the best point: the highest mean accuracy, the first in grid order on a tie
   * @param gridAttempts the attempts the cross-validation node made over all its elements
   * @param evaluation the best model on the held-out rows
   * @param features the features the model used
   * @param html the HTML report
   */
  public record Result(List<Score> scores, Score best, int gridAttempts, Evaluation evaluation,
      List<String> features, Path html) {}

  public static void main(String[] args) throws Exception {
    run(ExampleWorkers.repo());
  }

  /**
   * Starts the workers, runs the model selection, prints what it found and stops the workers.
   *
   * @param repo the repository root (task modules)
   * @return what the run produced
   * @throws Exception when the run fails
   */
  public static Result run(Path repo) throws Exception {
    try (WorkerPool python = ExampleWorkers.python(repo)) {
      return run(python);
    }
  }

  /**
   * Runs the model selection on the given workers.
   *
   * @param python Python workers allowed to call {@code open_examples.*}, with scikit-learn
   * @return what the run produced
   * @throws Exception when the run fails
   */
  @SuppressWarnings("rawtypes")
  static Result run(WorkerPool python) throws Exception {
    DagBuilder b = Dag.builder("svm-model-selection");
    Node<Map> prepared = b.call("prepare",
        python.function("open_examples.training:prepare", Map.class));
    Node<Dataset> dataset = b.node("dataset").retain()
        .task(prepared, TrainingExample::dataset);
    Node<List<Trial>> grid = b.task("grid", dataset, TrainingExample::grid);
    Set<Integer> failedOnce = ConcurrentHashMap.newKeySet();
    Node<List<Score>> scores = b.node("cross-validate")
        .withTags("python")
        .withTimeout(Duration.ofSeconds(60))
        .withRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ofMillis(50))
            .handle(WorkerCrashedException.class)
            .handleIf(TrainingExample::isTransient)
            .build())
        .retain()
        .map(grid, trial -> crossValidate(python, trial,
            trial.index() == FLAKY_POINT && failedOnce.add(trial.index())));
    Node<Score> best = b.node("best").retain().task(scores, TrainingExample::best);
    Node<Map<String, Double>> bestParams = b.task("best-params", best,
        s -> Map.of("C", s.c(), "gamma", s.gamma()));
    Node<Map> inference = b.call("inference",
        python.function("open_examples.training:fit_predict", Map.class), prepared, bestParams);
    Node<Evaluation> evaluation = b.task("evaluate", dataset, inference,
        TrainingExample::evaluate);
    Dag dag = b.build();

    ExampleWorkers.Observed run = ExampleWorkers.runObserved(DagExecutor.builder()
        .withConcurrencyLimit("python", python.size())
        .withDeadline(Duration.ofMinutes(3)), dag, "training");
    RunReport report = run.report().orThrow();
    Path html = run.html();

    Dataset data = report.result(dataset);
    Result result = new Result(report.result(scores), report.result(best),
        report.node(scores).attempts(), report.result(evaluation), data.features(), html);
    print(result, data, python, report);
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // The tasks

  static Dataset dataset(Map<?, ?> prepared) {
    return new Dataset(array(prepared, "x_train"), array(prepared, "y_train"),
        array(prepared, "x_test"), array(prepared, "y_test"), strings(prepared, "features"),
        strings(prepared, "log_transformed"), strings(prepared, "dropped"));
  }

  static List<Trial> grid(Dataset data) {
    List<Trial> trials = new ArrayList<>();
    for (double c : C_VALUES) {
      for (double gamma : GAMMA_VALUES) {
        trials.add(new Trial(trials.size(), c, gamma, data.xTrain(), data.yTrain()));
      }
    }
    return trials;
  }

  /** Scores one grid point in a Python worker; {@code injectFailure} makes the call fail. */
  private static Score crossValidate(WorkerPool python, Trial trial, boolean injectFailure)
      throws Exception {
    Map<?, ?> out = ExampleWorkers.await(python.call("open_examples.training:cross_validate",
        List.of(trial.x(), trial.y(), Map.of("C", trial.c(), "gamma", trial.gamma())),
        Map.of("folds", FOLDS, "seed", SEED, "inject_failure", injectFailure)), Map.class);
    return new Score(trial.index(), trial.c(), trial.gamma(), number(out, "mean"),
        number(out, "std"));
  }

  /** The simulated transient fault (a {@code ConnectionError} in Python) is worth a retry. */
  static boolean isTransient(Throwable failure) {
    return failure instanceof RemoteException remote
        && "ConnectionError".equals(remote.remoteType());
  }

  static Score best(List<Score> scores) {
    Score best = null;
    for (Score score : scores) {
      if (best == null || score.mean() > best.mean()) {
        best = score;
      }
    }
    if (best == null) {
      throw new IllegalArgumentException("no grid point was scored");
    }
    return best;
  }

  static Evaluation evaluate(Dataset data, Map<?, ?> inference) {
    long[] predictions = array(inference, "predictions").toLongArray();
    long[] labels = data.yTest().toLongArray();
    if (predictions.length != labels.length) {
      throw new IllegalStateException(predictions.length + " predictions for " + labels.length
          + " held-out rows");
    }
    return new Evaluation(predictions, labels, number(inference, "accuracy"));
  }

  private static NDArray array(Map<?, ?> map, String key) {
    if (map.get(key) instanceof NDArray a) {
      return a;
    }
    throw new IllegalStateException("expected an array at '" + key + "', got " + map.get(key));
  }

  private static List<String> strings(Map<?, ?> map, String key) {
    if (map.get(key) instanceof List<?> list) {
      return list.stream().map(String::valueOf).toList();
    }
    throw new IllegalStateException("expected a list at '" + key + "', got " + map.get(key));
  }

  private static double number(Map<?, ?> map, String key) {
    if (map.get(key) instanceof Number n) {
      return n.doubleValue();
    }
    throw new IllegalStateException("expected a number at '" + key + "', got " + map.get(key));
  }

  // ---------------------------------------------------------------------------------------------

  private static void print(Result result, Dataset data, WorkerPool python, RunReport report) {
    StringBuilder out = new StringBuilder();
    int train = data.xTrain().dim(0);
    int test = data.xTest().dim(0);
    out.append(String.format(Locale.ROOT, "== %s: breast cancer data, %d training and %d"
        + " held-out rows, %d Python workers ==%n", report.dag().name(), train, test,
        python.size()));
    out.append(String.format(Locale.ROOT, "features (pandas): %d kept; %d log-transformed;"
        + " %d near-duplicates dropped: %s%n", data.features().size(),
        data.logTransformed().size(), data.dropped().size(), String.join(", ", data.dropped())));
    out.append(String.format(Locale.ROOT, "%d-fold cross-validated accuracy of StandardScaler +"
        + " SVC(rbf), one map element per grid point:%n", FOLDS));
    out.append(String.format(Locale.ROOT, "  %9s", "C \\ gamma"));
    for (double gamma : GAMMA_VALUES) {
      out.append(String.format(Locale.ROOT, "  %-17s", gamma));   // as wide as a cell
    }
    out.append('\n');
    for (int i = 0; i < C_VALUES.length; i++) {
      out.append(String.format(Locale.ROOT, "  %9s", C_VALUES[i]));
      for (int j = 0; j < GAMMA_VALUES.length; j++) {
        Score s = result.scores().get(i * GAMMA_VALUES.length + j);
        out.append(String.format(Locale.ROOT, "  %6.4f +- %.4f%s", s.mean(), s.std(),
            s.index() == result.best().index() ? "*" : " "));
      }
      out.append('\n');
    }
    Score best = result.best();
    out.append(String.format(Locale.ROOT, "best (*): C = %s, gamma = %s, accuracy %.4f%n",
        best.c(), best.gamma(), best.mean()));
    out.append(String.format(Locale.ROOT, "retries: %d grid points took %d attempts; the first"
        + " attempt of point %d failed on purpose (a simulated ConnectionError) and was retried%n",
        result.scores().size(), result.gridAttempts(), FLAKY_POINT));
    Evaluation e = result.evaluation();
    int correct = 0;
    int malignant = 0;
    int malignantFound = 0;
    for (int i = 0; i < e.labels().length; i++) {
      correct += e.predictions()[i] == e.labels()[i] ? 1 : 0;
      malignant += e.labels()[i] == 0 ? 1 : 0;
      malignantFound += e.labels()[i] == 0 && e.predictions()[i] == 0 ? 1 : 0;
    }
    out.append(String.format(Locale.ROOT, "held-out rows: accuracy %.4f (%d of %d);"
        + " malignant tumours found: %d of %d%n", e.accuracy(), correct, e.labels().length,
        malignantFound, malignant));
    out.append("HTML report: ").append(result.html()).append('\n');
    out.append("run: ").append(report.summary());
    System.out.println(out);
  }
}
