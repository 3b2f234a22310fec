package dev.open.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.report.HtmlReport;

/**
 * How long the HTML report of a random DAG takes to write, ELK's layout included: the figure
 * beside which open-bench/js/dagre_layout.js times dagre laying out the same DAGs (same
 * generator, same seed). {@code java -jar open-bench.jar layout [NODES...]}.
 */
final class LayoutTiming {
  private LayoutTiming() {}

  static int run(String[] args, PrintStream out) throws Exception {
    List<Integer> sizes = new ArrayList<>();
    for (String a : args) {
      sizes.add(Integer.parseInt(a));
    }
    if (sizes.isEmpty()) {
      sizes = List.of(500, 1000, 1500); // up to HtmlReport.DETAILED_LIMIT: drawn node by node
    }
    Path dir = Files.createTempDirectory("open-layout");
    boolean first = true; // the JVM's first report: ELK's classes load, nothing is compiled yet
    for (int round = 1; round <= 3; round++) {
      for (int n : sizes) {
        List<int[]> edges = randomDag(n, 1);
        RunReport report = run(n, edges);
        long t = System.nanoTime();
        Path html = HtmlReport.write(report, dir.resolve("layout-" + n + ".html"));
        long ms = (System.nanoTime() - t) / 1_000_000;
        out.printf(Locale.ROOT, "ELK (HtmlReport.write, round %d%s): %d nodes, %d edges: %d ms,"
            + " %,d bytes%n", round, first ? ", cold" : "", n, edges.size(), ms,
            Files.size(html));
        first = false;
        Files.delete(html);
      }
    }
    Files.delete(dir);
    return 0;
  }

  /** The DAG of dagre_layout.js: node i reads one or two earlier nodes, drawn from a seed. */
  static List<int[]> randomDag(int n, long seed) {
    long state = seed;
    Set<String> seen = new LinkedHashSet<>();
    List<int[]> edges = new ArrayList<>();
    for (int i = 1; i < n; i++) {
      state = (state * 1103515245L + 12345L) % 2147483648L;
      int from = (int) Math.floor(state / 2147483648.0 * i);
      if (seen.add(from + ">" + i)) {
        edges.add(new int[] {from, i});
      }
      state = (state * 1103515245L + 12345L) % 2147483648L;
      if (state / 2147483648.0 < 0.5) {
        state = (state * 1103515245L + 12345L) % 2147483648L;
        int other = (int) Math.floor(state / 2147483648.0 * i);
        if (seen.add(other + ">" + i)) {
          edges.add(new int[] {other, i});
        }
      }
    }
    return edges;
  }

  private static RunReport run(int n, List<int[]> edges) {
    List<List<Integer>> inputs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      inputs.add(new ArrayList<>());
    }
    for (int[] e : edges) {
      inputs.get(e[1]).add(e[0]);
    }
    DagBuilder b = Dag.builder("random-" + n);
    List<Node<Integer>> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Node<Integer>> in = inputs.get(i).stream().map(nodes::get).toList();
      nodes.add(in.isEmpty() ? b.task("n" + i, () -> 1)
          : b.fanIn("n" + i, in, xs -> xs.size()));
    }
    return DagExecutor.builder().build().run(b.build());
  }
}
