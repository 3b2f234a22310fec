package dev.open.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.ports.WorkerPool;
import dev.open.rust.NativeBackend;

/**
 * Data analysis ({@code make example-analysis}): summaries of a real data set, compressed,
 * fingerprinted and stored.
 *
 * <ol>
 *   <li>Python loads scikit-learn's bundled diabetes data (442 patients; no network) as a table
 *       of columns;
 *   <li>three pandas summaries run side by side, each a CSV: patients, progression, BMI and
 *       blood pressure by age band and sex; quantiles of progression per BMI quartile; the
 *       correlation of every measurement with progression;
 *   <li>Rust compresses each CSV with zstd and fingerprints it with BLAKE3 (the {@code native}
 *       backend);
 *   <li>Java stores each as {@code <name>.csv.zst} and writes {@code blake3sums.txt} (the format
 *       of {@code b3sum}: check the decompressed files with {@code b3sum -c}).
 * </ol>
 *
 * <p>The files go to {@code target/analysis/}, the HTML report of the run to {@code
 * target/analysis-report.html}. Run from the repository root; {@code -Dopen.python} names the
 * interpreter (it needs pandas and scikit-learn).
 */
public final class AnalysisExample {
  /** zstd's level for the CSVs: they are small, so the slowest and smallest costs nothing. */
  static final int ZSTD_LEVEL = 19;
  /** Name of each summary, and the function of {@code open_examples.analysis} that makes it. */
  static final Map<String, String> SUMMARIES = summaries();
  /** The manifest of the stored files. */
  static final String MANIFEST = "blake3sums.txt";

  private AnalysisExample() {}

  private static Map<String, String> summaries() {
    Map<String, String> summaries = new LinkedHashMap<>();
    summaries.put("by-age-and-sex", "by_age_and_sex");
    summaries.put("bmi-quartiles", "target_by_bmi_quartile");
    summaries.put("correlations", "correlations");
    return summaries;
  }

  /**
   * One stored summary.
   *
   * @param name the summary's name
   * @param file where its compressed CSV is ({@code <name>.csv.zst})
   * @param csv the CSV text
   * @param csvBytes the size of the CSV (UTF-8)
   * @param zstdBytes the size of the compressed file
   * @param blake3 the BLAKE3 hash of the CSV, in hex
   */
  public record Output(String name, Path file, String csv, int csvBytes, int zstdBytes,
      String blake3) {}

  /**
   * What a run produced.
   *
   * @param outputs the stored summaries, in the order of {@code SUMMARIES}
   * @param manifest the file listing the BLAKE3 hash of each CSV
   * @param html the HTML report
   */
  public record Result(List<Output> outputs, Path manifest, Path html) {}

  public static void main(String[] args) throws Exception {
    run(ExampleWorkers.repo(), Path.of("target", "analysis"));
  }

  /**
   * Starts the workers, runs the analysis, prints what it stored and stops the workers.
   *
   * @param repo the repository root (task modules)
   * @param outputDirectory where the files go (created if need be)
   * @return what the run produced
   * @throws Exception when the run fails
   */
  public static Result run(Path repo, Path outputDirectory) throws Exception {
    try (NativeBackend rust = NativeBackend.create();
        WorkerPool python = ExampleWorkers.python(repo)) {
      return run(rust, python, outputDirectory);
    }
  }

