package dev.open.examples;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.array.NDArray;
import dev.open.dag.export.DagExport;
import dev.open.dag.metrics.DagMetrics;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;
import dev.open.ports.WorkerCrashedException;
import dev.open.ports.WorkerPool;
import dev.open.rust.NativeBackend;
import dev.open.rust.RustKernels;

/**
 * The flagship example ({@code make demo}): document analytics across all three kinds of task.
 *
 * <ol>
 *   <li>Java fetches a corpus from a flaky source (a retry policy earns its keep);
 *   <li>every document is profiled in its own task (dynamic fan-out): Rust counts its Unicode
 *       words and hashes it with BLAKE3;
 *   <li>Java fans the counts back in to a vocabulary and builds term vectors (an {@link NDArray});
 *   <li>Rust multiplies the vectors into a cosine-similarity matrix (the {@code native} backend);
 *   <li>Python clusters the documents with scikit-learn's KMeans and describes the vectors with
 *       NumPy (a pool of worker processes);
 *   <li>Rust packs the corpus with zstd; Java writes the report.
 * </ol>
 *
 * <p>It prints the report, each node's outcome and backend, and writes the DAG as DOT. Run from
 * the repository root; {@code -Dopen.python} names the interpreter (default: {@code .venv}'s).
 */
public final class Flagship {
  private static final String[][] TOPICS = {
      {"virtual", "thread", "carrier", "scheduler", "continuation", "stack", "park"},
      {"matrix", "vector", "kernel", "simd", "cache", "float", "multiply"},
      {"python", "numpy", "pandas", "worker", "process", "frame", "pipe"},
      {"workflow", "task", "graph", "retry", "deadline", "cancel", "report"}};

  private Flagship() {}

  /** A document of the corpus. */
  record Document(String id, String text) {}

  /** What the pipeline learned about one document. */
  record Profile(String id, Map<String, Long> terms, String fingerprint) {}

  public static void main(String[] args) throws Exception {
    int documents = args.length > 0 ? Integer.parseInt(args[0]) : 400;
    Path repo = Path.of(System.getProperty("open.repo", ".")).toAbsolutePath();
    RustKernels rust = RustKernels.load();
    try (NativeBackend nativeBackend = NativeBackend.create();
        WorkerPool python = WorkerPool.python()
            .withInterpreter(pythonInterpreter(repo))
            .withModulePath(repo.resolve("python-worker/examples"))
            .withAllowedModules("open_examples.*")
            .withWorkers(2)
            .build()) {
      run(documents, rust, nativeBackend, python);
    }
  }

  static String pythonInterpreter(Path repo) {
    String configured = System.getProperty("open.python");
    if (configured != null) {
      return configured;
    }
    Path venv = repo.resolve(".venv/bin/python");
    return Files.isExecutable(venv) ? venv.toString() : "python3";
  }

