package dev.open.examples;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.array.NDArray;
import dev.open.dag.policy.RetryPolicy;
import dev.open.ports.WorkerCrashedException;
import dev.open.ports.WorkerPool;
import dev.open.rust.MeanVariance;
import dev.open.rust.MinMax;
import dev.open.rust.NativeBackend;

/**
 * Scientific computing ({@code make example-science}): where is a periodically pumped
 * oscillator stable?
 *
 * <p>The damped Mathieu equation {@code x'' + c x' + (delta + epsilon cos t) x = 0} describes a
 * pendulum whose stiffness is pumped: a swing, an ion in a trap, a ship rolling in waves. Its
 * motion dies out or grows without bound depending on {@code (delta, epsilon)}, in "tongues" of
 * instability rooted at {@code delta = n^2/4}. The DAG maps that out:
 *
 * <ol>
 *   <li>Java lays out a grid of 2,000 parameter sets (50 values of delta, 40 of epsilon) in 40
 *       batches of 50;
 *   <li>each batch is one element of a {@code map} node: a Python worker integrates it with
 *       SciPy's {@code solve_ivp} and returns, per set, the Floquet radius (stable when below 1),
 *       the amplitude of the response over its last period and its final displacement;
 *   <li>Rust kernels (the {@code native} backend) count the stable sets, and take the range of
 *       the radius, quantiles of the amplitude and the mean and variance of the growth rate;
 *   <li>a summary fans it all in, with the stability chart;
 *   <li>when {@code julia} is on the PATH, a Julia worker checks one set with its own RK4 solver.
 * </ol>
 *
 * <p>It prints the chart and the statistics and writes an HTML report of the run to {@code
 * target/science-report.html}. Run from the repository root; {@code -Dopen.python} names the
 * interpreter (it needs SciPy), {@code -Dopen.julia} the Julia executable.
 */
public final class ScienceExample {
  /** The damping {@code c}. */
  static final double DAMPING = 0.1;
  /** How many periods ({@code 2 pi}) each response is followed. */
  static final int PERIODS = 4;
  /** Samples of the response per period. */
  static final int SAMPLES = 100;
  /** Grid columns (values of delta), also the size of a batch. */
  static final int DELTAS = 50;
  /** Grid rows (values of epsilon), also the number of batches. */
  static final int EPSILONS = 40;
  static final double DELTA_MIN = -0.5;
  static final double DELTA_STEP = 0.06;
  static final double EPSILON_STEP = 0.05;
  /** Columns of a batch's result, as {@code open_examples.science.COLUMNS}. */
  static final int COLUMNS = 5;
  /** The amplitude quantiles reported. */
  static final double[] LEVELS = {0.5, 0.9, 0.99, 1.0};

  private ScienceExample() {}

  /** One batch: a row of the grid (one epsilon, every delta). */
  record Batch(int row, double[] delta, double[] epsilon) {}

  /**
   * Every parameter set of the sweep and what the integration found, indexed {@code row *
   * DELTAS + column} (row: epsilon, column: delta).
   *
   * @param delta the stiffness offset of each set
   * @param epsilon the pumping strength of each set
   * @param radius the Floquet radius: the motion decays when it is below 1
   * @param amplitude max |x| over the last period, from x = 1, x' = 0
   * @param xEnd x at the end of the last period
   */
  public record Sweep(double[] delta, double[] epsilon, double[] radius, double[] amplitude,
      double[] xEnd) {

    /** Returns the number of parameter sets. */
    public int size() {
      return radius.length;
    }

    /** Returns the index of a grid row (epsilon) and column (delta). */
    public static int index(int row, int column) {
      return row * DELTAS + column;
    }
  }

  /**
   * What the summary node found.
   *
   * @param stable how many sets are stable (Rust {@code sum} over 0/1 flags)
   * @param radius the smallest and largest Floquet radius (Rust {@code min_max})
   * @param amplitudeQuantiles quantiles {@code LEVELS} of the amplitude (Rust {@code quantiles})
   * @param growth mean and variance of the growth rate {@code ln(radius) / 2 pi} of the unstable
   *     sets (Rust {@code mean_variance})
   * @param tongueOnsets for the tongues n = 1, 2, 3: the smallest epsilon at which the grid
   *     column nearest {@code delta = n^2/4} is unstable, NaN when it is stable throughout
   * @param chart the stability chart, one text line per epsilon, largest first
   */
  public record Summary(int stable, MinMax radius, double[] amplitudeQuantiles,
      MeanVariance growth, double[] tongueOnsets, String chart) {}

  /**
   * What a run produced.
   *
   * @param sweep every parameter set and its results
   * @param summary the summary node's value
   * @param juliaRadius the Floquet radius of the set (delta = 1, epsilon = 0) as Julia's RK4
   *     found it; empty when Julia is not installed
   * @param html the HTML report
   */
  public record Result(Sweep sweep, Summary summary, OptionalDouble juliaRadius, Path html) {}

