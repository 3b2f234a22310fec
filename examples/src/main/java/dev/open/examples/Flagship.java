package dev.open.examples;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
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
import dev.open.dag.export.DagExport;
import dev.open.dag.metrics.DagMetrics;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;

/**
 * The flagship example ({@code make demo}): a document-analytics pipeline. A corpus is fetched
 * (from a flaky source, so a retry policy earns its keep), every document is tokenized and
 * fingerprinted in its own task (dynamic fan-out), the term counts are fanned back in to a
 * vocabulary, documents become term vectors, and a document-similarity matrix finds the nearest
 * pairs. It prints the report, the run's per-node outcome and metrics, and writes the DAG as DOT.
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
  record Profile(String id, Map<String, Integer> terms, String fingerprint) {}

  public static void main(String[] args) throws Exception {
    int documents = args.length > 0 ? Integer.parseInt(args[0]) : 400;
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
    Node<List<Profile>> profiles = b.node("profile").withTags("cpu")
        .map(corpus, doc -> new Profile(doc.id(), termCounts(doc.text()), sha256(doc.text())));
    Node<List<String>> vocabulary = b.task("vocabulary", profiles, ps -> topTerms(ps, 24));
    Node<double[][]> vectors = b.node("vectors").retain()
        .task(profiles, vocabulary, Flagship::normalizedVectors);
    Node<double[][]> similarity = b.task("similarity", vectors, v -> multiply(v, transpose(v)));
    Node<List<String>> nearest = b.task("nearest-pairs", profiles, similarity,
        (ps, s) -> nearestPairs(ps, s, 5));
    Node<Long> duplicates = b.task("duplicates", profiles,
        ps -> ps.size() - ps.stream().map(Profile::fingerprint).distinct().count());
    Node<String> report = b.task("report", vocabulary, nearest, duplicates,
        (vocab, pairs, dups) -> "vocabulary: " + vocab.subList(0, 8) + " …\n"
            + "nearest documents:\n  " + String.join("\n  ", pairs) + "\n"
            + "duplicate documents: " + dups);
    Dag dag = b.build();

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DagExecutor executor = DagExecutor.builder()
        .withFailureMode(FailureMode.FAIL_FAST)
        .withConcurrencyLimit("cpu", Runtime.getRuntime().availableProcessors())
        .withDeadline(Duration.ofMinutes(2))
        .withListener(new DagMetrics(registry))
        .build();
    RunReport run = executor.run(dag).orThrow();

    System.out.println("== " + dag.name() + ": " + documents + " documents ==");
    System.out.println(run.result(report));
    System.out.println();
    System.out.printf(Locale.ROOT, "%-14s %-10s %8s %10s%n", "node", "status", "attempts", "ms");
    run.nodes().forEach(n -> System.out.printf(Locale.ROOT, "%-14s %-10s %8d %10.1f%n",
        n.name(), n.status(), n.attempts(),
        n.duration().map(d -> d.toNanos() / 1e6).orElse(0.0)));
    System.out.println();
    System.out.printf(Locale.ROOT, "run: %s; tasks retried: %.0f%n", run.summary(),
        registry.get("open.dag.tasks.retried").counters().stream()
            .mapToDouble(c -> c.count()).sum());
    Path dot = Path.of("target", "flagship.dot");
    Files.createDirectories(dot.getParent());
    Files.writeString(dot, DagExport.dot(dag, run));
    System.out.println("DAG written to " + dot.toAbsolutePath() + " (render: dot -Tsvg)");
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

  static Map<String, Integer> termCounts(String text) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String token : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (!token.isEmpty()) {
        counts.merge(token, 1, Integer::sum);
      }
    }
    return counts;
  }

  static String sha256(String text) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(digest);
  }

  static List<String> topTerms(List<Profile> profiles, int k) {
    Map<String, Integer> total = new LinkedHashMap<>();
    profiles.forEach(p -> p.terms().forEach((t, c) -> total.merge(t, c, Integer::sum)));
    return total.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed()
            .thenComparing(Map.Entry.comparingByKey()))
        .limit(k).map(Map.Entry::getKey).toList();
  }

  static double[][] normalizedVectors(List<Profile> profiles, List<String> vocabulary) {
    double[][] v = new double[profiles.size()][vocabulary.size()];
    for (int i = 0; i < v.length; i++) {
      double norm = 0;
      for (int j = 0; j < vocabulary.size(); j++) {
        v[i][j] = profiles.get(i).terms().getOrDefault(vocabulary.get(j), 0);
        norm += v[i][j] * v[i][j];
      }
      norm = Math.sqrt(norm);
      for (int j = 0; j < vocabulary.size() && norm > 0; j++) {
        v[i][j] /= norm;
      }
    }
    return v;
  }

  static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }

  static double[][] multiply(double[][] a, double[][] b) {
    double[][] c = new double[a.length][b[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int k = 0; k < b.length; k++) {
        double aik = a[i][k];
        for (int j = 0; j < b[0].length; j++) {
          c[i][j] += aik * b[k][j];
        }
      }
    }
    return c;
  }

  static List<String> nearestPairs(List<Profile> profiles, double[][] s, int k) {
    record Pair(int i, int j, double score) {}
    List<Pair> pairs = new ArrayList<>();
    for (int i = 0; i < s.length; i++) {
      for (int j = i + 1; j < s.length; j++) {
        pairs.add(new Pair(i, j, s[i][j]));
      }
    }
    pairs.sort(Comparator.comparingDouble(Pair::score).reversed()
        .thenComparingInt(Pair::i).thenComparingInt(Pair::j));
    return pairs.stream().limit(k).map(p -> String.format(Locale.ROOT, "%s ~ %s  cos=%.4f",
        profiles.get(p.i()).id(), profiles.get(p.j()).id(), p.score())).toList();
  }
}
