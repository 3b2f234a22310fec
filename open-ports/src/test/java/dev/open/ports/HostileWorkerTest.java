package dev.open.ports;

import static dev.open.ports.PythonWorkers.failure;
import static dev.open.ports.PythonWorkers.join;
import static dev.open.ports.PythonWorkers.withHostileTasks;
import static dev.open.ports.PythonWorkers.eventually;
import static dev.open.ports.PythonWorkers.gone;
import static dev.open.ports.PythonWorkers.pool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tasks that attack the host through the worker (open-ports/src/test/python/hostile_tasks.py):
 * a frame announced huge and never sent, a frame trickled a byte at a time, chunks without end,
 * a stderr line of hundreds of megabytes, forged and malformed frames, a result larger than the
 * heap. Surefire runs this class in a JVM of 192 MiB of heap, so that any allocation a worker
 * could drive without bound fails loudly. In every case the attack costs the call that made it,
 * within seconds and with an exception that says what happened, and the pool answers the next
 * call.
 */
class HostileWorkerTest {
  private static final Duration SOON = Duration.ofSeconds(20);
  private final List<WorkerPool> pools = new ArrayList<>();

  /** A pool of one worker that may call the hostile tasks; fast health checks. */
  private WorkerPool start(WorkerPool.Builder builder) {
    WorkerPool pool = withHostileTasks(builder).build();
    pools.add(pool);
    return pool;
  }

  /** These tests prove nothing with a large heap, where an unbounded allocation succeeds. */
  @BeforeAll
  static void requireASmallHeap() {
    assertThat(Runtime.getRuntime().maxMemory()).as("max heap; run this class as surefire's "
        + "execution hostile-workers-small-heap does, with -Xmx192m").isLessThan(256L << 20);
  }

  @AfterEach
  void closeAndCheckNoWorkerIsLeft() {
    PythonWorkers.closeAndCheckNoWorkerIsLeft(pools);
  }

  /** The pool replaced {@code pid} and answers on the replacement. */
  private static void servesOnAfterReplacing(WorkerPool pool, long pid) throws Exception {
    eventually(SOON, () -> gone(pid) && pool.size() == 1);
    assertThat(join(pool.call("hostile_tasks:value", 7))).isEqualTo(7L);
    assertThat(pool.pids()).doesNotContain(pid);
  }

