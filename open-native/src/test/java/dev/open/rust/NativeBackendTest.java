package dev.open.rust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.array.NDArray;
import dev.open.dag.metrics.DagMetrics;
import dev.open.dag.spi.Invocation;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class NativeBackendTest {
  private final NativeBackend rust = NativeBackend.create(RustKernels.load(), 2,
      Duration.ofNanos(50_000));

  @AfterEach
  void close() {
    rust.close();
  }

  @Test
  void dagNodesCallKernelsByName() {
    DagBuilder b = Dag.builder("native");
    Node<NDArray> x = b.task("x", () -> NDArray.of(new double[] {1, 2, 3, 4}, 2, 2));
    Node<NDArray> square = b.call("square", rust.function("matmul", NDArray.class), x, x);
    Node<byte[]> text = b.task("text", () -> "hello hello world".getBytes());
    Node<byte[]> digest = b.call("digest", rust.function("blake3", byte[].class), text);
    Node<byte[]> packed = b.call("packed", rust.function("zstd_compress", byte[].class), text);
    Node<byte[]> unpacked = b.call("unpacked", rust.function("zstd_decompress", byte[].class), packed);
    Node<String> words = b.task("words", () -> "to be or not to be");
    @SuppressWarnings("rawtypes")
    Node<Map> counts = b.call("counts", rust.function("token_counts", Map.class), words);
    Node<double[]> values = b.task("values", () -> new double[] {3, 1, 2});
    Node<MinMax> range = b.call("range", rust.function("min_max", MinMax.class), values);
    Node<MeanVariance> moments = b.call("moments", rust.function("mean_variance", MeanVariance.class), values);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RunReport report = DagExecutor.builder().withListener(new DagMetrics(registry)).build()
        .run(b.build());

    assertThat(report.succeeded()).isTrue();
    assertThat(report.result(square).toDoubleArray()).containsExactly(7, 10, 15, 22);
    assertThat(report.result(digest)).isEqualTo(RustKernels.load().blake3("hello hello world".getBytes()));
    assertThat(report.result(unpacked)).isEqualTo("hello hello world".getBytes());
    assertThat(report.result(counts)).containsEntry("to", 2L).containsEntry("be", 2L);
    assertThat(report.result(range)).isEqualTo(new MinMax(1, 3));
    assertThat(report.result(moments).mean()).isEqualTo(2.0);
    assertThat(report.node(square).backend()).isEqualTo("native");
    assertThat(registry.get("open.dag.tasks.succeeded").tags("backend", "native").counters())
        .hasSize(7);
  }

  @Test
  void shortCallsCompleteOnTheCallerAndLongOnesOnThePool() throws Exception {
    // The pool's only thread is held busy, so a call handed to it cannot have run yet.
    var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    var release = new java.util.concurrent.CountDownLatch(1);
    pool.execute(() -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    try (NativeBackend held = new NativeBackend(RustKernels.load(), pool, Duration.ofNanos(50_000))) {
      NDArray small = NDArray.of(new double[] {2}, 1, 1);
      NDArray big = NDArray.allocate(dev.open.dag.array.DType.FLOAT64, 400, 400);

      var inline = held.invoke(new Invocation("d", "n", 1, "matmul", List.of(small, small), NDArray.class));
      assertThat(inline).isDone(); // ran on this thread before invoke returned
      var pooled = held.invoke(new Invocation("d", "n", 1, "matmul", List.of(big, big), NDArray.class));
      assertThat(pooled).isNotDone(); // 64 M multiply-adds: queued for the pool's thread
      release.countDown();
      assertThat(((NDArray) pooled.get(30, java.util.concurrent.TimeUnit.SECONDS)).shape())
          .containsExactly(400, 400);
    }
  }

  /**
   * Twelve matmul nodes under {@code withConcurrencyLimit("native", 2)}. The backend's pool is a
   * gate that holds every call on its node's thread until the test lets it go, and the DAG's
   * threads come from a counting executor; a node queued for a permit holds no thread (the
   * limiter parks none). So the run is at rest exactly when every thread it started is held at
   * the gate; at each rest the calls in flight must equal the limit (while enough are left), and
   * the test then lets one call finish. Were the limit ignored, all twelve would be at the gate
   * at the first rest; were calls serialised, one.
   */
  @Test
  void aNativeConcurrencyLimitBoundsCallsInFlight() throws Exception {
    int limit = 2;
    int calls = 12;
    HeldCalls gate = new HeldCalls();
    CountingThreads threads = new CountingThreads(gate);
    double[] identity = new double[100];
    for (int i = 0; i < 10; i++) {
      identity[11 * i] = 1;
    }
    // An inline limit of zero sends every call, even this 10 x 10 product, to the pool.
    try (NativeBackend held = new NativeBackend(RustKernels.load(), gate, Duration.ZERO)) {
      DagBuilder b = Dag.builder("limited");
      Node<NDArray> x = b.task("x", () -> NDArray.of(identity, 10, 10));
      List<Node<NDArray>> products = new java.util.ArrayList<>();
      for (int i = 0; i < calls; i++) {
        products.add(b.call("mm" + i, held.function("matmul", NDArray.class), x, x));
      }
      dev.open.dag.Execution run = DagExecutor.builder().withConcurrencyLimit("native", limit)
          .withExecutor(threads).build().start(b.build());

      try {
        for (int released = 0; released < calls; released++) {
          int inFlight = gate.awaitRest(threads);
          assertThat(inFlight).as("calls in flight with %d of %d finished", released, calls)
              .isEqualTo(Math.min(limit, calls - released));
          gate.releaseOne();
        }
      } finally {
        gate.releaseAll(); // a failed assertion leaves no thread held
      }
      RunReport report = run.await(Duration.ofSeconds(30));
      assertThat(report.succeeded()).isTrue();
      for (Node<NDArray> product : products) {
        assertThat(report.result(product).toDoubleArray()).containsExactly(identity);
      }
      assertThat(gate.maxInFlight()).isEqualTo(limit);
    }
  }

  /**
   * A pool for {@link NativeBackend} that runs each call on the caller's thread once the test
   * lets it go ({@link #releaseOne}), counting the calls held.
   */
  private static final class HeldCalls extends java.util.concurrent.AbstractExecutorService {
    private final java.util.ArrayDeque<java.util.concurrent.CountDownLatch> held =
        new java.util.ArrayDeque<>();
    private int inFlight;
    private int max;
    private boolean open;

    @Override
    public void execute(Runnable call) {
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      synchronized (this) {
        if (open) {
          go.countDown();
        } else {
          held.addLast(go);
        }
        inFlight++;
        max = Math.max(max, inFlight);
        notifyAll();
      }
      try {
        go.await();
        call.run();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        synchronized (this) {
          inFlight--;
          notifyAll();
        }
      }
    }

    /**
     * Waits until every thread the run started is held here (a released call counts no more),
     * and returns how many are. Both counts change under this object's lock only, so a rest seen
     * is a real one.
     */
    synchronized int awaitRest(CountingThreads threads) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (threads.alive != held.size()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("the run did not come to rest: " + threads.alive
              + " threads alive, " + held.size() + " calls held");
        }
        java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return held.size();
    }

    synchronized void releaseOne() {
      held.removeFirst().countDown();
    }

    synchronized void releaseAll() {
      open = true;
      held.forEach(java.util.concurrent.CountDownLatch::countDown);
      held.clear();
    }

    synchronized int maxInFlight() {
      return max;
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, java.util.concurrent.TimeUnit unit) {
      return true;
    }
  }

  /** The DAG's threads: virtual, counted while they run, under the gate's lock. */
  private static final class CountingThreads implements java.util.concurrent.Executor {
    private final Object lock;
    int alive; // guarded by lock

    CountingThreads(Object lock) {
      this.lock = lock;
    }

    @Override
    public void execute(Runnable work) {
      synchronized (lock) {
        alive++;
      }
      Thread.startVirtualThread(() -> {
        try {
          work.run();
        } finally {
          synchronized (lock) {
            alive--;
            lock.notifyAll();
          }
        }
      });
    }
  }

  @Test
  void badCallsFailTheNodeWithAClearMessage() {
    DagBuilder b = Dag.builder("bad");
    Node<String> s = b.task("s", () -> "x");
    b.call("wrongType", rust.function("blake3", byte[].class), s);
    b.call("wrongCount", rust.function("sum", Double.class));
    Node<byte[]> junk = b.task("junk", () -> new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    b.call("corrupt", rust.function("zstd_decompress", byte[].class), junk);
    RunReport report = DagExecutor.builder()
        .withFailureMode(dev.open.dag.policy.FailureMode.CONTINUE).build().run(b.build());

    assertThat(report.node("wrongType").error()).cause()
        .hasMessage("argument 1 (data) must be byte[], got String");
    assertThat(report.node("wrongCount").error()).cause()
        .hasMessage("native function 'sum' takes (x), got 0 arguments");
    assertThat(report.node("corrupt").error()).cause().isInstanceOf(NativeException.class);
    assertThatThrownBy(() -> rust.function("fft", double[].class))
        .hasMessageStartingWith("no native function 'fft'; known: matmul");
  }
}
