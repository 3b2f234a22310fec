package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.util.Arrays;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.open.examples.ScienceExample.Summary;
import dev.open.examples.ScienceExample.Sweep;

/**
 * The science example, run once (Python with SciPy, Rust; Julia when installed), against what
 * the test works out by itself: exact radii without pumping, a Java RK4 integration of single
 * parameter sets, and the statistics recomputed in Java.
 */
class ScienceExampleTest {
  private static ScienceExample.Result result;

  @BeforeAll
  static void runTheSweep() throws Exception {
    PythonModules.assumeImportable("numpy", "scipy");
    result = ScienceExample.run(ExampleWorkers.repo());
  }

  private static void assertRelative(double actual, double expected, double tolerance,
      String what) {
    assertThat(Math.abs(actual - expected))
        .as("%s: %s, expected %s", what, actual, expected)
        .isLessThanOrEqualTo(tolerance * Math.abs(expected));
  }

  @Test
  void theGridHoldsEveryParameterSetInOrder() {
    Sweep s = result.sweep();
    assertThat(s.size()).isEqualTo(2000);
    int i = Sweep.index(3, 7);
    assertThat(s.delta()[i]).isCloseTo(-0.5 + 7 * 0.06, within(1e-12));
    assertThat(s.epsilon()[i]).isCloseTo(0.15, within(1e-12));
    assertThat(s.epsilon()[Sweep.index(39, 49)]).isCloseTo(1.95, within(1e-12));
  }

  @Test
  void withoutPumpingTheRadiusIsExact() {
    // epsilon = 0: x'' + c x' + delta x = 0, whose exponents are the roots of l^2 + c l + delta
    Sweep s = result.sweep();
    double c = ScienceExample.DAMPING;
    for (int column = 0; column < ScienceExample.DELTAS; column++) {
      int i = Sweep.index(0, column);
      double delta = s.delta()[i];
      double discriminant = c * c / 4 - delta;
      double growth = -c / 2 + (discriminant > 0 ? Math.sqrt(discriminant) : 0);
      assertRelative(s.radius()[i], Math.exp(2 * Math.PI * growth), 1e-7, "radius at " + delta);
      assertThat(s.radius()[i] >= 1).as("unstable at delta %s", delta).isEqualTo(delta < 0);
    }
  }

  /** The sets with the largest radius, the tips of the first two tongues, and a stable one. */
  @ParameterizedTest
  @CsvSource({"39, 0", "3, 12", "15, 25", "10, 30"})
  void aJavaRk4IntegrationAgreesWithSciPy(int row, int column) {
    Sweep s = result.sweep();
    int i = Sweep.index(row, column);
    Mathieu m = new Mathieu(s.delta()[i], s.epsilon()[i]);
    int perPeriod = 2000;
    int every = perPeriod / ScienceExample.SAMPLES;
    double[][] first = m.rk4(1, 0, ScienceExample.PERIODS * perPeriod, perPeriod);
    double[][] second = m.rk4(0, 1, perPeriod, perPeriod);
    double radius = ScienceExample.spectralRadius(first[perPeriod][0], second[perPeriod][0],
        first[perPeriod][1], second[perPeriod][1]);
    double amplitude = 0;
    for (int k = (ScienceExample.PERIODS - 1) * perPeriod; k < first.length; k += every) {
      amplitude = Math.max(amplitude, Math.abs(first[k][0]));
    }
    double xEnd = first[first.length - 1][0];

    assertRelative(s.radius()[i], radius, 1e-6, "radius");
    assertRelative(s.amplitude()[i], amplitude, 1e-6, "amplitude");
    assertThat(s.xEnd()[i]).isCloseTo(xEnd, within(1e-6 * Math.max(1, amplitude)));
  }

  /** {@code x'' + c x' + (delta + epsilon cos t) x = 0} by the classic Runge-Kutta scheme. */
  private record Mathieu(double delta, double epsilon) {
    double acceleration(double t, double x, double v) {
      return -ScienceExample.DAMPING * v - (delta + epsilon * Math.cos(t)) * x;
    }