  @Test
  void aFrameAnnouncedAsAGigabyteThenStalledCostsNoGigabyteAndIsKilledAsHung() throws Exception {
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofMillis(100), Duration.ofSeconds(1)));
    long pid = python.pids().get(0);
    Throwable error = failure(python.call("hostile_tasks:huge_prefix_then_stall",
        dev.open.ports.internal.protocol.FrameCodec.DEFAULT_MAX_FRAME - 8));

    assertThat(error).isInstanceOf(WorkerCrashedException.class)
        .hasMessageContaining("bytes of a frame in").hasMessageContaining("slower than");
    servesOnAfterReplacing(python, pid);
  }

  @Test
  void aFrameTrickledAByteAtATimeIsKilledAsHungAlthoughEveryByteIsALifeSign() throws Exception {
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofMillis(100), Duration.ofSeconds(1)));
    long pid = python.pids().get(0);
    Throwable error = failure(python.call("hostile_tasks:trickle", 1 << 20, 0.02));

    assertThat(error).isInstanceOf(WorkerCrashedException.class).hasMessageContaining("slower than");
    servesOnAfterReplacing(python, pid);
  }

  @Test
  void chunksWithoutEndFailTheirCallClearlyAndTheWorkerServesOn() throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withMaxFrame(4 << 20));
    long pid = python.pids().get(0);
    Throwable error = failure(python.call("hostile_tasks:endless", 64 << 10));

    assertThat(error).isInstanceOf(WorkerException.class)
        .hasMessageContaining("yielded more than the 4194304 bytes of chunks that call() collects")
        .hasMessageContaining("use stream()");
    assertThat(join(python.call("hostile_tasks:value", 7))).isEqualTo(7L);
    assertThat(python.pids()).containsExactly(pid); // cancelled between chunks, not killed
  }

  @Test
  void aStreamWhoseConsumerLagsHoldsTheWorkerBackInsteadOfFillingTheHeap() throws Exception {
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofMillis(100), Duration.ofMillis(500)));
    long pid = python.pids().get(0);
    try (CallStream chunks = python.stream("hostile_tasks:endless", 1 << 20)) {
      for (int i = 0; i < 3; i++) {
        assertThat((byte[]) chunks.next()).hasSize(1 << 20);
      }
      // The consumer lags for four ping timeouts: unbounded buffering would take gigabytes of
      // this 192 MiB heap, and a host that blamed the worker for its own stop would kill it.
      Thread.sleep(2_000);
      for (int i = 0; i < 20; i++) {
        assertThat((byte[]) chunks.next()).hasSize(1 << 20);
      }
    }
    assertThat(join(python.call("hostile_tasks:value", 7))).isEqualTo(7L);
    assertThat(python.pids()).containsExactly(pid);
    assertThat(python.restarts()).isZero();
  }

  @Test
  void aStderrLineOf300MegabytesIsCutNotHeld() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    WorkerPool python = start(pool().withWorkers(1).withStderrSink(lines::add));
    long pid = python.pids().get(0);

    assertThat(join(python.call("hostile_tasks:stderr_flood", 300))).isEqualTo("done");
    assertThat(lines).anySatisfy(line -> assertThat(line)
        .startsWith("x".repeat(WorkerProcess.MAX_STDERR_LINE))
        .endsWith("[... " + ((300L << 20) - WorkerProcess.MAX_STDERR_LINE)
            + " more bytes of this line dropped]"));
    assertThat(python.pids()).containsExactly(pid);
  }

  @Test
  void aFailureOfTheStderrPumpEndsTheWorkerInsteadOfLeavingItBroken() throws Exception {
    WorkerPool python = start(pool().withWorkers(1).withStderrSink(line -> {
      if (line.contains("poison")) {
        throw new IllegalStateException("the sink failed");
      }
    }));
    long pid = python.pids().get(0);
    CompletableFuture<Object> printing = python.call("hostile_tasks:print_then_wait", "poison");

    assertThat(failure(printing)).isInstanceOf(WorkerCrashedException.class)
        .hasMessageContaining("its stderr could not be read")
        .hasMessageContaining("the sink failed");
    servesOnAfterReplacing(python, pid);
  }

  @Test
  void aWorkerThatExitsWhileAChildHoldsItsOutputOpenIsStillReplaced() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    // The child holds the output for 60 s: the pool must notice the exit long before that.
    CompletableFuture<Object> call = python.call("hostile_tasks:exit_leaving_output_open", 60, 7);

    Throwable error = catchThrowable(() -> call.get(20, TimeUnit.SECONDS));
    assertThat(error).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(WorkerCrashedException.class).hasMessageContaining("exit status 7");
    servesOnAfterReplacing(python, pid);
  }

  @Test
  void aResultLargerThanTheHeapFailsItsCallAndTheWorkerIsReplaced() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    Throwable error = failure(python.call("hostile_tasks:big_bytes", 400));

    assertThat(error).isInstanceOf(WorkerCrashedException.class)
        .hasMessageContaining("could not be read")
        .hasRootCauseInstanceOf(OutOfMemoryError.class);
    servesOnAfterReplacing(python, pid);
  }

  @Test
  void malformedValuesInAResultFailThatCallOnlyAndTheWorkerServesOn() throws Exception {
    // Pings off: a pong could interleave with the frames these tasks write behind the worker.
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofHours(1), Duration.ofHours(1)));
    long pid = python.pids().get(0);
    String deep = "[".repeat(600) + "]".repeat(600);
    List<String> values = List.of("1".repeat(5000), deep, "1e400");
    List<String> problems = List.of("Number value length", "nesting depth", "beyond binary64");
    long id = 1; // a fresh worker numbers calls from 1; each case below makes two
    for (int i = 0; i < values.size(); i++, id += 2) {
      Throwable error = failure(python.call("hostile_tasks:raw_result", id, values.get(i)));
      assertThat(error).as(problems.get(i)).isExactlyInstanceOf(WorkerException.class)
          .hasMessageContaining("the result of hostile_tasks:raw_result is malformed")
          .hasMessageContaining(problems.get(i));
      assertThat(join(python.call("hostile_tasks:value", 7))).isEqualTo(7L);
    }
    Throwable error = failure(python.call("hostile_tasks:raw_bool_array", id));
    assertThat(error).hasMessageContaining("|b1 element is not 0 or 1");
    assertThat(join(python.call("hostile_tasks:value", 7))).isEqualTo(7L);
    assertThat(python.pids()).containsExactly(pid);
    assertThat(python.restarts()).isZero();
  }

  @Test
  void aForgedHeaderWithItsKindTwiceIsAProtocolErrorThatCostsOnlyItsCall() throws Exception {
    WorkerPool python = start(pool().withWorkers(1)
        .withHealthCheck(Duration.ofHours(1), Duration.ofHours(1)));
    long pid = python.pids().get(0);
    Throwable error = failure(python.call("hostile_tasks:duplicate_kind", 1));

    assertThat(error).isInstanceOf(WorkerProtocolException.class)
        .hasMessageContaining("bad_header").hasMessageContaining("Duplicate field 'kind'");
    servesOnAfterReplacing(python, pid);
  }

  @Test
  void argumentsBeyondTheProtocolFailTheirCallBeforeAnyWorkerSeesThem() {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    Object deep = List.of();
    for (int i = 0; i < 600; i++) {
      deep = List.of(deep);
    }
    List<Object> cyclic = new ArrayList<>();
    cyclic.add(cyclic);
    for (Object bad : List.of(deep, cyclic, BigInteger.TEN.pow(5000))) {
      assertThatThrownBy(() -> python.call("hostile_tasks:value", bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("cannot send the arguments of hostile_tasks:value");
    }
    assertThat(join(python.call("hostile_tasks:value", 7))).isEqualTo(7L);
    assertThat(python.pids()).containsExactly(pid);
  }
}
