package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.LongStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;

/**
 * Properties of the executor over seeded random DAGs: a random subset of forward edges i → j (i <
 * j) over shuffled names. Each test runs for many seeds; a failing seed is in the test's name.
 */
class RandomDagPropertyTest {
  private static final long MOD = 1_000_000_007L;

  static LongStream seeds() {
    return LongStream.range(0, 40);
  }

  /** A random DAG whose node i computes 1 + the sum of its parents' values (mod MOD). */
  static final class RandomDag {
    final int n;
    final List<List<Integer>> parents = new ArrayList<>();
    final List<List<Integer>> children = new ArrayList<>();
    final String[] names;
    final long[] expected;

    RandomDag(Random random) {
      n = 1 + random.nextInt(150);
      double density = random.nextDouble() * Math.min(1.0, 4.0 / n);
      List<String> shuffled = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        shuffled.add("node-" + i);
        parents.add(new ArrayList<>());
        children.add(new ArrayList<>());
      }
      Collections.shuffle(shuffled, random);
      names = shuffled.toArray(new String[0]);
      for (int j = 0; j < n; j++) {
        for (int i = 0; i < j; i++) {
          if (random.nextDouble() < density) {
            parents.get(j).add(i);
            children.get(i).add(j);
          }
        }
      }
      expected = new long[n];
      for (int j = 0; j < n; j++) {
        long v = 1;
        for (int p : parents.get(j)) {
          v = (v + expected[p]) % MOD;
        }
        expected[j] = v;
      }
    }

