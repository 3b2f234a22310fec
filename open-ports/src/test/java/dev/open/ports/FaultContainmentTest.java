package dev.open.ports;

import static dev.open.ports.PythonWorkers.failure;
import static dev.open.ports.PythonWorkers.join;
import static dev.open.ports.PythonWorkers.withHostileTasks;
import static dev.open.ports.PythonWorkers.eventually;
import static dev.open.ports.PythonWorkers.pool;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.policy.RetryPolicy;

/**
 * A fault costs exactly the call that was running: when a worker dies — killed, timed out,
 * broken the protocol, recycled — the calls it held but had not started run elsewhere, unseen
 * by their callers. Tasks that must be running at a given moment say so with a marker file.
 */
class FaultContainmentTest {
  private static final Duration SOON = Duration.ofSeconds(20);
  private final List<WorkerPool> pools = new ArrayList<>();
  @TempDir
  Path dir;

  private WorkerPool start(WorkerPool.Builder builder) {
    WorkerPool pool = withHostileTasks(builder).build();
    pools.add(pool);
    return pool;
  }

  @AfterEach
  void closeAndCheckNoWorkerIsLeft() {
    PythonWorkers.closeAndCheckNoWorkerIsLeft(pools);
  }

  /** Starts a call that creates a marker file once it runs, and waits for the marker. */
  private CompletableFuture<Object> running(WorkerPool pool, double seconds) throws Exception {
    Path marker = Files.createTempFile(dir, "running", "");
    Files.delete(marker);
    CompletableFuture<Object> call = pool.call("hostile_tasks:started", marker.toString(), seconds);
    eventually(SOON, () -> Files.exists(marker));
    return call;
  }

