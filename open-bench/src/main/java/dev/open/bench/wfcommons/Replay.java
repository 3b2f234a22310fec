package dev.open.bench.wfcommons;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.DagValidationException;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.store.ResultStore;

/**
 * Replays a WfCommons instance on OPEN's executor: every task becomes a node that sleeps for its
 * measured runtime times {@code scale}, after all of its parents. Measures what the scheduler
 * adds: the makespan against the critical path, and checks that no task started before one of its
 * parents finished and that every task ran exactly once.
 */
public final class Replay {
  private final Path file;
  private final WfInstance instance;
  private final Dag dag;
  private final double scale;
  private final long[] sleepNanos;
  private final long[] startNanos;
  private final long[] endNanos;
  private final AtomicIntegerArray runs;

  private Replay(Path file, WfInstance instance, double scale) throws WfFormatException {
    this.file = file;
    this.instance = instance;
    this.scale = scale;
    int n = instance.tasks().size();
    this.sleepNanos = new long[n];
    this.startNanos = new long[n];
    this.endNanos = new long[n];
    this.runs = new AtomicIntegerArray(n);
    for (int i = 0; i < n; i++) {
      sleepNanos[i] = Math.round(instance.tasks().get(i).runtimeSeconds() * scale * 1e9);
    }
    this.dag = build();
  }

  /**
   * Prepares a replay of {@code instance} at {@code scale}.
   *
   * @param file the file the instance came from, for error messages
   * @param instance the workflow
   * @param scale the factor applied to every runtime, positive
   * @return the replay, ready to {@link #run(int)}
   * @throws WfFormatException if the workflow is not a DAG (the message names the cycle)
   */
  public static Replay of(Path file, WfInstance instance, double scale) throws WfFormatException {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("scale must be positive and finite, was " + scale);
    }
    return new Replay(file, instance, scale);
  }

  /** Returns the longest path through the workflow, in unscaled seconds of runtime. */
  public static double criticalPathSeconds(WfInstance instance) {
    List<WfInstance.Task> tasks = instance.tasks();
    int n = tasks.size();
    List<List<Integer>> children = new ArrayList<>(n);
    int[] waiting = new int[n];
    for (int i = 0; i < n; i++) {
      children.add(new ArrayList<>());
    }
    for (int i = 0; i < n; i++) {
      for (int p : tasks.get(i).parents()) {
        children.get(p).add(i);
        waiting[i]++;
      }
    }
    double[] finish = new double[n];
    int[] queue = new int[n];
    int tail = 0;
    for (int i = 0; i < n; i++) {
      if (waiting[i] == 0) {
        queue[tail++] = i;
      }
    }
    double longest = 0;
    for (int head = 0; head < tail; head++) {
      int v = queue[head];
      double start = 0;
      for (int p : tasks.get(v).parents()) {
        start = Math.max(start, finish[p]);
      }
      finish[v] = start + tasks.get(v).runtimeSeconds();
      longest = Math.max(longest, finish[v]);
      for (int c : children.get(v)) {
        if (--waiting[c] == 0) {
          queue[tail++] = c;
        }
      }
    }
    return longest;
  }

  private Dag build() throws WfFormatException {
    List<WfInstance.Task> tasks = instance.tasks();
    DagBuilder b = Dag.builder(instance.name());
    List<Node<Object>> nodes = new ArrayList<>(tasks.size());
    for (WfInstance.Task task : tasks) {
      nodes.add(b.declare(task.id()));
    }
    for (int i = 0; i < tasks.size(); i++) {
      int index = i;
      List<Node<Object>> inputs = new ArrayList<>();
      for (int p : tasks.get(i).parents()) {
        inputs.add(nodes.get(p));
      }
      b.fanIn(tasks.get(i).id(), inputs, ignored -> {
        execute(index);
        return null;
      });
    }
    try {
      return b.build();
    } catch (DagValidationException e) {
      throw new WfFormatException(file, "not a DAG: " + String.join("; ", e.problems()), e);
    }
  }

  private void execute(int task) throws InterruptedException {
    runs.incrementAndGet(task);
    startNanos[task] = System.nanoTime();
    if (sleepNanos[task] > 0) {
      Thread.sleep(Duration.ofNanos(sleepNanos[task]));
    }
    endNanos[task] = System.nanoTime();
  }

  /**
   * Runs the workflow once.
   *
   * @param maxParallel the most tasks running at once, or 0 for no limit
   * @return what the run measured
   */
  public ReplayResult run(int maxParallel) {
    return run(maxParallel, null, report -> { }, List.of());
  }

  /**
   * Runs the workflow once, on a result store if one is given: tasks the store holds are loaded,
   * not replayed.
   *
   * @param maxParallel the most tasks running at once, or 0 for no limit
   * @param store the result store, or null
   * @param reports receives the run's report
   * @param listeners listen to the run
   * @return what the run measured
   */
  public ReplayResult run(int maxParallel, ResultStore store, Consumer<RunReport> reports,
      List<ExecutionListener> listeners) {
    DagExecutor.Builder executor = DagExecutor.builder().withMdc(false);
    if (maxParallel > 0) {
      executor.withMaxParallelism(maxParallel);
    }
    if (store != null) {
      executor.withResultStore(store);
    }
    listeners.forEach(executor::withListener);
    for (int i = 0; i < runs.length(); i++) {
      runs.set(i, 0);
    }
    long t0 = System.nanoTime();
    RunReport report = executor.build().run(dag);
    long t1 = System.nanoTime();
    reports.accept(report);

    int violations = 0;
    boolean exactlyOnce = true;
    List<WfInstance.Task> tasks = instance.tasks();
    for (int i = 0; i < tasks.size(); i++) {
      // A task loaded from the store did not run; every other one ran exactly once.
      boolean loaded = report.node(tasks.get(i).id()).status() == NodeStatus.CACHED;
      exactlyOnce &= runs.get(i) == (loaded ? 0 : 1);
      for (int p : tasks.get(i).parents()) {
        if (!loaded && runs.get(p) > 0 && startNanos[i] < endNanos[p]) {
          violations++;
        }
      }
    }
    return new ReplayResult(file.toString(), instance.name(), instance.schemaVersion(),
        tasks.size(), instance.edgeCount(), maxParallel, criticalPathSeconds(instance) * scale,
        (t1 - t0) / 1e9, violations, exactlyOnce, report.status().name(),
        report.count(NodeStatus.CACHED));
  }
}