  static RunReport run(int documents, RustKernels rust, NativeBackend nativeBackend,
      WorkerPool python) throws Exception {
    AtomicInteger fetchAttempts = new AtomicInteger();
    DagBuilder b = Dag.builder("document-analytics");

    Node<List<Document>> corpus = b.node("fetch-corpus")
        .withRetry(RetryPolicy.builder().withMaxAttempts(4)
            .withBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build())
        .withTimeout(Duration.ofSeconds(10))
        .task(() -> {
          if (fetchAttempts.incrementAndGet() < 3) {
            throw new java.io.IOException("corpus server busy (attempt " + fetchAttempts + ")");
          }
          return generateCorpus(documents, 7);
        });
    Node<List<Profile>> profiles = b.node("profile").withTags("cpu").map(corpus, doc -> {
      byte[] utf8 = doc.text().getBytes(StandardCharsets.UTF_8);
      return new Profile(doc.id(), rust.tokenCounts(doc.text()),
          HexFormat.of().formatHex(rust.blake3(utf8)));
    });
    Node<List<String>> vocabulary = b.task("vocabulary", profiles, ps -> topTerms(ps, 24));
    Node<NDArray> vectors = b.node("vectors").retain()
        .task(profiles, vocabulary, Flagship::normalizedVectors);
    Node<NDArray> transposed = b.task("transpose", vectors, Flagship::transpose);
    Node<NDArray> similarity = b.call("similarity",
        nativeBackend.function("matmul", NDArray.class), vectors, transposed);
    Node<List<String>> nearest = b.task("nearest-pairs", profiles, similarity,
        (ps, s) -> nearestPairs(ps, s, 5));
    Node<NDArray> clusters = b.node("clusters")
        .withRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ZERO)
            .handle(WorkerCrashedException.class).build())
        .call(python.function("open_examples.learn:kmeans", NDArray.class), vectors,
            b.task("k", () -> TOPICS.length));
    @SuppressWarnings("rawtypes")
    Node<Map> described = b.call("describe",
        python.function("open_examples.numeric:stats", Map.class), vectors);
    Node<byte[]> archive = b.task("archive", corpus, docs -> rust.zstdCompress(
        String.join("\n", docs.stream().map(Document::text).toList())
            .getBytes(StandardCharsets.UTF_8), 3));
    Node<Long> duplicates = b.task("duplicates", profiles,
        ps -> ps.size() - ps.stream().map(Profile::fingerprint).distinct().count());
    Node<String> report = b.fanIn("report", List.of(vocabulary, nearest, clusters, described,
        archive, duplicates, corpus), parts -> report(parts));
    Dag dag = b.build();

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ExampleWorkers.Observed observed = ExampleWorkers.runObserved(DagExecutor.builder()
        .withFailureMode(FailureMode.FAIL_FAST)
        .withConcurrencyLimit("cpu", Runtime.getRuntime().availableProcessors())
        .withConcurrencyLimit("python", 2)
        .withDeadline(Duration.ofMinutes(2))
        .withListener(new DagMetrics(registry)), dag, "flagship");
    RunReport run = observed.report().orThrow();
    Path html = observed.html();

    System.out.println("== " + dag.name() + ": " + documents + " documents; Rust kernels through "
        + rust.binding().toUpperCase(Locale.ROOT) + ", Python " + python.workerInfo().get("version")
        + " workers " + python.pids() + " ==");
    System.out.println(run.result(report));
    System.out.println();
    System.out.printf(Locale.ROOT, "%-14s %-8s %-10s %8s %10s%n", "node", "backend", "status",
        "attempts", "ms");
    run.nodes().forEach(n -> System.out.printf(Locale.ROOT, "%-14s %-8s %-10s %8d %10.1f%n",
        n.name(), n.backend(), n.status(), n.attempts(),
        n.duration().map(d -> d.toNanos() / 1e6).orElse(0.0)));
    System.out.println();
    System.out.printf(Locale.ROOT, "run: %s; attempts retried: %.0f%n", run.summary(),
        registry.get("open.dag.tasks.retried").counters().stream()
            .mapToDouble(c -> c.count()).sum());
    Path dot = Path.of("target", "flagship.dot");
    Files.createDirectories(dot.getParent());
    Files.writeString(dot, DagExport.dot(dag, run));
    System.out.println("DAG written to " + dot.toAbsolutePath() + " (render: dot -Tsvg)");
    System.out.println("Report written to " + html + " (open it in a browser)");
    return run;
  }

  @SuppressWarnings("unchecked")
  private static String report(List<Object> parts) {
    List<String> vocab = (List<String>) parts.get(0);
    List<String> pairs = (List<String>) parts.get(1);
    NDArray labels = (NDArray) parts.get(2);
    Map<String, Object> stats = (Map<String, Object>) parts.get(3);
    byte[] archive = (byte[]) parts.get(4);
    long duplicates = (Long) parts.get(5);
    List<Document> docs = (List<Document>) parts.get(6);
    Map<Integer, Integer> sizes = new LinkedHashMap<>();
    for (int label : labels.toIntArray()) {
      sizes.merge(label, 1, Integer::sum);
    }
    long corpusBytes = docs.stream().mapToLong(d -> d.text().getBytes(StandardCharsets.UTF_8).length
        + 1).sum() - 1;
    return "vocabulary (Rust token counts): " + vocab.subList(0, 8) + " …\n"
        + "nearest documents (Rust matmul):\n  " + String.join("\n  ", pairs) + "\n"
        + "clusters (Python, scikit-learn KMeans): " + sizes.size() + " clusters of sizes "
        + sizes.values() + "\n"
        + String.format(Locale.ROOT, "term vectors (Python, NumPy): mean %.4f, std %.4f%n",
            ((Number) stats.get("mean")).doubleValue(), ((Number) stats.get("std")).doubleValue())
        + String.format(Locale.ROOT, "archive (Rust zstd): %d bytes -> %d bytes (%.1fx)%n",
            corpusBytes, archive.length, (double) corpusBytes / archive.length)
        + "duplicate documents (Rust BLAKE3): " + duplicates;
  }

  /** Documents mixing two topics each, seeded so every run sees the same corpus. */
  static List<Document> generateCorpus(int n, long seed) {
    Random random = new Random(seed);
    List<Document> docs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String[] main = TOPICS[i % TOPICS.length];
      String[] side = TOPICS[random.nextInt(TOPICS.length)];
      StringBuilder text = new StringBuilder();
      for (int w = 0; w < 60; w++) {
        String[] topic = random.nextDouble() < 0.8 ? main : side;
        text.append(topic[random.nextInt(topic.length)]).append(w % 12 == 11 ? ". " : " ");
      }
      docs.add(new Document("doc-" + i, i % 50 == 49 ? docs.get(i - 1).text() : text.toString()));
    }
    return docs;
  }

  static List<String> topTerms(List<Profile> profiles, int k) {
    Map<String, Long> total = new LinkedHashMap<>();
    profiles.forEach(p -> p.terms().forEach((t, c) -> total.merge(t, c, Long::sum)));
    return total.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed()
            .thenComparing(Map.Entry.comparingByKey()))
        .limit(k).map(Map.Entry::getKey).toList();
  }

  /** Term-count vectors scaled to unit length, one row per document. */
  static NDArray normalizedVectors(List<Profile> profiles, List<String> vocabulary) {
    int n = profiles.size();
    int d = vocabulary.size();
    double[] v = new double[n * d];
    for (int i = 0; i < n; i++) {
      double norm = 0;
      for (int j = 0; j < d; j++) {
        double x = profiles.get(i).terms().getOrDefault(vocabulary.get(j), 0L);
        v[i * d + j] = x;
        norm += x * x;
      }
      norm = Math.sqrt(norm);
      for (int j = 0; j < d && norm > 0; j++) {
        v[i * d + j] /= norm;
      }
    }
    return NDArray.of(v, n, d);
  }

  static NDArray transpose(NDArray a) {
    int rows = a.dim(0);
    int cols = a.dim(1);
    double[] in = a.toDoubleArray();
    double[] out = new double[in.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        out[j * rows + i] = in[i * cols + j];
      }
    }
    return NDArray.of(out, cols, rows);
  }

  static List<String> nearestPairs(List<Profile> profiles, NDArray similarity, int k) {
    record Pair(int i, int j, double score) {}
    int n = similarity.dim(0);
    double[] s = similarity.toDoubleArray();
    List<Pair> pairs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        pairs.add(new Pair(i, j, s[i * n + j]));
      }
    }
    pairs.sort(Comparator.comparingDouble(Pair::score).reversed()
        .thenComparingInt(Pair::i).thenComparingInt(Pair::j));
    return pairs.stream().limit(k).map(p -> String.format(Locale.ROOT, "%s ~ %s  cos=%.4f",
        profiles.get(p.i()).id(), profiles.get(p.j()).id(), p.score())).toList();
  }
}
