package dev.open.dag;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates the nodes of a builder and compiles them into a {@link Dag}: int-indexed parent and
 * child lists in CSR form (an offsets array and one flat array of indices), so that the executor
 * touches a few primitive arrays per node rather than object graphs.
 */
final class DagCompiler {
  private final DagBuilder builder;
  private final String dagName;
  private final Node<?>[] nodes;
  private final List<String> problems = new ArrayList<>();

  private DagCompiler(DagBuilder builder, String dagName, List<Node<?>> nodes) {
    this.builder = builder;
    this.dagName = dagName;
    this.nodes = nodes.toArray(new Node<?>[0]);
  }

  static Dag compile(DagBuilder builder, String dagName, List<Node<?>> nodes) {
    return new DagCompiler(builder, dagName, nodes).compile();
  }

  private Dag compile() {
    int n = nodes.length;
    checkNamesAndTasks();
    int[] parentStart = new int[n + 1];
    for (int i = 0; i < n; i++) {
      parentStart[i + 1] = parentStart[i] + validInputs(nodes[i]);
    }
    int[] parents = new int[parentStart[n]];
    int[] childCount = new int[n + 1];
    for (int i = 0; i < n; i++) {
      int at = parentStart[i];
      for (Node<?> input : inputsOf(nodes[i])) {
        if (isValidInput(input)) {
          parents[at++] = input.index;
          childCount[input.index]++;
        }
      }
    }
    int[] childStart = new int[n + 1];
    for (int i = 0; i < n; i++) {
      childStart[i + 1] = childStart[i] + childCount[i];
    }
    int[] children = new int[childStart[n]];
    int[] fill = Arrays.copyOf(childStart, n);
    for (int i = 0; i < n; i++) {
      for (int p = parentStart[i]; p < parentStart[i + 1]; p++) {
        children[fill[parents[p]]++] = i;
      }
    }
    int[] order = topologicalOrder(parentStart, childStart, children);
    if (order == null) {
      reportCycles(childStart, children);
    }
    if (!problems.isEmpty()) {
      throw new DagValidationException(dagName, problems);
    }
    return new Dag(dagName, builder, nodes, parentStart, parents, childStart, children, order);
  }

  private void checkNamesAndTasks() {
    Map<String, Integer> firstByName = new HashMap<>(nodes.length * 2);
    for (Node<?> node : nodes) {
      String label = label(node);
      if (node.name == null) {
        problems.add(label + " has no name");
      } else if (node.name.isBlank()) {
        problems.add(label + " has a blank name");
      } else {
        Integer first = firstByName.putIfAbsent(node.name, node.index);
        if (first != null) {
          problems.add("duplicate node name '" + node.name + "' (nodes #" + first + " and #"
              + node.index + ")");
        }
      }
      if (node.kind == Node.Kind.DECLARED) {
        problems.add(label + " was declared but never defined");
        continue;
      }
      if (node.invoker == null) {
        problems.add(label + " has no task");
      }
      if (node.inputs == null) {
        problems.add(label + " has a null list of inputs");
        continue;
      }
      for (int k = 0; k < node.inputs.length; k++) {
        Node<?> input = node.inputs[k];
        if (input == null) {
          problems.add(label + " has a null input (#" + (k + 1) + ")");
        } else if (input.owner != builder) {
          problems.add(label + " uses input '" + input.name + "' of another DAG ('"
              + input.owner.name() + "')");
        }
      }
    }
  }

  private int validInputs(Node<?> node) {
    int count = 0;
    for (Node<?> input : inputsOf(node)) {
      if (isValidInput(input)) {
        count++;
      }
    }
    return count;
  }

  private Node<?>[] inputsOf(Node<?> node) {
    return node.inputs == null ? Node.NO_INPUTS : node.inputs;
  }

  private boolean isValidInput(Node<?> input) {
    return input != null && input.owner == builder;
  }

