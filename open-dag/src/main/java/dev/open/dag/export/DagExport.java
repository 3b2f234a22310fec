package dev.open.dag.export;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.open.dag.Dag;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;

/**
 * Renders a {@link Dag} as Graphviz DOT or as a Mermaid flowchart, optionally coloured by the
 * outcome of a run. Edges point from an input to the node that consumes it.
 *
 * <pre>{@code
 * Files.writeString(Path.of("etl.dot"), DagExport.dot(dag));
 * String md = "```mermaid\n" + DagExport.mermaid(dag, report) + "```\n";
 * }</pre>
 */
public final class DagExport {
  private DagExport() {}

  /**
   * Renders {@code dag} in DOT.
   *
   * @param dag the DAG
   * @return a {@code digraph} in DOT syntax
   */
  public static String dot(Dag dag) {
    return dot(dag, null);
  }

  /**
   * Renders {@code dag} in DOT, each node filled with the colour of its status in {@code report}.
   *
   * @param dag the DAG
   * @param report a report of a run of {@code dag}, or null for no colours
   * @return a {@code digraph} in DOT syntax
   */
  public static String dot(Dag dag, RunReport report) {
    Objects.requireNonNull(dag, "dag");
    checkReport(dag, report);
    StringBuilder out = new StringBuilder();
    out.append("digraph ").append(dotId(dag.name())).append(" {\n");
    out.append("  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white];\n");
    for (Node<?> node : dag.nodes()) {
      out.append("  ").append(dotId(node.name()));
      StringBuilder attrs = new StringBuilder();
      if (!"java".equals(node.backend())) {
        attrs.append("label=").append(dotId(node.name() + "\n[" + node.backend() + "]"));
      }
      if (report != null) {
        if (attrs.length() > 0) {
          attrs.append(", ");
        }
        attrs.append("fillcolor=\"").append(colour(report.node(node).status())).append('"');
      }
      if (attrs.length() > 0) {
        out.append(" [").append(attrs).append(']');
      }
      out.append(";\n");
    }
    for (Node<?> node : dag.nodes()) {
      for (Node<?> input : node.inputs()) {
        out.append("  ").append(dotId(input.name())).append(" -> ")
            .append(dotId(node.name())).append(";\n");
      }
    }
    return out.append("}\n").toString();
  }

  /**
   * Renders {@code dag} as a Mermaid flowchart.
   *
   * @param dag the DAG
   * @return a {@code flowchart LR} definition
   */
  public static String mermaid(Dag dag) {
    return mermaid(dag, null);
  }

  /**
   * Renders {@code dag} as a Mermaid flowchart, each node styled by its status in {@code report}.
   *
   * @param dag the DAG
   * @param report a report of a run of {@code dag}, or null for no styles
   * @return a {@code flowchart LR} definition
   */
  public static String mermaid(Dag dag, RunReport report) {
    Objects.requireNonNull(dag, "dag");
    checkReport(dag, report);
    // Mermaid ids must be simple words: number the nodes and put the names in labels.
    Map<Node<?>, String> ids = new HashMap<>();
    List<Node<?>> nodes = dag.nodes();
    StringBuilder out = new StringBuilder("flowchart LR\n");
    if (report != null) {
      for (NodeStatus status : NodeStatus.values()) {
        out.append("  classDef ").append(status.name().toLowerCase(java.util.Locale.ROOT))
            .append(" fill:").append(colour(status)).append(";\n");
      }
    }
    for (int i = 0; i < nodes.size(); i++) {
      Node<?> node = nodes.get(i);
      String id = "n" + i;
      ids.put(node, id);
      String label = "java".equals(node.backend())
          ? node.name()
          : node.name() + " [" + node.backend() + "]";
      out.append("  ").append(id).append("[\"").append(mermaidText(label)).append("\"]");
      if (report != null) {
        out.append(":::")
            .append(report.node(node).status().name().toLowerCase(java.util.Locale.ROOT));
      }
      out.append('\n');
    }
    for (Node<?> node : nodes) {
      for (Node<?> input : node.inputs()) {
        out.append("  ").append(ids.get(input)).append(" --> ").append(ids.get(node)).append('\n');
      }
    }
    return out.toString();
  }

  private static void checkReport(Dag dag, RunReport report) {
    if (report != null && report.dag() != dag) {
      throw new IllegalArgumentException("the report is of DAG '" + report.dag().name()
          + "', not of '" + dag.name() + "'");
    }
  }

  private static String colour(NodeStatus status) {
    return switch (status) {
      case SUCCEEDED -> "#c8e6c9";
      case FAILED -> "#ffcdd2";
      case SKIPPED -> "#eeeeee";
      case CANCELLED -> "#ffe0b2";
      case CACHED -> "#bbdefb";
    };
  }

  private static String dotId(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        default -> out.append(c);
      }
    }
    return out.append('"').toString();
  }

  private static String mermaidText(String s) {
    return s.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;")
        .replace(">", "&gt;");
  }
}
