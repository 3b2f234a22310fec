package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.LongStream;

import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;

/**
 * Properties of the executor over seeded random DAGs. Everything a run depends on is drawn from
 * one {@code new Random(seed)}: the graph, the order its nodes are declared and defined in, which
 * tasks fail, the order tasks finish in, and the step at which a run is cancelled. No test waits
 * on the wall clock: tasks are held at gates that the test opens one logical step at a time (see
 * {@link Stepper}). A failing seed is in the test's name and in every assertion's description,
 * and reproduces the same schedule.
 */
class RandomDagPropertyTest {
  private static final long MOD = 1_000_000_007L;
  private static final long WAIT_SECONDS = 30;

  static LongStream seeds() {
    return LongStream.range(0, 40);
  }

  /**
   * A random DAG: a random subset of the forward edges i → j (i &lt; j) of a random size, so that
   * index order is one topological order. Node i is labelled {@code names[i]}, a random
   * permutation of the labels, and the builder sees the nodes in a random declaration order and
   * then a random definition order, so that neither the builder's indices nor the labels follow
   * the topological order: the compiler has to find one. Node i computes 1 + the sum of its
   * parents' values (mod {@link #MOD}).
   */
  static final class RandomDag {
    final int n;
    final List<List<Integer>> parents = new ArrayList<>();
    final List<List<Integer>> children = new ArrayList<>();
    final String[] names;
    final List<Integer> declarationOrder = new ArrayList<>();
    final List<Integer> definitionOrder = new ArrayList<>();
    final long[] expected;
    final Map<String, Integer> byName = new HashMap<>();

    RandomDag(Random random) {
      n = 1 + random.nextInt(150);
      double density = random.nextDouble() * Math.min(1.0, 4.0 / n);
      List<String> labels = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        labels.add("node-" + i);
        parents.add(new ArrayList<>());
        children.add(new ArrayList<>());
        declarationOrder.add(i);
        definitionOrder.add(i);
      }
      Collections.shuffle(labels, random);
      names = labels.toArray(new String[0]);
      for (int i = 0; i < n; i++) {
        byName.put(names[i], i);
      }
      for (int j = 0; j < n; j++) {
        for (int i = 0; i < j; i++) {
          if (random.nextDouble() < density) {
            parents.get(j).add(i);
            children.get(i).add(j);
          }
        }
      }
      Collections.shuffle(declarationOrder, random);
      Collections.shuffle(definitionOrder, random);
      expected = new long[n];
      for (int j = 0; j < n; j++) {
        long v = 1;
        for (int p : parents.get(j)) {
          v = (v + expected[p]) % MOD;
        }
        expected[j] = v;
      }
    }

    /**
     * Builds the DAG: every node is declared first, in the random declaration order, and then
     * defined in the random definition order, its inputs referring to nodes declared before or
     * after it ({@link DagBuilder#declare} makes forward references possible).
     */
    List<Node<Long>> build(DagBuilder b, Body body) {
      List<Node<Long>> nodes = new ArrayList<>(Collections.nCopies(n, null));
      for (int i : declarationOrder) {
        nodes.set(i, b.declare(names[i]));
      }
      for (int j : definitionOrder) {
        List<Node<Long>> inputs = new ArrayList<>();
        for (int p : parents.get(j)) {
          inputs.add(nodes.get(p));
        }
        b.fanIn(names[j], inputs, values -> {
          body.run(j);
          long v = 1;
          for (Long x : values) {
            v = (v + x) % MOD;
          }
          return v;
        });
      }
      return nodes;
    }

    BitSet descendantsOf(int ancestor) {
      BitSet seen = new BitSet();
      List<Integer> stack = new ArrayList<>(List.of(ancestor));
      while (!stack.isEmpty()) {
        int v = stack.remove(stack.size() - 1);
        for (int c : children.get(v)) {
          if (!seen.get(c)) {
            seen.set(c);
            stack.add(c);
          }
        }
      }
      return seen;
    }