  private static List<CompletableFuture<Object>> values(WorkerPool pool, int n) {
    List<CompletableFuture<Object>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(pool.call("hostile_tasks:value", i));
    }
    return calls;
  }

  /**
   * Waits until the pool's only worker holds at least {@code calls} calls (running, and queued
   * on it): some of the calls the test made are then the worker's, and must survive its death.
   */
  private static void holds(WorkerPool pool, int calls) throws InterruptedException {
    eventually(SOON, () -> pool.status().size() == 1 && pool.status().get(0).inFlight() >= calls);
  }

  private static void allAnswer(List<CompletableFuture<Object>> calls) {
    for (int i = 0; i < calls.size(); i++) {
      assertThat(join(calls.get(i))).as("call %d", i).isEqualTo((long) i);
    }
  }

  @Test
  void aKillFailsTheRunningCallOnlyAndTheCallsTheWorkerHeldRunOnItsReplacement() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    CompletableFuture<Object> victim = running(python, 60);
    List<CompletableFuture<Object>> queued = values(python, 6);
    holds(python, 2); // the running call and one prefetched; five wait in the pool

    ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // kill -9

    WorkerCrashedException crash = (WorkerCrashedException) failure(victim);
    assertThat(crash.pid()).isEqualTo(pid);
    assertThat(crash.signal()).isEqualTo(9);
    allAnswer(queued);
    assertThat(python.restarts()).isEqualTo(1);
  }

  /**
   * The same through a DAG: its calls wait behind a running call when the worker is killed. They
   * run on the replacement without using a retry, and each is reported where it ran: on the
   * replacement only — also the call the dead worker had taken but not started.
   */
  @Test
  void dagCallsQueuedBehindAKilledWorkersCallRunOnTheReplacementAndSaySo() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    CompletableFuture<Object> victim = running(python, 60);
    DagBuilder b = Dag.builder("queued");
    List<Node<Long>> values = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      long value = i;
      values.add(b.call("value" + i, python.function("hostile_tasks:value", Long.class),
          b.task("in" + i, () -> value)));
    }
    Map<String, List<String>> placed = new ConcurrentHashMap<>();
    var run = DagExecutor.builder().withListener(new ExecutionListener() {
      @Override
      public void onTaskPlaced(TaskEvent e, String where) {
        placed.computeIfAbsent(e.node(), n -> new CopyOnWriteArrayList<>()).add(where);
      }
    }).build().start(b.build());
    holds(python, 2); // the running call and one DAG call prefetched; five wait in the pool

    ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // kill -9

    assertThat(failure(victim)).isInstanceOf(WorkerCrashedException.class);
    RunReport report = run.await();
    assertThat(report.status()).as(report.summary()).isEqualTo(RunStatus.SUCCEEDED);
    long replacement = python.pids().get(0);
    for (int i = 0; i < 6; i++) {
      assertThat(report.result(values.get(i))).isEqualTo((long) i);
      assertThat(report.node(values.get(i)).attempts()).isEqualTo(1);
      assertThat(placed.get("value" + i)).as("value%d", i)
          .containsExactly("pid " + replacement);
    }
    assertThat(replacement).isNotEqualTo(pid);
  }

  @Test
  void aTimeoutFailsTheSlowCallOnlyAndCountsFromWhenACallStarts() throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withCallTimeout(Duration.ofMillis(1500)));
    CompletableFuture<Object> slow = running(python, 60);
    List<CompletableFuture<Object>> queued = values(python, 4);

    assertThat(failure(slow)).isInstanceOf(WorkerTimeoutException.class)
        .hasMessageContaining("exceeded its timeout of PT1.5S");
    allAnswer(queued);

    // Two calls of 0.9 s each: the second waits 0.9 s for the worker, yet is not timed out.
    CompletableFuture<Object> first = python.call("hostile_tasks:started",
        dir.resolve("a").toString(), 0.9);
    CompletableFuture<Object> second = python.call("hostile_tasks:started",
        dir.resolve("b").toString(), 0.9);
    assertThat(join(first)).isEqualTo(0.9);
    assertThat(join(second)).isEqualTo(0.9);
  }

  @Test
  void aProtocolErrorFailsTheRunningCallOnly() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    Path marker = dir.resolve("marker");
    Path go = dir.resolve("go");
    CompletableFuture<Object> culprit = python.call("hostile_tasks:garbage_when",
        marker.toString(), go.toString());
    eventually(SOON, () -> Files.exists(marker));
    List<CompletableFuture<Object>> queued = values(python, 5);
    holds(python, 2);
    Files.createFile(go);

    assertThat(failure(culprit)).isInstanceOf(WorkerProtocolException.class)
        .hasMessageContaining("bad_header_length");
    allAnswer(queued);
    assertThat(python.pids()).doesNotContain(pid);
  }

  @Test
  void aWorkerWhoseCallsAreLongHoldsOnlyOneMoreSoFewCallsWaitBehindASlowOne() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    assertThat(join(python.call("hostile_tasks:nap", 0.05))).isEqualTo(0.05); // calls are long
    CompletableFuture<Object> slow = running(python, 1.0);
    List<CompletableFuture<Object>> queued = values(python, 5);
    holds(python, 2);

    assertThat(python.status().get(0).inFlight()).as("calls the worker holds").isEqualTo(2);
    assertThat(join(slow)).isEqualTo(1.0);
    allAnswer(queued);
  }

  @Test
  void recyclingLosesNoCall() {
    WorkerPool python = start(pool().withWorkers(1).withMaxCallsPerWorker(3));
    List<CompletableFuture<Object>> calls = values(python, 30);
    allAnswer(calls);
    assertThat(python.restarts()).isGreaterThanOrEqualTo(9);
  }

  @Test
  void cancellingACallQueuedOnAWorkerNeverKillsItForTheCallItRuns() throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withCancelGrace(Duration.ofMillis(200)));
    long pid = python.pids().get(0);
    CompletableFuture<Object> runningCall = running(python, 1.0);
    String ran = dir.resolve("ran").toString();
    CompletableFuture<Object> queued = python.call("open_test_tasks:record", ran, "queued");
    holds(python, 2);

    signal("STOP", pid); // the worker can answer nothing, the cancel included
    queued.cancel(true);
    // Not an ordering sleep: time must pass with the worker silent for a wrongful kill to show.
    Thread.sleep(600); // three cancel graces: long enough for a kill, were one due
    signal("CONT", pid);

    assertThat(join(runningCall)).isEqualTo(1.0);
    // The worker dropped the cancelled call: the call made after it is the only one that ran.
    assertThat(join(python.call("open_test_tasks:record", ran, "after"))).isEqualTo("after");
    assertThat(Files.readAllLines(Path.of(ran))).containsExactly("after");
    assertThat(python.pids()).containsExactly(pid);
    assertThat(python.restarts()).isZero();
  }

  private static void signal(String name, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).isTrue();
  }

  @Test
  void legalValuesAtTheProtocolsLimitsRoundTripOnAHealthyWorker() {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    String longString = "s".repeat(25_000_000); // over Jackson's default limit of 20 M
    BigInteger widest = BigInteger.TEN.pow(4299).multiply(BigInteger.valueOf(9)); // 4300 digits
    Object deep = List.of();
    for (int i = 1; i < 510; i++) { // arguments sit at level 3: 3 + 509 = 512
      deep = List.of(deep);
    }
    assertThat(join(python.call("hostile_tasks:value", longString))).isEqualTo(longString);
    assertThat(join(python.call("hostile_tasks:value", widest))).isEqualTo(widest);
    assertThat(join(python.call("hostile_tasks:value", deep))).isEqualTo(deep);
    assertThat(python.pids()).containsExactly(pid);
  }

  /**
   * The chaos test of issue 8: hundreds of calls on two workers while a thread kills workers at
   * random. Every node succeeds, and the kills cost at most one failed attempt each — the call
   * that was running — never the calls queued behind it.
   */
  @Test
  void underRandomKillsEveryNodeSucceedsAndEachKillCostsAtMostOneAttempt() throws Exception {
    int tasks = 400;
    Random random = new Random(8);
    List<Throwable> failedAttempts = new CopyOnWriteArrayList<>();
    Set<Long> killed = new HashSet<>();
    // Replacements start at once: the pool's backoff for workers that keep dying young would
    // otherwise stretch the run, as it should for a real crash loop.
    WorkerPool python = start(pool().withWorkers(2)
        .withRestartBackoff(Duration.ofMillis(1), Duration.ofMillis(20)));
    DagBuilder b = Dag.builder("chaos");
    List<Node<Double>> results = new ArrayList<>();
    List<Double> expected = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      double seconds = 0.004 + random.nextInt(8) * 0.001 + i * 1e-9; // distinct, checkable
      expected.add(seconds);
      results.add(b.call("nap" + i, python.function("hostile_tasks:nap", Double.class),
          b.task("in" + i, () -> seconds)));
    }
    DagExecutor executor = DagExecutor.builder()
        .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(100).withDelay(Duration.ZERO)
            .handle(WorkerCrashedException.class).build())
        .withListener(new ExecutionListener() {
          @Override
          public void onTaskRetrying(TaskEvent e, Duration delay) {
            failedAttempts.add(e.error());
          }
        })
        .build();

    AtomicBoolean done = new AtomicBoolean();
    Thread killer = Thread.ofPlatform().start(() -> {
      try {
        while (!done.get() && killed.size() < 15) {
          Thread.sleep(40 + random.nextInt(80));
          List<Long> pids = python.pids();
          if (!pids.isEmpty()) {
            long victim = pids.get(random.nextInt(pids.size()));
            if (!killed.contains(victim)
                && ProcessHandle.of(victim).map(ProcessHandle::destroyForcibly).orElse(false)) {
              synchronized (killed) {
                killed.add(victim);
              }
            }
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    RunReport report = executor.run(b.build());
    done.set(true);
    killer.join();

    assertThat(report.status()).as(report.summary()).isEqualTo(RunStatus.SUCCEEDED);
    for (int i = 0; i < tasks; i++) {
      assertThat(report.result(results.get(i))).isEqualTo(expected.get(i));
    }
    assertThat(killed).as("kills").hasSizeGreaterThanOrEqualTo(3);
    assertThat(failedAttempts).as("failed attempts, against %d kills", killed.size())
        .hasSizeLessThanOrEqualTo(killed.size())
        .allSatisfy(e -> assertThat(e).isInstanceOf(WorkerCrashedException.class)
            .extracting(x -> ((WorkerCrashedException) x).signal()).isEqualTo(9));
  }
}
