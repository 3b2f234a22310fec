package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.DoublePredicate;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.open.examples.AnalysisExample.Output;
import dev.open.rust.RustKernels;

/**
 * The analysis example, run once, against the files it stored (decompressed and hashed again)
 * and against the raw data files scikit-learn ships, read here without pandas.
 */
class AnalysisExampleTest {
  private static final int AGE = 0;
  private static final int SEX = 1;
  private static final int BMI = 2;
  private static final int BP = 3;
  private static final int TARGET = 10;

  @TempDir
  static Path directory;

  private static AnalysisExample.Result result;
  /** The 442 patients: age, sex, bmi, bp, s1..s6, target. */
  private static List<double[]> patients;

  @BeforeAll
  static void analyse() throws Exception {
    PythonModules.assumeImportable("numpy", "pandas", "sklearn");
    result = AnalysisExample.run(ExampleWorkers.repo(), directory.resolve("analysis"));
    patients = rawData();
  }

  /** The data as scikit-learn ships it: measurements and target in two gzipped text files. */
  private static List<double[]> rawData() throws Exception {
    Path data = Path.of(PythonModules.output("import os, sklearn.datasets as d; "
        + "print(os.path.join(os.path.dirname(d.__file__), 'data'))"));
    List<String> measurements = gunzippedLines(data.resolve("diabetes_data_raw.csv.gz"));
    List<String> targets = gunzippedLines(data.resolve("diabetes_target.csv.gz"));
    assertThat(measurements).hasSize(442).hasSameSizeAs(targets);
    List<double[]> rows = new ArrayList<>();
    for (int i = 0; i < measurements.size(); i++) {
      double[] row = Arrays.copyOf(Arrays.stream(measurements.get(i).trim().split("\\s+"))
          .mapToDouble(Double::parseDouble).toArray(), TARGET + 1);
      row[TARGET] = Double.parseDouble(targets.get(i).trim());
      rows.add(row);
    }
    return rows;
  }