    /** The states (x, x') at every step of 2 pi / perPeriod from t = 0. */
    double[][] rk4(double x0, double v0, int steps, int perPeriod) {
      double h = 2 * Math.PI / perPeriod;
      double[][] states = new double[steps + 1][];
      double x = x0;
      double v = v0;
      states[0] = new double[] {x, v};
      for (int k = 0; k < steps; k++) {
        double t = k * h;
        double k1x = v;
        double k1v = acceleration(t, x, v);
        double k2x = v + h / 2 * k1v;
        double k2v = acceleration(t + h / 2, x + h / 2 * k1x, v + h / 2 * k1v);
        double k3x = v + h / 2 * k2v;
        double k3v = acceleration(t + h / 2, x + h / 2 * k2x, v + h / 2 * k2v);
        double k4x = v + h * k3v;
        double k4v = acceleration(t + h, x + h * k3x, v + h * k3v);
        x += h / 6 * (k1x + 2 * k2x + 2 * k3x + k4x);
        v += h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v);
        states[k + 1] = new double[] {x, v};
      }
      return states;
    }
  }

  @Test
  void theRustStatisticsAreTheSweepsStatistics() {
    Sweep s = result.sweep();
    Summary summary = result.summary();
    double[] radius = s.radius();
    assertThat(summary.stable()).isEqualTo((int) Arrays.stream(radius).filter(r -> r < 1).count());
    assertThat(summary.radius().min()).isEqualTo(Arrays.stream(radius).min().orElseThrow());
    assertThat(summary.radius().max()).isEqualTo(Arrays.stream(radius).max().orElseThrow());
    // a stable set's multipliers are a complex pair of modulus sqrt(det M) = exp(-c pi)
    assertThat(summary.radius().min()).isCloseTo(Math.exp(-Math.PI * ScienceExample.DAMPING),
        within(1e-7));

    double[] sorted = s.amplitude().clone();
    Arrays.sort(sorted);
    for (int k = 0; k < ScienceExample.LEVELS.length; k++) {
      double position = ScienceExample.LEVELS[k] * (sorted.length - 1);   // NumPy's "linear"
      int lo = (int) Math.floor(position);
      int hi = Math.min(lo + 1, sorted.length - 1);
      double expected = sorted[lo] + (position - lo) * (sorted[hi] - sorted[lo]);
      assertRelative(summary.amplitudeQuantiles()[k], expected, 1e-12, "quantile " + k);
    }

    double[] rates = Arrays.stream(radius).filter(r -> r >= 1)
        .map(r -> Math.log(r) / (2 * Math.PI)).toArray();
    double mean = Arrays.stream(rates).average().orElseThrow();
    double variance = Arrays.stream(rates).map(r -> (r - mean) * (r - mean)).sum() / rates.length;
    assertRelative(summary.growth().mean(), mean, 1e-12, "mean growth rate");
    assertRelative(summary.growth().variance(), variance, 1e-9, "variance of the growth rate");
  }

  @Test
  void theTonguesOpenOneAfterAnotherAndTheChartShowsThem() {
    double[] onsets = result.summary().tongueOnsets();
    // damping lifts every tongue off the axis, the higher ones further
    assertThat(onsets[0]).isGreaterThan(0.0).isLessThan(onsets[1]);
    String[] lines = result.summary().chart().split("\n");
    assertThat(lines).hasSize(ScienceExample.EPSILONS + 1);
    assertThat(lines[0]).startsWith("  eps 1.95 |").hasSize(12 + ScienceExample.DELTAS);
    // the bottom line: unstable exactly where delta < 0
    assertThat(lines[ScienceExample.EPSILONS - 1])
        .isEqualTo("  eps 0.00 |" + "#".repeat(9) + ".".repeat(ScienceExample.DELTAS - 9));
  }

  @Test
  void theHtmlReportIsWritten() throws Exception {
    assertThat(result.html()).isAbsolute().exists();
    assertThat(Files.size(result.html())).isPositive();
  }

  @Test
  void juliasRk4AgreesWhenJuliaIsInstalled() {
    assumeThat(result.juliaRadius()).as("julia is not on the PATH").isPresent();
    int i = Sweep.index(0, ScienceExample.column(1.0));
    assertThat(result.juliaRadius().getAsDouble())
        .isCloseTo(result.sweep().radius()[i], within(1e-7))
        .isCloseTo(Math.exp(-Math.PI * ScienceExample.DAMPING), within(1e-7));
  }
}