  /**
   * Runs the analysis on the given backends.
   *
   * @param rust the Rust kernels
   * @param python Python workers allowed to call {@code open_examples.*}
   * @param outputDirectory where the files go
   * @return what the run produced
   * @throws Exception when the run fails
   */
  static Result run(NativeBackend rust, WorkerPool python, Path outputDirectory)
      throws Exception {
    DagBuilder b = Dag.builder("diabetes-summaries");
    @SuppressWarnings("rawtypes")
    Node<Map> table = b.call("load",
        python.function("open_examples.analysis:load_diabetes_table", Map.class));
    Node<Integer> level = b.task("zstd-level", () -> ZSTD_LEVEL);
    Node<Path> directory = b.task("output-directory",
        () -> Files.createDirectories(outputDirectory).toAbsolutePath());
    List<Node<Output>> stored = new ArrayList<>();
    for (Map.Entry<String, String> summary : SUMMARIES.entrySet()) {
      String name = summary.getKey();
      Node<byte[]> csv = b.call(name,
          python.function("open_examples.analysis:" + summary.getValue(), byte[].class), table);
      Node<byte[]> packed = b.call("zstd-" + name, rust.function("zstd_compress", byte[].class),
          csv, level);
      Node<byte[]> hash = b.call("blake3-" + name, rust.function("blake3", byte[].class), csv);
      stored.add(b.task("store-" + name, directory, csv, packed, hash,
          (dir, text, zstd, blake3) -> store(dir, name, text, zstd, blake3)));
    }
    Node<Path> manifest = b.fanIn("manifest", stored, AnalysisExample::writeManifest);
    Node<List<Output>> outputs = b.fanIn("outputs", stored, all -> List.copyOf(all));
    Dag dag = b.build();

    ExampleWorkers.Observed run = ExampleWorkers.runObserved(DagExecutor.builder()
        .withConcurrencyLimit("python", python.size())
        .withDeadline(Duration.ofMinutes(2)), dag, "analysis");
    RunReport report = run.report().orThrow();
    Path html = run.html();

    Result result = new Result(report.result(outputs), report.result(manifest), html);
    print(result, report);
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // The tasks

  /** Writes a summary's compressed CSV to {@code <name>.csv.zst}. */
  static Output store(Path directory, String name, byte[] csv, byte[] zstd, byte[] blake3)
      throws IOException {
    Path file = directory.resolve(name + ".csv.zst");
    Files.write(file, zstd);
    return new Output(name, file, new String(csv, StandardCharsets.UTF_8), csv.length,
        zstd.length, HexFormat.of().formatHex(blake3));
  }

  /** Writes the hashes of the CSVs as {@code b3sum} does: a line {@code <hex>  <name>.csv} each. */
  static Path writeManifest(List<Output> outputs) throws IOException {
    StringBuilder lines = new StringBuilder();
    for (Output output : outputs) {
      lines.append(output.blake3()).append("  ").append(output.name()).append(".csv\n");
    }
    Path manifest = outputs.get(0).file().resolveSibling(MANIFEST);
    Files.writeString(manifest, lines, StandardCharsets.UTF_8);
    return manifest;
  }

  // ---------------------------------------------------------------------------------------------

  private static void print(Result result, RunReport report) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "== %s: scikit-learn's diabetes data (442 patients),"
        + " summarised with pandas, compressed (zstd) and hashed (BLAKE3) in Rust ==%n",
        report.dag().name()));
    for (Output o : result.outputs()) {
      out.append(String.format(Locale.ROOT, "%-16s %5d bytes of CSV -> %4d bytes  blake3 %s…"
          + "  %s%n", o.name(), o.csvBytes(), o.zstdBytes(), o.blake3().substring(0, 16),
          o.file()));
    }
    out.append("manifest: ").append(result.manifest()).append("\n\n");
    for (Output o : result.outputs()) {
      if (!o.name().equals("correlations")) {
        out.append(o.name()).append(":\n").append(o.csv().indent(2)).append('\n');
      }
    }
    Output correlations = result.outputs().stream()
        .filter(o -> o.name().equals("correlations")).findFirst().orElseThrow();
    List<String> lines = correlations.csv().lines().toList();
    out.append("strongest correlations with progression (feature, Pearson, Spearman):\n")
        .append(String.join("\n", lines.subList(1, Math.min(4, lines.size()))).indent(2))
        .append('\n');
    out.append("HTML report: ").append(result.html()).append('\n');
    out.append("run: ").append(report.summary());
    System.out.println(out);
  }
}