    /** Builds the DAG, declaring nodes in a shuffled order to exercise forward references. */
    List<Node<Long>> build(DagBuilder b, Body body) {
      List<Node<Long>> nodes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        nodes.add(b.declare(names[i]));
      }
      for (int j = n - 1; j >= 0; j--) { // define children before their parents
        int index = j;
        List<Node<Long>> inputs = new ArrayList<>();
        for (int p : parents.get(j)) {
          inputs.add(nodes.get(p));
        }
        b.fanIn(names[j], inputs, values -> {
          body.run(index);
          long v = 1;
          for (Long x : values) {
            v = (v + x) % MOD;
          }
          return v;
        });
      }
      return nodes;
    }

    boolean isDescendant(int node, int ancestor) {
      BitSet seen = new BitSet();
      List<Integer> stack = new ArrayList<>(List.of(ancestor));
      while (!stack.isEmpty()) {
        int v = stack.remove(stack.size() - 1);
        for (int c : children.get(v)) {
          if (c == node) {
            return true;
          }
          if (!seen.get(c)) {
            seen.set(c);
            stack.add(c);
          }
        }
      }
      return false;
    }
  }

  @FunctionalInterface
  interface Body {
    void run(int node) throws Exception;
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void everyNodeRunsOnceAfterAllItsParentsWithTheRightValue(long seed) {
    RandomDag g = new RandomDag(new Random(seed));
    AtomicLong clock = new AtomicLong();
    AtomicLongArray start = new AtomicLongArray(g.n);
    AtomicLongArray end = new AtomicLongArray(g.n);
    AtomicIntegerArray runs = new AtomicIntegerArray(g.n);
    Random jitter = new Random(seed);
    int[] sleeps = new int[g.n];
    for (int i = 0; i < g.n; i++) {
      sleeps[i] = jitter.nextInt(4) == 0 ? 1 : 0;
    }
    DagBuilder b = Dag.builder("random-" + seed);
    List<Node<Long>> nodes = g.build(b, i -> {
      runs.incrementAndGet(i);
      start.set(i, clock.incrementAndGet());
      if (sleeps[i] > 0) {
        Thread.sleep(sleeps[i]);
      }
      end.set(i, clock.incrementAndGet());
    });
    Dag dag = b.build();
    RunReport report = dag.run();

    assertThat(report.status()).isEqualTo(RunStatus.SUCCEEDED);
    for (int j = 0; j < g.n; j++) {
      assertThat(runs.get(j)).as("runs of %s", g.names[j]).isEqualTo(1);
      for (int p : g.parents.get(j)) {
        assertThat(start.get(j)).as("%s starts after %s ends", g.names[j], g.names[p])
            .isGreaterThan(end.get(p));
      }
      if (g.children.get(j).isEmpty()) {
        assertThat(report.result(nodes.get(j))).isEqualTo(g.expected[j]);
      }
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void continueModeSkipsExactlyTheDescendantsOfFailures(long seed) {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    BitSet failing = new BitSet();
    for (int i = 0; i < g.n; i++) {
      if (random.nextInt(10) == 0) {
        failing.set(i);
      }
    }
    DagBuilder b = Dag.builder("continue-" + seed);
    List<Node<Long>> nodes = g.build(b, i -> {
      if (failing.get(i)) {
        throw new IllegalStateException("planned failure of node " + i);
      }
    });
    RunReport report = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE).build()
        .run(b.build());

    NodeStatus[] expected = new NodeStatus[g.n];
    for (int j = 0; j < g.n; j++) {
      boolean parentsOk = true;
      for (int p : g.parents.get(j)) {
        parentsOk &= expected[p] == NodeStatus.SUCCEEDED;
      }
      expected[j] = !parentsOk ? NodeStatus.SKIPPED
          : failing.get(j) ? NodeStatus.FAILED : NodeStatus.SUCCEEDED;
    }
    for (int j = 0; j < g.n; j++) {
      assertThat(report.node(nodes.get(j)).status()).as(g.names[j]).isEqualTo(expected[j]);
    }
    assertThat(report.status())
        .isEqualTo(failing.isEmpty() ? RunStatus.SUCCEEDED : RunStatus.FAILED);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void failFastStopsAtTheFirstFailureAndSkipsItsDescendants(long seed) {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    int failing = random.nextInt(g.n);
    AtomicIntegerArray ran = new AtomicIntegerArray(g.n);
    DagBuilder b = Dag.builder("fail-fast-" + seed);
    List<Node<Long>> nodes = g.build(b, i -> {
      ran.incrementAndGet(i);
      if (i == failing) {
        throw new IllegalStateException("planned failure");
      }
      Thread.sleep(random.nextInt(2));
    });
    RunReport report = b.build().run();

    assertThat(report.status()).isEqualTo(RunStatus.FAILED);
    assertThat(report.node(nodes.get(failing)).status()).isEqualTo(NodeStatus.FAILED);
    assertThat(report.failure()).get().isInstanceOf(TaskFailedException.class);
    for (int j = 0; j < g.n; j++) {
      NodeStatus status = report.node(nodes.get(j)).status();
      assertThat(ran.get(j)).as("runs of %s", g.names[j]).isLessThanOrEqualTo(1);
      if (g.isDescendant(j, failing)) {
        assertThat(status).as(g.names[j]).isEqualTo(NodeStatus.SKIPPED);
      } else if (j != failing) {
        assertThat(status).as(g.names[j]).isIn(NodeStatus.SUCCEEDED, NodeStatus.CANCELLED);
      }
      if (status == NodeStatus.SUCCEEDED) {
        for (int p : g.parents.get(j)) {
          assertThat(report.node(nodes.get(p)).status()).isEqualTo(NodeStatus.SUCCEEDED);
        }
      }
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void cancellationEndsEveryNodeAndNoTaskOutlivesTheRun(long seed) throws Exception {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    AtomicInteger inside = new AtomicInteger();
    AtomicIntegerArray ran = new AtomicIntegerArray(g.n);
    DagBuilder b = Dag.builder("cancel-" + seed);
    List<Node<Long>> nodes = g.build(b, i -> {
      ran.incrementAndGet(i);
      inside.incrementAndGet();
      try {
        Thread.sleep(1 + (i % 3));
      } finally {
        inside.decrementAndGet();
      }
    });
    Execution run = b.build().start();
    Thread.sleep(random.nextInt(5));
    run.cancel();
    RunReport report = run.await(Duration.ofSeconds(30));

    assertThat(inside).as("tasks still running after the run ended").hasValue(0);
    assertThat(report.count(NodeStatus.FAILED)).isZero();
    assertThat(report.count(NodeStatus.SUCCEEDED) + report.count(NodeStatus.CANCELLED))
        .isEqualTo(g.n);
    for (int j = 0; j < g.n; j++) {
      NodeReport node = report.node(nodes.get(j));
      assertThat(ran.get(j)).isLessThanOrEqualTo(1);
      if (node.status() == NodeStatus.SUCCEEDED) {
        for (int p : g.parents.get(j)) {
          assertThat(report.node(nodes.get(p)).status()).isEqualTo(NodeStatus.SUCCEEDED);
        }
      }
      assertThat(node.attempts()).as("attempts of %s", g.names[j]).isEqualTo(ran.get(j));
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void transientFailuresAreRetriedAndEachTaskSucceedsOnce(long seed) {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    int[] failuresPlanned = new int[g.n];
    for (int i = 0; i < g.n; i++) {
      failuresPlanned[i] = random.nextInt(3);
    }
    AtomicIntegerArray calls = new AtomicIntegerArray(g.n);
    AtomicIntegerArray successes = new AtomicIntegerArray(g.n);
    DagBuilder b = Dag.builder("retry-" + seed);
    List<Node<Long>> nodes = g.build(b, i -> {
      if (calls.incrementAndGet(i) <= failuresPlanned[i]) {
        throw new IllegalStateException("transient");
      }
      successes.incrementAndGet(i);
    });
    RunReport report = DagExecutor.builder()
        .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ZERO).build())
        .build().run(b.build());

    assertThat(report.status()).isEqualTo(RunStatus.SUCCEEDED);
    for (int j = 0; j < g.n; j++) {
      assertThat(successes.get(j)).isEqualTo(1);
      assertThat(report.node(nodes.get(j)).attempts()).isEqualTo(failuresPlanned[j] + 1);
      if (g.children.get(j).isEmpty()) {
        assertThat(report.result(nodes.get(j))).isEqualTo(g.expected[j]);
      }
    }
  }
}
