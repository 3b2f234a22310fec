package dev.open.ports;

import static dev.open.ports.PythonWorkers.assumeNumpy;
import static dev.open.ports.PythonWorkers.eventually;
import static dev.open.ports.PythonWorkers.failure;
import static dev.open.ports.PythonWorkers.join;
import static dev.open.ports.PythonWorkers.gone;
import static dev.open.ports.PythonWorkers.pool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

/** A pool of real Python workers: values, streams, errors, cancellation and supervision. */
class WorkerPoolTest {
  private final List<WorkerPool> pools = new ArrayList<>();

  private WorkerPool start(WorkerPool.Builder builder) {
    WorkerPool pool = builder.build();
    pools.add(pool);
    return pool;
  }

  @AfterEach
  void closeAndCheckNoWorkerIsLeft() {
    PythonWorkers.closeAndCheckNoWorkerIsLeft(pools);
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList())
        .as("live child processes").isEmpty();
  }

  @Test
  void greetsWithItsLanguageAndProtocol() {
    WorkerPool python = start(pool());
    assertThat(python.size()).isEqualTo(2);
    assertThat(python.workerInfo()).containsEntry("language", "python").containsEntry("protocol", "1");
    assertThat(python.name()).isEqualTo("python");
  }

  @Test
  void roundTripsEveryKindOfValue() {
    WorkerPool python = start(pool().withWorkers(1));
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("name", "é東🎉");
    map.put("list", List.of(1L, 2.5, "x", List.of()));
    map.put("null", null);
    List<Object> values = Arrays.asList(null, true, false, 42L, -7L, new BigInteger("1180591620717411303424"),
        3.25, "text", List.of(1L, List.of(2L, List.of(3L))), map, Map.of("$ref", "escaped"),
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, List.of());
    for (Object value : values) {
      Object back = join(python.call("open_test_tasks:echo", value));
      if (value instanceof Double d && d.isNaN()) {
        assertThat((Double) back).isNaN();
      } else {
        assertThat(back).as("round trip of %s", value).isEqualTo(value);
      }
    }
    assertThat(join(python.call("open_test_tasks:echo", new byte[] {0, 1, (byte) 255})))
        .isEqualTo(new byte[] {0, 1, (byte) 255});
    assertThat(join(python.call("open_test_tasks:echo", new byte[0]))).isEqualTo(new byte[0]);
    assertThat(join(python.call("open_test_tasks:add", 2, 3))).isEqualTo(5L);
    assertThat(join(python.call("open_test_tasks:add", List.of(1L), List.of(2L))))
        .isEqualTo(List.of(1L, 2L));
    assertThat(join(python.call("open_test_tasks:echo", 'c'))).isEqualTo("c");
    assertThatThrownBy(() -> python.call("open_test_tasks:echo", new Object()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no protocol form for java.lang.Object");
  }

  @Test
  void keywordArguments() {
    WorkerPool python = start(pool().withWorkers(1));
    assertThat(join(python.call("open_test_tasks:add", List.of(), Map.of("a", 40, "b", 2))))
        .isEqualTo(42L);
  }

  @Test
  void arraysTravelAsBuffersBitExact() {
    assumeNumpy();
    WorkerPool python = start(pool().withWorkers(1));
    Random random = new Random(7);
    double[] values = new double[8 << 20]; // 64 MiB
    for (int i = 0; i < values.length; i++) {
      values[i] = Double.longBitsToDouble(random.nextLong() & 0x7fefffffffffffffL);
    }
    NDArray big = NDArray.of(values);
    NDArray back = (NDArray) join(python.call("open_test_tasks:identity", big));
    assertThat(back).isEqualTo(big);

    NDArray matrix = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
    NDArray doubled = (NDArray) join(python.call("open_test_tasks:array_double", matrix));
    assertThat(doubled.shape()).containsExactly(2, 3);
    assertThat(doubled.toDoubleArray()).containsExactly(2, 4, 6, 8, 10, 12);
    assertThat(join(python.call("open_test_tasks:array_sum", new int[] {1, 2, 3}))).isEqualTo(6L);
    @SuppressWarnings("unchecked")
    Map<String, Object> info = (Map<String, Object>) join(python.call("open_test_tasks:array_info",
        NDArray.of(new long[] {1, 2, 3, 4}, 2, 2)));
    assertThat(info).containsEntry("dtype", "<i8").containsEntry("aligned_8", true);
    NDArray bools = (NDArray) join(python.call("open_test_tasks:identity", new boolean[] {true, false}));
    assertThat(bools.dtype()).isEqualTo(DType.BOOL);
    assertThat(bools.toByteArray()).containsExactly(1, 0);
  }

  @Test
  void generatorsStreamTheirChunks() {
    WorkerPool python = start(pool().withWorkers(1));
    try (CallStream stream = python.stream("open_test_tasks:count", 5)) {
      assertThat(stream.stream().toList()).containsExactly(0L, 1L, 2L, 3L, 4L);
    }
    assertThat(join(python.call("open_test_tasks:count", 3))).isEqualTo(List.of(0L, 1L, 2L));
    try (CallStream single = python.stream("open_test_tasks:add", 1, 1)) {
      assertThat(single.stream().toList()).containsExactly(2L);
    }
    // Closing a stream early cancels the rest of it.
    CallStream slow = python.stream("open_test_tasks:slow_count", 1000, 0.01);
    assertThat(slow.next()).isEqualTo(0L);
    slow.close();
    assertThat(join(python.call("open_test_tasks:add", 1, 1))).isEqualTo(2L);
  }

  @Test
  void remoteExceptionsCarryTypeMessageAndTraceback() {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    Throwable error = failure(python.call("open_test_tasks:fail", "ValueError", "bad input"));

    assertThat(error).isInstanceOf(RemoteException.class);
    RemoteException remote = (RemoteException) error;
    assertThat(remote.remoteType()).isEqualTo("ValueError");
    assertThat(remote.remoteMessage()).isEqualTo("bad input");
    assertThat(remote.remoteTraceback()).contains("open_test_tasks.py").contains("fail");
    assertThat(remote.pid()).isEqualTo(pid);
    assertThat(remote).hasMessageStartingWith("ValueError: bad input (in python function "
        + "open_test_tasks:fail, worker pid " + pid + ")");
    assertThat(python.pids()).containsExactly(pid); // the worker serves on
  }

  @Test
  void onlyAllowedModulesCanBeCalled() {
    WorkerPool python = start(pool().withWorkers(1));
    RemoteException e = (RemoteException) failure(python.call("os:getcwd"));
    assertThat(e.remoteType()).isEqualTo("NotAllowed");
    assertThatThrownBy(() -> python.call("no-colon")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("function must be \"module:function\", was \"no-colon\"");
  }

  @Test
  void printOutputBecomesLogLinesNotFrames() {
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger("dev.open.ports.worker.python");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      WorkerPool python = start(pool().withWorkers(1));
      assertThat(join(python.call("open_test_tasks:noisy", "quiet"))).isEqualTo("quiet");
      PythonWorkers.eventually(Duration.ofSeconds(10), () -> appender.list.size() >= 2);
      long pid = python.pids().get(0);
      assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).startsWith("[python worker " + pid + "]"));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void cancellingACallInterruptsItAndKeepsTheWorker(@TempDir Path dir) throws Exception {
    WorkerPool python = start(PythonWorkers.withHostileTasks(pool().withWorkers(1)));
    long pid = python.pids().get(0);
    CompletableFuture<Object> sleeping = running(python, dir, 60);
    sleeping.cancel(true);
    // Had the worker not interrupted the call, it would be killed after the cancel grace (2 s)
    // and replaced: the next call would run on another process.
    assertThat(join(python.call("open_test_tasks:add", 1, 2))).isEqualTo(3L);
    assertThat(python.pids()).containsExactly(pid);
    assertThat(python.restarts()).isZero();
  }

  /** Starts a call that sleeps {@code seconds} and returns once it runs (its marker exists). */
  private static CompletableFuture<Object> running(WorkerPool python, Path dir, double seconds)
      throws Exception {
    Path marker = Files.createTempFile(dir, "running", "");
    Files.delete(marker);
    CompletableFuture<Object> call = python.call("hostile_tasks:started", marker.toString(),
        seconds);
    eventually(Duration.ofSeconds(20), () -> Files.exists(marker));
    return call;
  }

  @Test
  void aCallOverItsTimeoutKillsItsWorkerWhichIsReplaced() throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withCallTimeout(Duration.ofMillis(500)));
    long pid = python.pids().get(0);
    Throwable error = failure(python.call("open_test_tasks:sleep", 60));

    assertThat(error).isInstanceOf(WorkerTimeoutException.class)
        .hasMessageContaining("exceeded its timeout of PT0.5S");
    eventually(Duration.ofSeconds(10), () -> gone(pid));
    assertThat(join(python.call("open_test_tasks:add", 1, 2))).isEqualTo(3L);
    assertThat(python.pids()).doesNotContain(pid);
    assertThat(python.restarts()).isEqualTo(1);
  }

  @Test
  void exitStatusesAndSignalsAreReported() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    WorkerCrashedException exit = (WorkerCrashedException) failure(
        python.call("open_test_tasks:crash", 3));
    assertThat(exit.exitCode()).isEqualTo(3);
    assertThat(exit.signal()).isNull();
    assertThat(exit).hasMessageContaining("exited (exit status 3)");

    eventually(Duration.ofSeconds(10), () -> python.size() == 1);
    WorkerCrashedException killed = (WorkerCrashedException) failure(
        python.call("open_test_tasks:kill_self", 9));
    assertThat(killed.signal()).isEqualTo(9);
    assertThat(killed).hasMessageContaining("killed by signal 9 SIGKILL");
  }

  @Test
  void garbageTruncatedAndOversizedFramesRestartTheWorkerWithAClearError() throws Exception {
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofMillis(200), Duration.ofSeconds(2))
        .withMaxFrame(64 << 20));
    for (String kind : List.of("garbage", "oversized", "truncated")) {
      long pid = python.pids().get(0);
      Throwable error = failure(python.call("open_test_tasks:emit", kind));
      assertThat(error).as(kind).isInstanceOf(WorkerCrashedException.class);
      switch (kind) {
        case "garbage" -> assertThat(error).isInstanceOf(WorkerProtocolException.class)
            .hasMessageContaining("bad_header_length");
        case "oversized" -> assertThat(error).isInstanceOf(WorkerProtocolException.class)
            .hasMessageContaining("too_large").hasMessageContaining("exceeds the limit of 67108864");
        default -> assertThat(error).hasMessageContaining("bytes of a frame in")
            .hasMessageContaining("slower than");
      }
      eventually(Duration.ofSeconds(10), () -> gone(pid) && python.size() == 1);
      assertThat(join(python.call("open_test_tasks:add", 1, 2))).as("after " + kind).isEqualTo(3L);
    }
    assertThat(python.restarts()).isEqualTo(3);
  }

  @Test
  void pingsAreAnsweredDuringLongCalls() throws Exception {
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofMillis(100), Duration.ofMillis(1500)));
    long pid = python.pids().get(0);
    assertThat(join(python.call("open_test_tasks:sleep", 3))).isEqualTo(3L);
    assertThat(python.pids()).containsExactly(pid);
    assertThat(python.restarts()).isZero();
  }

  @Test
  void aSilentWorkerIsReplaced() throws Exception {
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofMillis(100), Duration.ofMillis(500)));
    long pid = python.pids().get(0);
    signal("STOP", pid);
    eventually(Duration.ofSeconds(20), () -> python.restarts() == 1 && python.size() == 1);
    assertThat(python.pids()).doesNotContain(pid);
    assertThat(gone(pid)).isTrue();
    assertThat(join(python.call("open_test_tasks:add", 2, 3))).isEqualTo(5L);
  }

  @Test
  void metersShowThePoolsHealthAndItsRestarts() throws Exception {
    WorkerPool python = start(pool().withWorkers(2) // memory comes with the health checks' pongs
        .withHealthCheck(Duration.ofMillis(100), Duration.ofSeconds(5)));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    new WorkerPoolMetrics(python).bindTo(registry);
    assertThat(join(python.call("open_test_tasks:add", 2, 3))).isEqualTo(5L);

    assertThat(gauge(registry, "open.workers.size", python)).isEqualTo(2);
    assertThat(gauge(registry, "open.workers.alive", python)).isEqualTo(2);
    assertThat(gauge(registry, "open.workers.busy", python)).isZero();
    assertThat(gauge(registry, "open.workers.calls.inflight", python)).isZero();
    eventually(Duration.ofSeconds(20), () -> gauge(registry, "open.workers.rss", python) > 1 << 20);
    assertThat(registry.get("open.workers.calls").tag("pool", python.name()).functionCounter()
        .count()).isEqualTo(1);

    long pid = python.pids().get(0);
    signal("KILL", pid);
    eventually(Duration.ofSeconds(20), () -> python.restarts() == 1 && python.size() == 2);
    assertThat(registry.get("open.workers.restarts").tag("pool", python.name())
        .functionCounter().count()).isEqualTo(1);
    assertThat(gauge(registry, "open.workers.alive", python)).isEqualTo(2);
  }

  private static double gauge(MeterRegistry registry, String name, WorkerPool pool) {
    return registry.get(name).tag("pool", pool.name()).gauge().value();
  }

  @Test
  void aWorkerThatStopsReadingIsReplacedWhileTheHostIsStillWritingToIt() throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withSharedMemory(false) // through the pipe
        .withHealthCheck(Duration.ofMillis(100), Duration.ofMillis(500)));
    long pid = python.pids().get(0);
    signal("STOP", pid);
    // 16 MiB cannot fit in the pipe: the write blocks, holding the pipe, until the worker dies.
    // The call never reached the worker whole, so it never started: it runs on the replacement.
    double[] large = new double[2 << 20];
    large[12345] = 6.5;
    CompletableFuture<Object> call = CompletableFuture.supplyAsync(
        () -> python.call("open_test_tasks:identity", large),
        r -> Thread.ofVirtual().start(r)).thenCompose(f -> f);
    NDArray echoed = (NDArray) join(call);
    assertThat(echoed.toDoubleArray()[12345]).isEqualTo(6.5);
    assertThat(python.restarts()).isEqualTo(1);
    assertThat(gone(pid)).isTrue();
    assertThat(join(python.call("open_test_tasks:add", 2, 3))).isEqualTo(5L);
  }

  @Test
  void closeEndsAWorkerThatStoppedReadingWhileAWriteToItIsBlocked() throws Exception {
    WorkerPool python = pool().withWorkers(1).withSharedMemory(false).build(); // the pipe
    long pid = python.pids().get(0);
    signal("STOP", pid);
    Thread writer = Thread.ofPlatform().daemon().start(
        () -> python.call("open_test_tasks:identity", new double[2 << 20]));
    // Once the writer is inside the frame's write, 16 MiB to a stopped reader can only block.
    eventually(Duration.ofSeconds(20), () -> Arrays.stream(writer.getStackTrace()).anyMatch(
        f -> f.getClassName().endsWith(".FrameCodec") && f.getMethodName().equals("write")));
    assertTimeoutPreemptively(Duration.ofSeconds(20), python::close);
    assertThat(gone(pid)).isTrue();
    assertThat(writer.join(Duration.ofSeconds(10))).as("the blocked writer ended").isTrue();
  }

  private static void signal(String name, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start();
    assertThat(kill.waitFor()).isZero();
  }

  @Test
  void workersAreRecycledAfterNCalls() throws Exception {
    WorkerPool python = start(pool().withWorkers(2).withMaxCallsPerWorker(5));
    List<CompletableFuture<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      calls.add(python.call("open_test_tasks:add", i, 1));
    }
    for (int i = 0; i < 40; i++) {
      assertThat(join(calls.get(i))).isEqualTo((long) i + 1);
    }
    // Every recycled worker ran 5 calls, the two left at most 4 each: at least 7 were recycled.
    eventually(Duration.ofSeconds(20), () -> python.restarts() >= 7 && python.size() == 2);
    Object n = join(python.call("open_test_tasks:calls_so_far"));
    assertThat((Long) n).isLessThanOrEqualTo(5L);
  }

  @Test
  void callsRacingARecycleAreAllAnswered() throws Exception {
    // Many threads dispatch at once while workers retire after every 2 calls: a call that
    // picks a worker just as it retires must go to another worker, never be dropped. (The
    // window is microseconds wide; this is a smoke test of the path, not a reproduction.)
    WorkerPool python = start(pool().withWorkers(2).withMaxCallsPerWorker(2));
    List<CompletableFuture<Object>> calls = new ArrayList<>();
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<CompletableFuture<Object>>> sent = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        int n = i;
        sent.add(threads.submit(() -> python.call("open_test_tasks:add", n, 1)));
      }
      for (var f : sent) {
        calls.add(f.get());
      }
    }
    for (int i = 0; i < calls.size(); i++) {
      assertThat(join(calls.get(i))).isEqualTo((long) i + 1);
    }
  }

  @Test
  void workersAreRecycledWhenTheirMemoryGrows() throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withMaxMemory(200L << 20)
        .withHealthCheck(Duration.ofMillis(100), Duration.ofSeconds(5)));
    long pid = python.pids().get(0);
    assertThat(join(python.call("open_test_tasks:memory_hog", 300))).isEqualTo(300L);
    eventually(Duration.ofSeconds(20), () -> gone(pid));
    assertThat(join(python.call("open_test_tasks:add", 1, 1))).isEqualTo(2L);
    assertThat(python.restarts()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void leastLoadedDispatchSpreadsCalls() throws Exception {
    WorkerPool python = start(pool().withWorkers(2));
    // Dispatch is decided in call(): the busy worker holds this call until it is cancelled.
    CompletableFuture<Object> busy = python.call("open_test_tasks:sleep", 60);
    List<Long> loaded = python.status().stream().filter(w -> w.inFlight() == 1)
        .map(WorkerStatus::pid).toList();
    assertThat(loaded).as("workers holding the long call").hasSize(1);
    long idle = python.pids().stream().filter(p -> !p.equals(loaded.get(0))).findFirst()
        .orElseThrow();
    // While one worker sleeps, quick calls go to the other, whose answered calls no longer count.
    for (int i = 0; i < 5; i++) {
      assertThat(join(python.call("open_test_tasks:pid"))).isEqualTo(idle);
    }
    busy.cancel(true);
  }

  @Test
  void closingFailsWaitingCallsAndLeavesNoProcess() {
    WorkerPool python = pool().withWorkers(1).build();
    List<Long> pids = python.pids();
    CompletableFuture<Object> running = python.call("open_test_tasks:sleep", 60);
    python.close();
    assertThat(failure(running)).isInstanceOf(WorkerCrashedException.class);
    assertThat(pids).allSatisfy(pid -> assertThat(gone(pid)).isTrue());
    assertThat(failure(python.call("open_test_tasks:add", 1, 1)))
        .isInstanceOf(IllegalStateException.class).hasMessage("the python pool is closed");
    python.close(); // idempotent
  }

  @Test
  void closingWhileAReplacementStartsStopsItQuietly(@TempDir Path dir) throws Exception {
    // Python imports sitecustomize from PYTHONPATH at start-up: this one stalls a worker's start
    // while the marker file exists, so that the replacement of a killed worker is still starting
    // when the pool closes.
    Path marker = dir.resolve("slow");
    Files.writeString(dir.resolve("sitecustomize.py"), """
        import os, time
        if os.path.exists(%s):
            time.sleep(60)
        """.formatted("'" + marker + "'"));
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    var logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(WorkerPool.class);
    logger.addAppender(log);
    try {
      WorkerPool python = pool().withModulePath(dir).withWorkers(1).build();
      long first = python.pids().get(0);
      Files.createFile(marker);
      ProcessHandle.of(first).orElseThrow().destroyForcibly();
      eventually(Duration.ofSeconds(10), () -> ProcessHandle.current().children()
          .anyMatch(p -> p.isAlive() && p.pid() != first));
      python.close();
      assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList())
          .as("live child processes once close() returned").isEmpty();
      assertThat(log.list).noneMatch(e -> e.getLevel().isGreaterOrEqual(
          ch.qos.logback.classic.Level.ERROR));
    } finally {
      logger.detachAppender(log);
    }
  }

  @Test
  void aMissingInterpreterOrBrokenRuntimeIsAClearStartError() {
    assertThatThrownBy(() -> WorkerPool.python().withInterpreter("/nonexistent/python3")
        .withAllowedModules("x").build())
        .isInstanceOf(WorkerStartException.class)
        .hasMessageContaining("cannot start a python worker with [/nonexistent/python3, -u, ")
        .hasMessageContaining("open_worker_main.py, --allow, x");
    assertThatThrownBy(() -> WorkerPool.python().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("no allowed modules");
    assertThatThrownBy(() -> WorkerPool.python().withWorkers(1).withWorkers(2))
        .isInstanceOf(IllegalStateException.class).hasMessage("workers was already set to 1");
  }

  @Test
  void aWorkerThatDiesAtStartReportsItsStderr() {
    Throwable e = catchThrowable(() -> WorkerPool.python()
        .withInterpreter(PythonWorkers.PYTHON).withAllowedModules("bad module name with spaces")
        .withWorkers(1).build());
    assertThat(e).isInstanceOf(WorkerStartException.class)
        .hasMessageContaining("failed to start").hasMessageContaining("its stderr");
  }

  /**
   * One worker with a prefetch of 1 holds two calls: a long one running and one behind it. The
   * calls made after them wait in the pool's queue; those cancelled there never reach a worker.
   * Each call appends its label to a file, and the worker runs calls in the order it gets them,
   * so the file says exactly which ran: a cancelled call sent anyway would be in it before the
   * kept call made after it.
   */
  @Test
  void cancelledFuturesOfWaitingCallsNeverRun(@TempDir Path dir) throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withPrefetch(1));
    long pid = python.pids().get(0);
    String ran = dir.resolve("ran").toString();
    CompletableFuture<Object> blocker = python.call("open_test_tasks:sleep", 60);
    CompletableFuture<Object> prefetched = python.call("open_test_tasks:record", ran, "prefetched");
    assertThat(python.status()).singleElement()
        .satisfies(w -> assertThat(w.inFlight()).as("calls the worker holds").isEqualTo(2));
    CompletableFuture<Object> cancelled1 = python.call("open_test_tasks:record", ran, "cancelled-1");
    CompletableFuture<Object> kept1 = python.call("open_test_tasks:record", ran, "kept-1");
    CompletableFuture<Object> cancelled2 = python.call("open_test_tasks:record", ran, "cancelled-2");
    CompletableFuture<Object> kept2 = python.call("open_test_tasks:record", ran, "kept-2");
    assertThat(python.status()).singleElement()
        .satisfies(w -> assertThat(w.inFlight()).as("calls the worker holds").isEqualTo(2));

    cancelled1.cancel(true);
    cancelled2.cancel(true);
    blocker.cancel(true); // the worker interrupts it and takes the calls still wanted

    assertThat(join(prefetched)).isEqualTo("prefetched");
    assertThat(join(kept1)).isEqualTo("kept-1");
    assertThat(join(kept2)).isEqualTo("kept-2");
    assertThat(Files.readAllLines(Path.of(ran)))
        .containsExactly("prefetched", "kept-1", "kept-2");
    assertThat(python.pids()).containsExactly(pid);
  }
}
