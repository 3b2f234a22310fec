package dev.open.bench;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;

import dev.open.dag.CacheOutcome;
import dev.open.dag.NodeReport;
import dev.open.dag.RunReport;

/**
 * Prints what a run's result store did for every node, and why: first the reasons with how many
 * nodes each explains, then one line per node ({@code replay ... --store DIR --explain}).
 */
final class Explain {
  private Explain() {}

  static void print(RunReport report, PrintStream out) {
    Map<String, Integer> reasons = new TreeMap<>();
    for (NodeReport node : report.nodes()) {
      CacheOutcome cache = node.cache();
      // Grouped without the hashes a reason quotes, so that one cause is one line.
      String reason = cache.reason().replaceAll("[0-9a-f]{12}", "…");
      reasons.merge(cache.kind() + " — " + reason, 1, Integer::sum);
    }
    out.println("cache: " + report.summary());
    reasons.forEach((reason, count) -> out.printf("%8d  %s%n", count, reason));
    for (NodeReport node : report.nodes()) {
      CacheOutcome cache = node.cache();
      out.printf("%-40s %-9s %-13s %s%s%n", node.name(), node.status(), cache.kind(),
          cache.key().map(k -> k.shortHex() + " ").orElse(""), cache.reason());
    }
  }
}
