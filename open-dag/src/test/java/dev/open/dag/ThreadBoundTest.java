package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

/**
 * {@link DagExecutor.Builder#withMaxThreads}: a run never holds more threads than the bound, for
 * nodes and for the elements of a map node, and every task still runs exactly once. Threads are
 * counted at the executor seam; tasks wait on a gate, so the count is taken while they are all in
 * flight.
 */
class ThreadBoundTest {
  private static final int BOUND = 8;
  private static final int TASKS = 5 * BOUND;

  /** Starts a virtual thread per runnable, counting the calls and the threads alive at once. */
  private static final class CountingThreads implements Executor {
    final AtomicInteger started = new AtomicInteger();
    final AtomicInteger alive = new AtomicInteger();
    final AtomicInteger peakAlive = new AtomicInteger();

    @Override
    public void execute(Runnable work) {
      started.incrementAndGet();
      Thread.startVirtualThread(() -> {
        peakAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
        try {
          work.run();
        } finally {
          alive.decrementAndGet();
        }
      });
    }
  }

  @Test
  void readyNodesBeyondTheBoundWaitWithoutAThread() throws Exception {
    CountingThreads threads = new CountingThreads();
    CountDownLatch gate = new CountDownLatch(1);
    AtomicIntegerArray runs = new AtomicIntegerArray(TASKS);
    DagBuilder b = Dag.builder("wide");
    List<Node<Integer>> nodes = new ArrayList<>();
    for (int i = 0; i < TASKS; i++) {
      int id = i;
      nodes.add(b.task("t" + i, () -> {
        runs.incrementAndGet(id);
        gate.await();
        return id;
      }));
    }
    Execution run = DagExecutor.builder().withExecutor(threads).withMaxThreads(BOUND).build()
        .start(b.build());

    // start() has handed every root to a thread or deferred it before it returns.
    assertThat(threads.started).hasValue(BOUND);
    gate.countDown();
    RunReport report = run.completion().get(30, TimeUnit.SECONDS);

    assertThat(report.count(NodeStatus.SUCCEEDED)).isEqualTo(TASKS);
    for (int i = 0; i < TASKS; i++) {
      assertThat(runs.get(i)).as("runs of t%d", i).isEqualTo(1);
      assertThat(report.result(nodes.get(i))).isEqualTo(i);
    }
    assertThat(threads.peakAlive.get()).isBetween(1, BOUND);
  }

  @Test
  void mapElementsBeyondTheBoundWaitWithoutAThread() throws Exception {
    CountingThreads threads = new CountingThreads();
    CountDownLatch firstElementRuns = new CountDownLatch(1);
    CountDownLatch gate = new CountDownLatch(1);
    AtomicIntegerArray runs = new AtomicIntegerArray(TASKS);
    DagBuilder b = Dag.builder("wide-map");
    Node<List<Integer>> items = b.task("items", () -> {
      List<Integer> list = new ArrayList<>();
      for (int i = 0; i < TASKS; i++) {
        list.add(i);
      }
      return list;
    });
    Node<List<Integer>> squares = b.map("squares", items, i -> {
      runs.incrementAndGet(i);
      if (i == 0) {
        firstElementRuns.countDown();
      }
      gate.await();
      return i * i;
    });
    Execution run = DagExecutor.builder().withExecutor(threads).withMaxThreads(BOUND).build()
        .start(b.build());

    // Element 0 runs on the map node's thread once it has started what the bound allows.
    assertThat(firstElementRuns.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(threads.started).hasValue(BOUND);
    gate.countDown();
    RunReport report = run.completion().get(30, TimeUnit.SECONDS);

    assertThat(report.node(squares).status()).isEqualTo(NodeStatus.SUCCEEDED);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < TASKS; i++) {
      expected.add(i * i);
      assertThat(runs.get(i)).as("runs of element %d", i).isEqualTo(1);
    }
    assertThat(report.result(squares)).isEqualTo(expected);
    assertThat(threads.peakAlive.get()).isBetween(1, BOUND);
  }

  @Test
  void aCancelledMapStillEndsEveryDeferredElement() throws Exception {
    CountDownLatch firstElementRuns = new CountDownLatch(1);
    DagBuilder b = Dag.builder("cancelled-map");
    Node<List<Integer>> items = b.task("items", () -> {
      List<Integer> list = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        list.add(i);
      }
      return list;
    });
    Node<List<Integer>> blocked = b.map("blocked", items, i -> {
      firstElementRuns.countDown();
      new CountDownLatch(1).await(); // until interrupted by the cancellation
      return i;
    });
    Execution run = DagExecutor.builder().withMaxThreads(4).build().start(b.build());
    assertThat(firstElementRuns.await(30, TimeUnit.SECONDS)).isTrue();
    run.cancel();
    RunReport report = run.completion().get(30, TimeUnit.SECONDS);

    assertThat(report.node(blocked).status()).isEqualTo(NodeStatus.CANCELLED);
  }

  @Test
  void theBoundIsASettingGivenOnce() {
    assertThatThrownBy(() -> DagExecutor.builder().withMaxThreads(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxThreads must be >= 1, was 0");
    assertThatThrownBy(() -> DagExecutor.builder().withMaxThreads(2).withMaxThreads(3))
        .isInstanceOf(IllegalStateException.class).hasMessage("maxThreads was already set to 2");
    assertThat(DagExecutor.builder().withMaxThreads(7).build().maxThreads()).isEqualTo(7);
  }

  /** docs/dag.md: one thread per 2 KiB of the maximum heap, at least 4,096. */
  @Test
  void theDefaultBoundFollowsTheHeap() {
    long heap = Runtime.getRuntime().maxMemory();
    assertThat(DagExecutor.defaults().maxThreads())
        .isEqualTo((int) Math.min(Integer.MAX_VALUE, Math.max(4096, heap / 2048)));
  }
}
