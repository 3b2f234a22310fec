package dev.open.bench.dag;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.Node;

/**
 * The DAG shapes the scheduling benchmarks run, as plain parent lists (node i's parents are all
 * smaller than i, so index order is topological), and the two ways to run them: as an OPEN
 * {@link Dag} and as the {@link CompletableFuture} graph a user would write by hand.
 */
public enum Shape {
  /** One root, {@code n - 2} independent tasks, one sink gathering them all. */
  WIDE {
    @Override
    int[][] parents(int n) {
      int[][] parents = new int[n][];
      parents[0] = NONE;
      for (int i = 1; i < n - 1; i++) {
        parents[i] = new int[] {0};
      }
      int[] all = new int[n - 2];
      for (int i = 0; i < all.length; i++) {
        all[i] = i + 1;
      }
      parents[n - 1] = all;
      return parents;
    }
  },
  /** A single line: each task depends on the one before. */
  CHAIN {
    @Override
    int[][] parents(int n) {
      int[][] parents = new int[n][];
      parents[0] = NONE;
      for (int i = 1; i < n; i++) {
        parents[i] = new int[] {i - 1};
      }
      return parents;
    }
  },
  /**
   * Random layers of 1,000 tasks; each task depends on 1 to 3 random tasks of the layer before
   * (seeded, so every run sees the same graph).
   */
  LAYERED {
    @Override
    int[][] parents(int n) {
      int width = Math.min(1_000, n);
      Random random = new Random(42);
      int[][] parents = new int[n][];
      for (int i = 0; i < n; i++) {
        int layerStart = i / width * width;
        if (layerStart == 0) {
          parents[i] = NONE;
          continue;
        }
        int previous = layerStart - width;
        int k = 1 + random.nextInt(3);
        int[] p = new int[k];
        for (int j = 0; j < k; j++) {
          p[j] = previous + random.nextInt(width);
        }
        parents[i] = p;
      }
      return parents;
    }
  };

  private static final int[] NONE = {};

  abstract int[][] parents(int n);

  /** Builds this shape of {@code n} nodes as an OPEN DAG of no-op tasks. */
  public Dag dag(int n) {
    int[][] parents = parents(n);
    DagBuilder b = Dag.builder(name().toLowerCase() + "-" + n);
    List<Node<Integer>> nodes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int[] p = parents[i];
      Node<Integer> node;
      if (p.length == 0) {
        node = b.task("n" + i, () -> 1);
      } else if (p.length == 1) {
        node = b.task("n" + i, nodes.get(p[0]), x -> 1);
      } else {
        List<Node<Integer>> inputs = new ArrayList<>(p.length);
        for (int q : p) {
          inputs.add(nodes.get(q));
        }
        node = b.fanIn("n" + i, inputs, xs -> 1);
      }
      nodes.add(node);
    }
    return b.build();
  }

  /**
   * Runs this shape as a hand-written {@link CompletableFuture} graph on {@code executor}: the
   * baseline a user would otherwise write. Returns when every node has finished.
   */
  public static int runCompletableFutures(int[][] parents, Executor executor) {
    int n = parents.length;
    @SuppressWarnings("unchecked")
    CompletableFuture<Integer>[] futures = new CompletableFuture[n];
    List<CompletableFuture<Integer>> sinks = new ArrayList<>();
    boolean[] hasChild = new boolean[n];
    for (int i = 0; i < n; i++) {
      int[] p = parents[i];
      if (p.length == 0) {
        futures[i] = CompletableFuture.supplyAsync(() -> 1, executor);
      } else if (p.length == 1) {
        futures[i] = futures[p[0]].thenApplyAsync(x -> 1, executor);
      } else {
        CompletableFuture<?>[] inputs = new CompletableFuture<?>[p.length];
        for (int j = 0; j < p.length; j++) {
          inputs[j] = futures[p[j]];
          hasChild[p[j]] = true;
        }
        futures[i] = CompletableFuture.allOf(inputs).thenApplyAsync(v -> {
          int sum = 0;
          for (CompletableFuture<?> f : inputs) {
            sum += (Integer) f.join(); // read the inputs, as an OPEN task receives them
          }
          return sum > 0 ? 1 : 0;
        }, executor);
      }
      if (p.length == 1) {
        hasChild[p[0]] = true;
      }
    }
    for (int i = 0; i < n; i++) {
      if (!hasChild[i]) {
        sinks.add(futures[i]);
      }
    }
    CompletableFuture.allOf(sinks.toArray(new CompletableFuture<?>[0])).join();
    return sinks.size();
  }
}
