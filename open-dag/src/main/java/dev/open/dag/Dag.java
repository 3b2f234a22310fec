package dev.open.dag;

import java.util.AbstractList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.RandomAccess;

import dev.open.dag.spi.PlacedTask;

/**
 * An immutable, validated workflow: nodes and the edges between them. Create one with {@link
 * #builder(String)}; run it with {@link #run()}, or with a configured {@link DagExecutor}. A DAG can
 * be run any number of times, also concurrently: every run has its own state and results.
 *
 * <p>Thread-safe.
 */
public final class Dag {
  private final String name;
  private final DagBuilder owner;
  private final Node<?>[] nodes;
  // CSR: the parents of node i are parents[parentStart[i] .. parentStart[i+1]), likewise children.
  final int[] parentStart;
  final int[] parents;
  final int[] childStart;
  final int[] children;
  final int[] topologicalOrder;
  private volatile Map<String, Node<?>> byName;

  Dag(String name, DagBuilder owner, Node<?>[] nodes, int[] parentStart, int[] parents,
      int[] childStart, int[] children, int[] topologicalOrder) {
    this.name = name;
    this.owner = owner;
    this.nodes = nodes;
    this.parentStart = parentStart;
    this.parents = parents;
    this.childStart = childStart;
    this.children = children;
    this.topologicalOrder = topologicalOrder;
  }

  /**
   * Returns a builder for a new DAG.
   *
   * @param name the DAG's name, used in errors, logs and metrics
   * @return a new builder
   */
  public static DagBuilder builder(String name) {
    return new DagBuilder(name);
  }

  /** {@return the DAG's declared version ({@link DagBuilder#withVersion}), or {@code ""}} */
  public String version() {
    return owner.version;
  }

  /** Whether nodes cache by default: the DAG's setting, or null for the executor's. */
  Boolean cacheDefault() {
    return owner.cache;
  }

  /** {@return the DAG's name} */
  public String name() {
    return name;
  }

  /** {@return the number of nodes} */
  public int size() {
    return nodes.length;
  }

  /** {@return the number of edges (one per input of every node)} */
  public int edgeCount() {
    return parents.length;
  }

  /** {@return all nodes in a topological order: every node after all of its inputs} */
  public List<Node<?>> nodes() {
    return new TopologicalView();
  }

  /**
   * Returns the node named {@code name}, if any.
   *
   * @param name a node name
   * @return the node, or empty
   */
  public Optional<Node<?>> node(String name) {
    Map<String, Node<?>> map = byName;
    if (map == null) {
      map = new HashMap<>(nodes.length * 2);
      for (Node<?> node : nodes) {
        map.put(node.name, node);
      }
      byName = map;
    }
    return Optional.ofNullable(map.get(name));
  }

  /**
   * Returns the nodes that take {@code node}'s value as an input.
   *
   * @param node a node of this DAG
   * @return its consumers, in no particular order
   */
  public List<Node<?>> consumers(Node<?> node) {
    int i = indexOf(node);
    Node<?>[] result = new Node<?>[childStart[i + 1] - childStart[i]];
    for (int c = childStart[i]; c < childStart[i + 1]; c++) {
      result[c - childStart[i]] = nodes[children[c]];
    }
    return List.of(result);
  }

  /**
   * Rebuilds one attempt of a task of this DAG from its identity, to run it here with {@link
   * PlacedTask#runHere()}: how a JVM runs an attempt that another JVM's {@link
   * dev.open.dag.spi.TaskPlacement} sent it, every JVM having built the same DAG.
   *
   * @param node the node's name
   * @param element the element of a {@code map} node, or -1 for a node's own task
   * @param attempt the attempt number, from 1
   * @param inputs the task's input values, or the one element of a {@code map} node
   * @return the attempt
   * @throws IllegalArgumentException if the DAG has no such node, the element does not fit the
   *     node's kind, or the inputs are not as many as the task takes
   */
  public PlacedTask placedTask(String node, int element, int attempt, List<?> inputs) {
    Objects.requireNonNull(inputs, "inputs");
    Node<?> def = node(node).orElseThrow(() -> new IllegalArgumentException(
        "DAG '" + name + "' has no node named '" + node + "'"));
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, was " + attempt);
    }
    boolean map = def.kind == Node.Kind.MAP;
    if (map != element >= 0 || element < -1) {
      throw new IllegalArgumentException(map
          ? "node '" + node + "' is a map node: give the element to run, not " + element
          : "node '" + node + "' is not a map node: its element must be -1, not " + element);
    }
    int expected = map ? 1 : def.inputs.length;
    if (inputs.size() != expected) {
      throw new IllegalArgumentException("node '" + node + "' takes " + expected + " input"
          + (expected == 1 ? "" : "s") + ", got " + inputs.size());
    }
    return new PlacedAttempt(name, def, element, attempt, inputs.toArray());
  }

  /**
   * Runs this DAG with {@link DagExecutor#defaults()} and blocks until it has finished.
   *
   * @return the run's report
   * @see DagExecutor#run(Dag)
   */
  public RunReport run() {
    return DagExecutor.defaults().run(this);
  }

  /**
   * Starts a run with {@link DagExecutor#defaults()} and returns at once.
   *
   * @return the run's handle
   * @see DagExecutor#start(Dag)
   */
  public Execution start() {
    return DagExecutor.defaults().start(this);
  }

  @Override
  public String toString() {
    return "Dag[" + name + ", " + nodes.length + " nodes, " + parents.length + " edges]";
  }

  Node<?> node(int index) {
    return nodes[index];
  }

  boolean isSink(int index) {
    return childStart[index + 1] == childStart[index];
  }

  /** Returns the index of {@code node}, refusing nodes of other DAGs with a clear message. */
  int indexOf(Node<?> node) {
    Objects.requireNonNull(node, "node");
    if (node.owner != owner) {
      throw new IllegalArgumentException(
          "node '" + node.name() + "' does not belong to DAG '" + name + "'");
    }
    return node.index;
  }

  private final class TopologicalView extends AbstractList<Node<?>> implements RandomAccess {
    @Override
    public Node<?> get(int i) {
      return nodes[topologicalOrder[i]];
    }

    @Override
    public int size() {
      return nodes.length;
    }
  }
}
