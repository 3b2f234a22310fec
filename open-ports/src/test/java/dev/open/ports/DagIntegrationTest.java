package dev.open.ports;

import static dev.open.ports.PythonWorkers.assumeNumpy;
import static dev.open.ports.PythonWorkers.gone;
import static dev.open.ports.PythonWorkers.pool;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.TaskFailedException;
import dev.open.dag.TaskTimeoutException;
import dev.open.dag.array.NDArray;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.policy.RetryPolicy;

/** Python functions as DAG nodes: typed results, timeouts, and retries across worker crashes. */
class DagIntegrationTest {

  /** Each call's worker reaches the run's listeners, as the pid of a live worker of the pool. */
  @Test
  void listenersHearWhichWorkerRanEachCall() {
    try (WorkerPool python = pool().withWorkers(2).build()) {
      DagBuilder b = Dag.builder("placed");
      for (int i = 0; i < 6; i++) {
        b.call("add" + i, python.function("open_test_tasks:add", Long.class),
            b.task("x" + i, () -> 1), b.task("y" + i, () -> 2));
      }
      Map<String, String> placed = new ConcurrentHashMap<>();
      RunReport report = DagExecutor.builder().withListener(new ExecutionListener() {
        @Override
        public void onTaskPlaced(TaskEvent event, String where) {
          placed.put(event.node(), where);
        }
      }).build().run(b.build());

      assertThat(report.succeeded()).isTrue();
      assertThat(placed).hasSize(6); // every call, no Java task
      List<String> pids = python.pids().stream().map(pid -> "pid " + pid).toList();
      assertThat(placed.values()).allSatisfy(where -> assertThat(pids).contains(where));
    }
  }

  @Test
  void nodesCallPythonFunctionsWithTypedResults() {
    assumeNumpy();
    try (WorkerPool python = pool().withWorkers(2).build()) {
      DagBuilder b = Dag.builder("python-dag");
      Node<NDArray> data = b.task("data", () -> NDArray.of(new double[] {1, 2, 3, 4}, 2, 2));
      Node<NDArray> normalized = b.call("normalize",
          python.function("open_examples.numeric:normalize", NDArray.class), data);
      @SuppressWarnings("rawtypes")
      Node<Map> stats = b.call("stats", python.function("open_examples.numeric:stats", Map.class),
          normalized);
      Node<Long> sum = b.call("sum", python.function("open_test_tasks:add", Long.class),
          b.task("two", () -> 2), b.task("three", () -> 3));
      Node<Integer> asInt = b.call("asInt", python.function("open_test_tasks:add", Integer.class),
          b.task("one", () -> 1), b.task("four", () -> 4));
      Node<double[]> doubled = b.call("doubled",
          python.function("open_test_tasks:array_double", double[].class), data);
      RunReport report = b.build().run();

      assertThat(report.succeeded()).isTrue();
      assertThat(report.result(sum)).isEqualTo(5L);
      assertThat(report.result(asInt)).isEqualTo(5);
      assertThat(report.result(doubled)).containsExactly(2, 4, 6, 8);
      assertThat(report.result(stats)).containsKey("mean");
      assertThat(report.node(normalized).backend()).isEqualTo("python");
    }
  }

  @Test
  void aNodeTimeoutCancelsThePythonCall() {
    try (WorkerPool python = pool().withWorkers(1).build()) {
      long pid = python.pids().get(0);
      DagBuilder b = Dag.builder("python-timeout");
      b.node("slow").withTimeout(Duration.ofMillis(300))
          .call(python.function("open_test_tasks:sleep", Double.class), b.task("s", () -> 60));
      RunReport report = b.build().run();

      assertThat(report.node("slow").error()).isInstanceOf(TaskFailedException.class)
          .cause().isInstanceOf(TaskTimeoutException.class);
      assertThat(python.call("open_test_tasks:add", 1, 1).join()).isEqualTo(2L);
      assertThat(python.pids()).containsExactly(pid); // cancelled in time: the worker lives on
    }
  }

  /**
   * Hundreds of tasks while workers are killed with SIGKILL: with retries on, every task
   * completes with its own result, each succeeds once, and no process is left behind.
   */
  @Test
  void everyTaskCompletesWhileWorkersAreKilled() throws Exception {
    int tasks = 300;
    Set<Long> seenPids = ConcurrentHashMap.newKeySet();
    AtomicInteger retries = new AtomicInteger();
    AtomicInteger successes = new AtomicInteger();
    try (WorkerPool python = pool().withWorkers(3).build()) {
      DagBuilder b = Dag.builder("chaos");
      List<Node<Double>> results = new ArrayList<>();
      for (int i = 0; i < tasks; i++) {
        double seconds = 0.002 + (i % 7) * 0.001 + i * 1e-9; // a distinct, checkable result
        Node<Double> input = b.task("in" + i, () -> seconds);
        results.add(b.call("sleep" + i, python.function("open_test_tasks:sleep", Double.class),
            input));
      }
      Dag dag = b.build();
      DagExecutor executor = DagExecutor.builder()
          .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(10)
              .withBackoff(Duration.ofMillis(5), Duration.ofMillis(100))
              .handle(WorkerCrashedException.class).build())
          .withConcurrencyLimit("python", 12)
          .withListener(new ExecutionListener() {
            @Override
            public void onTaskRetrying(TaskEvent e, Duration delay) {
              retries.incrementAndGet();
            }

            @Override
            public void onTaskSucceeded(TaskEvent e) {
              if (e.node().startsWith("sleep")) {
                successes.incrementAndGet();
              }
            }
          })
          .build();

      AtomicBoolean running = new AtomicBoolean(true);
      Thread killer = Thread.ofPlatform().start(() -> {
        Random random = new Random(3);
        try {
          for (int k = 0; k < 8 && running.get(); k++) {
            Thread.sleep(150);
            List<Long> pids = python.pids();
            seenPids.addAll(pids);
            if (!pids.isEmpty()) {
              long victim = pids.get(random.nextInt(pids.size()));
              ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      RunReport report = executor.run(dag);
      running.set(false);
      killer.join();
      seenPids.addAll(python.pids());

      assertThat(report.status()).as(report.summary()).isEqualTo(dev.open.dag.RunStatus.SUCCEEDED);
      for (int i = 0; i < tasks; i++) {
        double expected = 0.002 + (i % 7) * 0.001 + i * 1e-9;
        assertThat(report.result(results.get(i))).isEqualTo(expected);
      }
      assertThat(report.count(NodeStatus.SUCCEEDED)).isEqualTo(2 * tasks);
      assertThat(successes.get()).isEqualTo(tasks); // none twice
      assertThat(retries.get()).as("kills caused retries").isPositive();
      assertThat(python.restarts()).isPositive();
    }
    assertThat(seenPids).allSatisfy(pid -> assertThat(gone(pid)).as("pid %d", pid).isTrue());
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList()).isEmpty();
  }
}