    /** The statuses a run in CONTINUE mode must end with when exactly {@code failing} fail. */
    NodeStatus[] continueOutcome(BitSet failing) {
      NodeStatus[] expect = new NodeStatus[n];
      for (int j = 0; j < n; j++) { // index order is topological: parents first
        boolean parentsOk = true;
        for (int p : parents.get(j)) {
          parentsOk &= expect[p] == NodeStatus.SUCCEEDED;
        }
        expect[j] = !parentsOk ? NodeStatus.SKIPPED
            : failing.get(j) ? NodeStatus.FAILED : NodeStatus.SUCCEEDED;
      }
      return expect;
    }
  }

  @FunctionalInterface
  interface Body {
    void run(int node) throws Exception;
  }

  /**
   * Runs a random DAG one logical step at a time. A task, once started, stamps a logical clock,
   * reports its start and waits at its own gate. The test thread is the scheduler: at each step
   * it opens the gate of one waiting task, chosen by the seed, telling it to succeed or fail,
   * and before the next step waits until the run has done everything that step allows: the
   * task's end, and the start of exactly the children it made ready. A task that starts when it
   * is not ready fails the test, and so does a ready one that does not start. The schedule, and
   * so every outcome, is a function of the seed alone.
   */
  static final class Stepper implements ExecutionListener {
    final RandomDag g;
    final long seed;
    final BitSet failing;
    final BlockingQueue<Integer> starts = new LinkedBlockingQueue<>();
    final BlockingQueue<Integer> ends = new LinkedBlockingQueue<>();
    final List<CompletableFuture<Boolean>> gates = new ArrayList<>();
    final AtomicIntegerArray runs;
    final AtomicLong clock = new AtomicLong();
    final AtomicLongArray startedAt;
    final AtomicLongArray endedAt;
    final AtomicInteger inside = new AtomicInteger();
    /** Nodes that started; that succeeded; the failure that stopped a FAIL_FAST run, or -1. */
    final BitSet started = new BitSet();
    final BitSet succeeded = new BitSet();
    int stoppedBy = -1;

    Stepper(RandomDag g, long seed, BitSet failing) {
      this.g = g;
      this.seed = seed;
      this.failing = failing;
      this.runs = new AtomicIntegerArray(g.n);
      this.startedAt = new AtomicLongArray(g.n);
      this.endedAt = new AtomicLongArray(g.n);
      for (int i = 0; i < g.n; i++) {
        gates.add(new CompletableFuture<>());
      }
    }

    Body body() {
      return i -> {
        runs.incrementAndGet(i);
        startedAt.set(i, clock.incrementAndGet());
        inside.incrementAndGet();
        try {
          starts.add(i);
          if (!gates.get(i).get()) { // interruptible: a cancelled run ends the wait
            throw new IllegalStateException("planned failure of " + g.names[i]);
          }
          endedAt.set(i, clock.incrementAndGet());
        } finally {
          inside.decrementAndGet();
        }
      };
    }

    @Override
    public void onTaskSucceeded(TaskEvent event) {
      ends.add(g.byName.get(event.node()));
    }

    @Override
    public void onTaskFailed(TaskEvent event) {
      ends.add(g.byName.get(event.node()));
    }

    /**
     * Steps the run until no task waits, a FAIL_FAST failure stops it, or step {@code cancelAt}
     * comes, where it cancels the run instead of opening a gate.
     */
    void drive(Execution run, Random random, FailureMode mode, int cancelAt)
        throws InterruptedException {
      TreeSet<Integer> waiting = new TreeSet<>(); // sorted: the pick depends on the seed only
      int[] parentsLeft = new int[g.n];
      List<Integer> roots = new ArrayList<>();
      for (int j = 0; j < g.n; j++) {
        parentsLeft[j] = g.parents.get(j).size();
        if (parentsLeft[j] == 0) {
          roots.add(j);
        }
      }
      expectStarts(roots, waiting);
      for (int step = 0; !waiting.isEmpty(); step++) {
        if (step == cancelAt) {
          assertThat(run.cancel()).as("seed %d: cancel at step %d", seed, step).isTrue();
          return;
        }
        int x = List.copyOf(waiting).get(random.nextInt(waiting.size()));
        waiting.remove(x);
        boolean fails = failing.get(x);
        gates.get(x).complete(!fails);
        Integer ended = ends.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(ended).as("seed %d: the task that ended after %s's gate opened", seed,
            g.names[x]).isEqualTo(x);
        if (fails && mode == FailureMode.FAIL_FAST) {
          stoppedBy = x;
          return;
        }
        if (!fails) {
          succeeded.set(x);
        }
        List<Integer> ready = new ArrayList<>();
        for (int c : g.children.get(x)) {
          if (--parentsLeft[c] == 0 && allSucceeded(g.parents.get(c))) {
            ready.add(c);
          }
        }
        expectStarts(ready, waiting);
      }
    }

    private boolean allSucceeded(List<Integer> nodes) {
      for (int p : nodes) {
        if (!succeeded.get(p)) {
          return false;
        }
      }
      return true;
    }

    private void expectStarts(List<Integer> ready, Set<Integer> waiting)
        throws InterruptedException {
      Set<Integer> due = new HashSet<>(ready);
      while (!due.isEmpty()) {
        Integer s = starts.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (s == null) {
          fail("seed %d: %s are ready but did not start", seed, names(due));
        }
        if (!due.remove(s)) {
          fail("seed %d: %s started while not ready (or twice)", seed, g.names[s]);
        }
        started.set(s);
        waiting.add(s);
      }
    }

    private List<String> names(Set<Integer> nodes) {
      return nodes.stream().sorted().map(i -> g.names[i]).toList();
    }

    /** Checks what holds in every mode once the run has ended. */
    void checkAfterRun(RunReport report, List<Node<Long>> nodes) {
      assertThat(starts).as("seed %d: tasks started after the last step", seed).isEmpty();
      assertThat(inside.get()).as("seed %d: tasks still running after the run ended", seed)
          .isZero();
      for (int j = 0; j < g.n; j++) {
        NodeReport node = report.node(nodes.get(j));
        String name = g.names[j];
        assertThat(runs.get(j)).as("seed %d: runs of %s", seed, name)
            .isEqualTo(started.get(j) ? 1 : 0);
        assertThat(node.attempts()).as("seed %d: attempts of %s", seed, name)
            .isEqualTo(runs.get(j));
        if (started.get(j)) {
          for (int p : g.parents.get(j)) {
            assertThat(startedAt.get(j)).as("seed %d: %s starts after %s ends", seed, name,
                g.names[p]).isGreaterThan(endedAt.get(p));
          }
        }
        if (node.status() == NodeStatus.SUCCEEDED && g.children.get(j).isEmpty()) {
          assertThat(report.result(nodes.get(j))).as("seed %d: value of %s", seed, name)
              .isEqualTo(g.expected[j]);
        }
      }
    }
  }

  private static void assertTopological(long seed, RandomDag g, List<String> order) {
    assertThat(order).as("seed %d: every node, once", seed).hasSize(g.n)
        .containsExactlyInAnyOrder(g.names);
    Map<String, Integer> position = new HashMap<>();
    for (int k = 0; k < order.size(); k++) {
      position.put(order.get(k), k);
    }
    for (int j = 0; j < g.n; j++) {
      for (int p : g.parents.get(j)) {
        assertThat(position.get(g.names[p])).as("seed %d: %s listed before its input %s", seed,
            g.names[j], g.names[p]).isLessThan(position.get(g.names[j]));
      }
    }
  }

  /** Builds and starts the DAG under a stepper, steps it, and returns the final report. */
  private static RunReport runStepped(long seed, RandomDag g, Stepper stepper, Random random,
      FailureMode mode, int cancelAt, List<Node<Long>> nodes, DagBuilder b) throws Exception {
    Dag dag = b.build();
    assertTopological(seed, g, dag.nodes().stream().map(Node::name).toList());
    Execution run = DagExecutor.builder().withFailureMode(mode).withListener(stepper).build()
        .start(dag);
    try {
      stepper.drive(run, random, mode, cancelAt);
    } catch (Throwable t) {
      run.cancel(); // the test failed mid-way: free the tasks held at their gates
      throw t;
    }
    RunReport report = run.await(Duration.ofSeconds(WAIT_SECONDS));
    assertTopological(seed, g, report.nodes().stream().map(NodeReport::name).toList());
    stepper.checkAfterRun(report, nodes);
    return report;
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void everyNodeRunsOnceAfterAllItsParentsWithTheRightValue(long seed) throws Exception {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    Stepper stepper = new Stepper(g, seed, new BitSet());
    DagBuilder b = Dag.builder("random-" + seed);
    List<Node<Long>> nodes = g.build(b, stepper.body());
    RunReport report = runStepped(seed, g, stepper, random, FailureMode.FAIL_FAST, -1, nodes, b);

    assertThat(report.status()).as("seed %d", seed).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(stepper.started.cardinality()).as("seed %d: nodes run", seed).isEqualTo(g.n);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void continueModeSkipsExactlyTheDescendantsOfFailures(long seed) throws Exception {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    BitSet failing = new BitSet();
    for (int i = 0; i < g.n; i++) {
      if (random.nextInt(10) == 0) {
        failing.set(i);
      }
    }
    Stepper stepper = new Stepper(g, seed, failing);
    DagBuilder b = Dag.builder("continue-" + seed);
    List<Node<Long>> nodes = g.build(b, stepper.body());
    RunReport report = runStepped(seed, g, stepper, random, FailureMode.CONTINUE, -1, nodes, b);

    NodeStatus[] expected = g.continueOutcome(failing);
    for (int j = 0; j < g.n; j++) {
      assertThat(report.node(nodes.get(j)).status()).as("seed %d: %s", seed, g.names[j])
          .isEqualTo(expected[j]);
    }
    boolean anyFailed = List.of(expected).contains(NodeStatus.FAILED);
    assertThat(report.status()).as("seed %d", seed)
        .isEqualTo(anyFailed ? RunStatus.FAILED : RunStatus.SUCCEEDED);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void failFastStopsAtTheFirstFailureAndSkipsItsDescendants(long seed) throws Exception {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    BitSet failing = new BitSet();
    failing.set(random.nextInt(g.n));
    for (int i = 0; i < g.n; i++) {
      if (random.nextInt(20) == 0) {
        failing.set(i);
      }
    }
    Stepper stepper = new Stepper(g, seed, failing);
    DagBuilder b = Dag.builder("fail-fast-" + seed);
    List<Node<Long>> nodes = g.build(b, stepper.body());
    RunReport report = runStepped(seed, g, stepper, random, FailureMode.FAIL_FAST, -1, nodes, b);

    int f = stepper.stoppedBy;
    assertThat(f).as("seed %d: a planned failure stopped the run", seed).isNotNegative();
    assertThat(report.status()).as("seed %d", seed).isEqualTo(RunStatus.FAILED);
    assertThat(report.failure()).as("seed %d", seed).get(InstanceOfAssertFactories.THROWABLE)
        .isInstanceOf(TaskFailedException.class).hasMessageContaining("'" + g.names[f] + "'");
    BitSet doomed = g.descendantsOf(f);
    for (int j = 0; j < g.n; j++) {
      // Before the failure: succeeded. The failure: failed. Its descendants: skipped. The
      // rest, running (held at their gates) or not yet started: cancelled.
      NodeStatus expected = stepper.succeeded.get(j) ? NodeStatus.SUCCEEDED
          : j == f ? NodeStatus.FAILED
          : doomed.get(j) ? NodeStatus.SKIPPED
          : NodeStatus.CANCELLED;
      assertThat(report.node(nodes.get(j)).status()).as("seed %d: %s", seed, g.names[j])
          .isEqualTo(expected);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void cancellationEndsEveryNodeAndNoTaskOutlivesTheRun(long seed) throws Exception {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    int cancelAt = random.nextInt(g.n); // every step opens one gate: there are n of them
    Stepper stepper = new Stepper(g, seed, new BitSet());
    DagBuilder b = Dag.builder("cancel-" + seed);
    List<Node<Long>> nodes = g.build(b, stepper.body());
    RunReport report = runStepped(seed, g, stepper, random, FailureMode.FAIL_FAST, cancelAt,
        nodes, b);

    assertThat(report.status()).as("seed %d", seed).isEqualTo(RunStatus.CANCELLED);
    assertThat(report.failure()).as("seed %d", seed).get()
        .isInstanceOf(RunCancelledException.class);
    assertThat(stepper.succeeded.cardinality()).as("seed %d: gates opened", seed)
        .isEqualTo(cancelAt);
    for (int j = 0; j < g.n; j++) {
      assertThat(report.node(nodes.get(j)).status()).as("seed %d: %s", seed, g.names[j])
          .isEqualTo(stepper.succeeded.get(j) ? NodeStatus.SUCCEEDED : NodeStatus.CANCELLED);
    }
  }

  /**
   * Free running, with real concurrency (no gates): tasks fail a number of times drawn from the
   * seed, then succeed, and take a seed-drawn number of scheduling steps ({@link Thread#yield})
   * rather than any time on the wall clock.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void transientFailuresAreRetriedAndEachTaskSucceedsOnce(long seed) {
    Random random = new Random(seed);
    RandomDag g = new RandomDag(random);
    int[] failuresPlanned = new int[g.n];
    int[] yields = new int[g.n];
    for (int i = 0; i < g.n; i++) {
      failuresPlanned[i] = random.nextInt(3);
      yields[i] = random.nextInt(4);
    }
    AtomicIntegerArray calls = new AtomicIntegerArray(g.n);
    AtomicIntegerArray successes = new AtomicIntegerArray(g.n);
    AtomicLong clock = new AtomicLong();
    AtomicLongArray firstStart = new AtomicLongArray(g.n);
    AtomicLongArray end = new AtomicLongArray(g.n);
    DagBuilder b = Dag.builder("retry-" + seed);
    List<Node<Long>> nodes = g.build(b, i -> {
      long now = clock.incrementAndGet();
      firstStart.compareAndSet(i, 0, now);
      for (int y = 0; y < yields[i]; y++) {
        Thread.yield();
      }
      if (calls.incrementAndGet(i) <= failuresPlanned[i]) {
        throw new IllegalStateException("transient");
      }
      successes.incrementAndGet(i);
      end.set(i, clock.incrementAndGet());
    });
    Dag dag = b.build();
    assertTopological(seed, g, dag.nodes().stream().map(Node::name).toList());
    RunReport report = DagExecutor.builder()
        .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ZERO).build())
        .build().run(dag);

    assertThat(report.status()).as("seed %d", seed).isEqualTo(RunStatus.SUCCEEDED);
    for (int j = 0; j < g.n; j++) {
      String name = g.names[j];
      assertThat(successes.get(j)).as("seed %d: successes of %s", seed, name).isEqualTo(1);
      assertThat(report.node(nodes.get(j)).attempts()).as("seed %d: attempts of %s", seed, name)
          .isEqualTo(failuresPlanned[j] + 1);
      for (int p : g.parents.get(j)) {
        assertThat(firstStart.get(j)).as("seed %d: %s starts after %s ends", seed, name,
            g.names[p]).isGreaterThan(end.get(p));
      }
      if (g.children.get(j).isEmpty()) {
        assertThat(report.result(nodes.get(j))).as("seed %d: value of %s", seed, name)
            .isEqualTo(g.expected[j]);
      }
    }
  }
}