  /** Kahn's algorithm; returns null when a cycle leaves some nodes unordered. */
  private static int[] topologicalOrder(int[] parentStart, int[] childStart, int[] children) {
    int n = parentStart.length - 1;
    int[] waiting = new int[n];
    int[] order = new int[n];
    int tail = 0;
    for (int i = 0; i < n; i++) {
      waiting[i] = parentStart[i + 1] - parentStart[i];
      if (waiting[i] == 0) {
        order[tail++] = i;
      }
    }
    for (int head = 0; head < tail; head++) {
      int node = order[head];
      for (int c = childStart[node]; c < childStart[node + 1]; c++) {
        if (--waiting[children[c]] == 0) {
          order[tail++] = children[c];
        }
      }
    }
    return tail == n ? order : null;
  }

  /**
   * Reports one cycle per strongly connected component that has one (Tarjan's algorithm, with
   * explicit stacks so that long chains cannot overflow the thread's stack).
   */
  private void reportCycles(int[] childStart, int[] children) {
    int n = childStart.length - 1;
    int[] index = new int[n];
    int[] low = new int[n];
    boolean[] onStack = new boolean[n];
    Arrays.fill(index, -1);
    int[] sccStack = new int[n];
    int sccTop = 0;
    int[] callNode = new int[n];
    int[] callEdge = new int[n];
    int counter = 0;
    int[] component = new int[n];
    Arrays.fill(component, -1);
    int components = 0;
    for (int root = 0; root < n; root++) {
      if (index[root] >= 0) {
        continue;
      }
      int depth = 0;
      callNode[0] = root;
      callEdge[0] = childStart[root];
      index[root] = low[root] = counter++;
      sccStack[sccTop++] = root;
      onStack[root] = true;
      while (depth >= 0) {
        int v = callNode[depth];
        if (callEdge[depth] < childStart[v + 1]) {
          int w = children[callEdge[depth]++];
          if (index[w] < 0) {
            index[w] = low[w] = counter++;
            sccStack[sccTop++] = w;
            onStack[w] = true;
            depth++;
            callNode[depth] = w;
            callEdge[depth] = childStart[w];
          } else if (onStack[w]) {
            low[v] = Math.min(low[v], index[w]);
          }
          continue;
        }
        if (low[v] == index[v]) {
          int w;
          do {
            w = sccStack[--sccTop];
            onStack[w] = false;
            component[w] = components;
          } while (w != v);
          components++;
        }
        depth--;
        if (depth >= 0) {
          int parent = callNode[depth];
          low[parent] = Math.min(low[parent], low[v]);
        }
      }
    }
    boolean[] reported = new boolean[components];
    for (int v = 0; v < n; v++) {
      int c = component[v];
      if (!reported[c] && inCycle(v, component, childStart, children)) {
        reported[c] = true;
        problems.add("cycle: " + cyclePath(v, component, childStart, children));
      }
    }
  }

  private static boolean inCycle(int v, int[] component, int[] childStart, int[] children) {
    for (int e = childStart[v]; e < childStart[v + 1]; e++) {
      if (component[children[e]] == component[v]) {
        return true; // a self-loop or an edge inside a non-trivial component
      }
    }
    return false;
  }

  /** Finds a shortest path from {@code start} back to itself inside its component (BFS). */
  private String cyclePath(int start, int[] component, int[] childStart, int[] children) {
    Map<Integer, Integer> cameFrom = new HashMap<>();
    int[] queue = new int[component.length];
    int head = 0;
    int tail = 0;
    queue[tail++] = start;
    int last = -1;
    search:
    while (head < tail) {
      int v = queue[head++];
      for (int e = childStart[v]; e < childStart[v + 1]; e++) {
        int w = children[e];
        if (component[w] != component[start]) {
          continue;
        }
        if (w == start) {
          last = v;
          break search;
        }
        if (!cameFrom.containsKey(w)) {
          cameFrom.put(w, v);
          queue[tail++] = w;
        }
      }
    }
    List<String> path = new ArrayList<>();
    path.add(nodes[start].name);
    for (int v = last; v != start; v = cameFrom.get(v)) {
      path.add(nodes[v].name);
    }
    path.add(nodes[start].name);
    List<String> forward = new ArrayList<>(path.size());
    forward.add(path.get(0));
    for (int i = path.size() - 2; i >= 1; i--) {
      forward.add(path.get(i));
    }
    forward.add(path.get(path.size() - 1));
    return String.join(" -> ", forward);
  }

  private static String label(Node<?> node) {
    return node.name == null || node.name.isBlank()
        ? "node #" + node.index
        : "node '" + node.name + "'";
  }
}