  public static void main(String[] args) throws Exception {
    run(ExampleWorkers.repo());
  }

  /**
   * Starts the workers (Julia's only when it is installed), runs the sweep, prints what it
   * found and stops the workers.
   *
   * @param repo the repository root (task modules)
   * @return what the run produced
   * @throws Exception when the run fails
   */
  public static Result run(Path repo) throws Exception {
    String julia = System.getProperty("open.julia", "julia");
    boolean withJulia = starts(julia);
    try (NativeBackend rust = NativeBackend.create();
        WorkerPool python = ExampleWorkers.python(repo);
        WorkerPool juliaPool = withJulia ? startJulia(repo, julia) : null) {
      if (juliaPool == null) {
        System.out.println("SKIPPED: the Julia cross-check ('" + julia + "' is not on the PATH;"
            + " install Julia 1.9+ or pass -Dopen.julia=/path/to/julia)");
      }
      return run(rust, python, juliaPool);
    }
  }

  /**
   * Runs the sweep on the given backends.
   *
   * @param rust the Rust kernels
   * @param python Python workers allowed to call {@code open_examples.*}, with SciPy
   * @param julia Julia workers allowed to call {@code OdeTasks}, or null to skip that step
   * @return what the run produced
   * @throws Exception when the run fails
   */
  static Result run(NativeBackend rust, WorkerPool python, WorkerPool julia) throws Exception {
    DagBuilder b = Dag.builder("mathieu-stability");
    Node<List<Batch>> grid = b.task("grid", ScienceExample::grid);
    Node<List<double[]>> batches = b.node("simulate")
        .withTags("python")
        .withTimeout(Duration.ofSeconds(60))
        .withRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ZERO)
            .handle(WorkerCrashedException.class).build())
        .map(grid, batch -> simulate(python, batch));
    Node<Sweep> sweep = b.node("collect").retain().task(batches, ScienceExample::collect);

    Node<double[]> stableFlags = b.task("stable-flags", sweep, s -> stabilityFlags(s.radius()));
    Node<double[]> radii = b.task("radii", sweep, Sweep::radius);
    Node<double[]> amplitudes = b.task("amplitudes", sweep, Sweep::amplitude);
    Node<double[]> growthRates = b.task("growth-rates", sweep, ScienceExample::growthRates);
    Node<double[]> levels = b.task("levels", () -> LEVELS.clone());
    Node<Double> stable = b.call("stable-count", rust.function("sum", Double.class), stableFlags);
    Node<MinMax> radiusRange = b.call("radius-range", rust.function("min_max", MinMax.class),
        radii);
    Node<double[]> quantiles = b.call("amplitude-quantiles",
        rust.function("quantiles", double[].class), amplitudes, levels);
    Node<MeanVariance> growth = b.call("growth-stats",
        rust.function("mean_variance", MeanVariance.class), growthRates);
    Node<Summary> summary = b.task("summary", sweep, stable, radiusRange, quantiles, growth,
        (s, count, range, q, g) -> new Summary((int) Math.round(count), range, q, g,
            tongueOnsets(s), chart(s)));
    Node<Double> juliaCheck = julia == null ? null
        : b.node("julia-check").withTimeout(Duration.ofMinutes(2))
            .task(sweep, s -> juliaRadius(julia, s));
    Dag dag = b.build();

    ExampleWorkers.Observed run = ExampleWorkers.runObserved(DagExecutor.builder()
        .withConcurrencyLimit("python", python.size())
        .withDeadline(Duration.ofMinutes(3)), dag, "science");
    RunReport report = run.report().orThrow();
    Path html = run.html();

    Result result = new Result(report.result(sweep), report.result(summary),
        juliaCheck == null ? OptionalDouble.empty() : OptionalDouble.of(report.result(juliaCheck)),
        html);
    print(result, python, report);
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // The tasks

  /** The grid in batches: row j has epsilon = j * 0.05, column i has delta = -0.5 + i * 0.06. */
  static List<Batch> grid() {
    List<Batch> batches = new ArrayList<>(EPSILONS);
    for (int row = 0; row < EPSILONS; row++) {
      double[] delta = new double[DELTAS];
      double[] epsilon = new double[DELTAS];
      for (int column = 0; column < DELTAS; column++) {
        delta[column] = DELTA_MIN + column * DELTA_STEP;
        epsilon[column] = row * EPSILON_STEP;
      }
      batches.add(new Batch(row, delta, epsilon));
    }
    return batches;
  }

  /** One batch in a Python worker: its result rows, flattened (columns as in {@link Sweep}). */
  private static double[] simulate(WorkerPool python, Batch batch) throws Exception {
    NDArray rows = ExampleWorkers.await(python.call("open_examples.science:mathieu_batch",
        batch.delta(), batch.epsilon(), DAMPING, PERIODS, SAMPLES), NDArray.class);
    if (rows.ndim() != 2 || rows.dim(0) != batch.delta().length || rows.dim(1) != COLUMNS
        || rows.order() != NDArray.Order.C) {
      throw new IllegalStateException("batch " + batch.row() + ": expected a C-order array of "
          + batch.delta().length + " x " + COLUMNS + ", got " + rows);
    }
    return rows.toDoubleArray();
  }

  /** Fans the batches back in, in grid order. */
  static Sweep collect(List<double[]> batches) {
    int n = batches.stream().mapToInt(rows -> rows.length / COLUMNS).sum();
    double[][] columns = new double[COLUMNS][n];
    int i = 0;
    for (double[] rows : batches) {
      for (int r = 0; r < rows.length / COLUMNS; r++, i++) {
        for (int c = 0; c < COLUMNS; c++) {
          columns[c][i] = rows[r * COLUMNS + c];
        }
      }
    }
    return new Sweep(columns[0], columns[1], columns[2], columns[3], columns[4]);
  }

  static double[] stabilityFlags(double[] radius) {
    return Arrays.stream(radius).map(r -> r < 1 ? 1.0 : 0.0).toArray();
  }

  /** The growth rate per unit time of the unstable sets: the response grows like exp(rate t). */
  static double[] growthRates(Sweep sweep) {
    return Arrays.stream(sweep.radius()).filter(r -> r >= 1)
        .map(r -> Math.log(r) / (2 * Math.PI)).toArray();
  }

  /** The grid column nearest a value of delta. */
  static int column(double delta) {
    long column = Math.round((delta - DELTA_MIN) / DELTA_STEP);
    return (int) Math.max(0, Math.min(DELTAS - 1, column));
  }

  static double[] tongueOnsets(Sweep sweep) {
    double[] onsets = new double[3];
    for (int n = 1; n <= 3; n++) {
      int column = column(n * n / 4.0);
      onsets[n - 1] = Double.NaN;
      for (int row = 0; row < EPSILONS; row++) {
        if (sweep.radius()[Sweep.index(row, column)] >= 1) {
          onsets[n - 1] = sweep.epsilon()[Sweep.index(row, column)];
          break;
        }
      }
    }
    return onsets;
  }

  /** The stability chart: '.' stable, '#' unstable; epsilon upwards, delta across. */
  static String chart(Sweep sweep) {
    StringBuilder chart = new StringBuilder();
    for (int row = EPSILONS - 1; row >= 0; row--) {
      chart.append(String.format(Locale.ROOT, "  eps %4.2f |", row * EPSILON_STEP));
      for (int column = 0; column < DELTAS; column++) {
        chart.append(sweep.radius()[Sweep.index(row, column)] < 1 ? '.' : '#');
      }
      chart.append('\n');
    }
    // the axis under the columns: the first, the middle and the last value of delta
    StringBuilder axis = new StringBuilder("  delta    |");
    int origin = axis.length();
    String last = fmt(DELTA_MIN + (DELTAS - 1) * DELTA_STEP);
    appendAt(axis, origin, fmt(DELTA_MIN));
    appendAt(axis, origin + DELTAS / 2, fmt(DELTA_MIN + DELTAS / 2 * DELTA_STEP));
    appendAt(axis, origin + DELTAS - last.length(), last);
    return chart.append(axis).toString();
  }

  private static void appendAt(StringBuilder line, int position, String text) {
    while (line.length() < position) {
      line.append(' ');
    }
    line.append(text);
  }

  private static String fmt(double value) {
    return String.format(Locale.ROOT, "%.2f", value);
  }

  // ---------------------------------------------------------------------------------------------
  // Julia

  /** Whether {@code command --version} runs. */
  static boolean starts(String command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
      p.getInputStream().transferTo(OutputStream.nullOutputStream());
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static WorkerPool startJulia(Path repo, String julia) {
    return WorkerPool.julia()
        .withInterpreter(julia)
        .withModulePath(repo.resolve("julia-worker/tasks"))
        .withAllowedModules("OdeTasks")
        .withHandshakeTimeout(Duration.ofSeconds(120))   // Julia compiles the worker first
        .withWorkers(1)
        .build();
  }

  /**
   * The Floquet radius of the set (delta = 1, epsilon = 0) with Julia's RK4 ({@code
   * OdeTasks:rk4}): without pumping the equation is its {@code damped_oscillator} with {@code
   * omega = sqrt(delta)} and {@code zeta = c / (2 omega)}.
   */
  static double juliaRadius(WorkerPool julia, Sweep sweep) throws Exception {
    double delta = sweep.delta()[Sweep.index(0, column(1.0))];
    double omega = Math.sqrt(delta);
    double zeta = DAMPING / (2 * omega);
    double[] first = juliaEndState(julia, 1.0, 0.0, omega, zeta);
    double[] second = juliaEndState(julia, 0.0, 1.0, omega, zeta);
    return spectralRadius(first[0], second[0], first[1], second[1]);
  }

  /** The state (x, x') after one period from (x0, v0), by 2,000 RK4 steps in Julia. */
  private static double[] juliaEndState(WorkerPool julia, double x0, double v0, double omega,
      double zeta) throws Exception {
    NDArray states = ExampleWorkers.await(julia.call("OdeTasks:rk4",
        List.of("damped_oscillator", List.of(x0, v0), 0.0, 2 * Math.PI, 2000),
        Map.of("omega", omega, "zeta", zeta)), NDArray.class);
    double[] s = states.toDoubleArray();
    int rows = states.dim(0);   // one row per time, columns x and x'
    return states.order() == NDArray.Order.F
        ? new double[] {s[rows - 1], s[2 * rows - 1]}
        : new double[] {s[2 * rows - 2], s[2 * rows - 1]};
  }

  /** The spectral radius of the 2x2 matrix {@code [[a, b], [c, d]]}. */
  static double spectralRadius(double a, double b, double c, double d) {
    double half = (a + d) / 2;
    double discriminant = half * half - (a * d - b * c);
    if (discriminant < 0) {
      return Math.sqrt(a * d - b * c);   // a complex pair: |mu|^2 is the determinant
    }
    double root = Math.sqrt(discriminant);
    return Math.max(Math.abs(half + root), Math.abs(half - root));
  }

  // ---------------------------------------------------------------------------------------------

  private static void print(Result result, WorkerPool python, RunReport report) {
    Sweep sweep = result.sweep();
    Summary s = result.summary();
    int n = sweep.size();
    long invertedStable = IntStream.range(0, n)
        .filter(i -> sweep.delta()[i] < 0 && sweep.radius()[i] < 1).count();
    double[] q = s.amplitudeQuantiles();
    double[] onsets = s.tongueOnsets();
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "== %s: x'' + %.1f x' + (delta + epsilon cos t) x = 0,"
        + " %d parameter sets in %d batches on %d Python workers (SciPy solve_ivp) ==%n",
        report.dag().name(), DAMPING, n, EPSILONS, python.size()));
    out.append("stability chart ('.' the motion decays, '#' it grows):\n")
        .append(s.chart()).append("\n\n");
    out.append(String.format(Locale.ROOT, "stable: %d of %d sets (%.1f%%)   [Rust sum]%n",
        s.stable(), n, 100.0 * s.stable() / n));
    out.append(String.format(Locale.ROOT, "Floquet radius: %.4f to %.4g   [Rust min_max]%n",
        s.radius().min(), s.radius().max()));
    out.append(String.format(Locale.ROOT, "amplitude over period %d: median %.4g, 90%% %.4g,"
        + " 99%% %.4g, max %.4g   [Rust quantiles]%n", PERIODS, q[0], q[1], q[2], q[3]));
    out.append(String.format(Locale.ROOT, "growth rate of the unstable sets: mean %.4f,"
        + " std %.4f per unit time   [Rust mean_variance]%n", s.growth().mean(),
        Math.sqrt(s.growth().variance())));
    for (int k = 1; k <= 3; k++) {
      double onset = onsets[k - 1];
      String where = Double.isNaN(onset)
          ? String.format(Locale.ROOT, "stable up to epsilon %.2f", (EPSILONS - 1) * EPSILON_STEP)
          : String.format(Locale.ROOT, "unstable from epsilon %.2f", onset);
      out.append(String.format(Locale.ROOT, "tongue n=%d (delta = n^2/4 = %.2f, grid column"
          + " delta = %.2f): %s%n", k, k * k / 4.0, DELTA_MIN + column(k * k / 4.0) * DELTA_STEP,
          where));
    }
    out.append(String.format(Locale.ROOT, "stable with delta < 0 (an inverted pendulum held up"
        + " by the pumping): %d sets%n", invertedStable));
    if (result.juliaRadius().isPresent()) {
      double scipy = sweep.radius()[Sweep.index(0, column(1.0))];
      double juliaValue = result.juliaRadius().getAsDouble();
      out.append(String.format(Locale.ROOT, "Julia RK4 cross-check (delta = 1, epsilon = 0):"
          + " radius %.10f, SciPy %.10f, exact %.10f%n", juliaValue, scipy,
          Math.exp(-Math.PI * DAMPING)));
    }
    out.append("HTML report: ").append(result.html()).append('\n');
    out.append("run: ").append(report.summary());
    System.out.println(out);
  }
}