  private static List<String> gunzippedLines(Path file) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .filter(line -> !line.isBlank()).toList();
    }
  }

  private static Output output(String name) {
    return result.outputs().stream().filter(o -> o.name().equals(name)).findFirst()
        .orElseThrow();
  }

  /** The CSV's data rows, split at commas (no field of these tables has one). */
  private static List<String[]> rows(Output output, String header) {
    List<String> lines = output.csv().lines().toList();
    assertThat(lines.get(0)).isEqualTo(header);
    return lines.subList(1, lines.size()).stream().map(line -> line.split(",")).toList();
  }

  private static double[] column(DoublePredicate onAge, DoublePredicate onSex,
      DoublePredicate onBmi, int column) {
    return patients.stream()
        .filter(p -> onAge.test(p[AGE]) && onSex.test(p[SEX]) && onBmi.test(p[BMI]))
        .mapToDouble(p -> p[column]).toArray();
  }

  private static double mean(double[] values) {
    return Arrays.stream(values).average().orElseThrow();
  }

  private static void assertRelative(double actual, double expected, String what) {
    assertThat(actual).as(what).isCloseTo(expected, within(1e-9 * Math.abs(expected)));
  }

  @Test
  void eachFileIsAZstdFrameOfItsCsvWithItsBlake3() throws Exception {
    RustKernels rust = RustKernels.load();
    // the kernel is BLAKE3 indeed: the hash of no bytes, from the BLAKE3 specification
    assertThat(HexFormat.of().formatHex(rust.blake3(new byte[0])))
        .isEqualTo("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    assertThat(result.outputs()).extracting(Output::name)
        .containsExactlyElementsOf(AnalysisExample.SUMMARIES.keySet());
    for (Output o : result.outputs()) {
      assertThat(o.file()).hasParent(directory.resolve("analysis").toAbsolutePath())
          .hasFileName(o.name() + ".csv.zst");
      byte[] stored = Files.readAllBytes(o.file());
      assertThat(stored).hasSize(o.zstdBytes())
          .startsWith((byte) 0x28, (byte) 0xB5, (byte) 0x2F, (byte) 0xFD);   // zstd's magic
      byte[] csv = rust.zstdDecompress(stored);
      assertThat(csv).hasSize(o.csvBytes());
      assertThat(new String(csv, StandardCharsets.UTF_8)).isEqualTo(o.csv());
      assertThat(HexFormat.of().formatHex(rust.blake3(csv))).isEqualTo(o.blake3());
    }
  }

  @Test
  void theManifestHasALineForEachCsvAsB3sumWritesThem() throws Exception {
    List<String> expected = result.outputs().stream()
        .map(o -> o.blake3() + "  " + o.name() + ".csv").toList();
    assertThat(Files.readAllLines(result.manifest())).containsExactlyElementsOf(expected);
  }

  @Test
  void theGroupsByAgeAndSexAreTheRawDatasGroups() {
    List<String[]> rows = rows(output("by-age-and-sex"),
        "age_band,sex,patients,mean_target,mean_bmi,mean_bp");
    assertThat(rows).hasSize(12);   // six age bands, two sexes, no empty group
    int total = 0;
    for (String[] row : rows) {
      String band = row[0];
      double low = band.startsWith("<") ? 0
          : Double.parseDouble(band.replace("+", "").split("-")[0]);
      double high = band.startsWith("<") ? Double.parseDouble(band.substring(1))
          : band.endsWith("+") ? Double.POSITIVE_INFINITY
          : Double.parseDouble(band.split("-")[1]) + 1;
      double sex = Double.parseDouble(row[1]);
      DoublePredicate age = a -> a >= low && a < high;
      DoublePredicate ofSex = s -> s == sex;
      DoublePredicate anyBmi = b -> true;
      double[] target = column(age, ofSex, anyBmi, TARGET);
      String group = band + "/" + row[1];
      assertThat(Integer.parseInt(row[2])).as(group).isEqualTo(target.length);
      assertRelative(Double.parseDouble(row[3]), mean(target), group + " progression");
      assertRelative(Double.parseDouble(row[4]), mean(column(age, ofSex, anyBmi, BMI)),
          group + " BMI");
      assertRelative(Double.parseDouble(row[5]), mean(column(age, ofSex, anyBmi, BP)),
          group + " blood pressure");
      total += target.length;
    }
    assertThat(total).isEqualTo(442);
  }

  @Test
  void progressionRisesWithBmiAndTheMediansAreTheRawDatasMedians() {
    List<String[]> rows = rows(output("bmi-quartiles"), "bmi_quartile,patients,bmi_min,bmi_max,"
        + "target_p10,target_p25,target_p50,target_p75,target_p90");
    assertThat(rows).extracting(r -> r[0]).containsExactly("Q1", "Q2", "Q3", "Q4");
    int total = 0;
    double previous = Double.NEGATIVE_INFINITY;
    for (String[] row : rows) {
      double low = Double.parseDouble(row[2]);
      double high = Double.parseDouble(row[3]);
      double[] target = column(a -> true, s -> true, b -> b >= low && b <= high, TARGET);
      Arrays.sort(target);
      double position = 0.5 * (target.length - 1);   // NumPy's "linear" median
      int lo = (int) Math.floor(position);
      double median = target[lo] + (position - lo) * (target[Math.min(lo + 1, target.length - 1)]
          - target[lo]);
      assertThat(Integer.parseInt(row[1])).as(row[0]).isEqualTo(target.length);
      assertRelative(Double.parseDouble(row[6]), median, row[0] + " median");
      assertThat(median).as("medians rise with BMI").isGreaterThan(previous);
      previous = median;
      total += target.length;
    }
    assertThat(total).isEqualTo(442);
  }

  @Test
  void bmiCorrelatesMostWithProgression() {
    List<String[]> rows = rows(output("correlations"), "feature,pearson,spearman");
    assertThat(rows).hasSize(10);
    assertThat(rows.get(0)[0]).isEqualTo("bmi");
    double[] bmi = patients.stream().mapToDouble(p -> p[BMI]).toArray();
    double[] target = patients.stream().mapToDouble(p -> p[TARGET]).toArray();
    double mx = mean(bmi);
    double my = mean(target);
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < bmi.length; i++) {
      sxy += (bmi[i] - mx) * (target[i] - my);
      sxx += (bmi[i] - mx) * (bmi[i] - mx);
      syy += (target[i] - my) * (target[i] - my);
    }
    assertRelative(Double.parseDouble(rows.get(0)[1]), sxy / Math.sqrt(sxx * syy), "Pearson r");
  }

  @Test
  void theHtmlReportIsWritten() throws Exception {
    assertThat(result.html()).isAbsolute().exists();
    assertThat(Files.size(result.html())).isPositive();
  }
}
