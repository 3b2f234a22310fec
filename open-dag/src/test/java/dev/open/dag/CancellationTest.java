package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class CancellationTest {

  @Test
  void cancelInterruptsRunningTasksAndLeavesNoThreadBehind() throws Exception {
    int width = 50;
    CountDownLatch allStarted = new CountDownLatch(width);
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    AtomicInteger inside = new AtomicInteger();
    DagBuilder b = Dag.builder("cancel");
    for (int i = 0; i < width; i++) {
      Node<Integer> sleeper = b.task("sleep" + i, () -> {
        threads.add(Thread.currentThread());
        inside.incrementAndGet();
        try {
          allStarted.countDown();
          Thread.sleep(60_000);
          return 1;
        } finally {
          inside.decrementAndGet();
        }
      });
      b.task("after" + i, sleeper, x -> x);
    }
    Execution run = b.build().start();
    allStarted.await();

    assertThat(run.cancel()).isTrue();
    RunReport report = run.await(Duration.ofSeconds(10));

    assertThat(run.cancel()).isFalse();
    assertThat(report.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(report.count(NodeStatus.CANCELLED)).isEqualTo(2 * width);
    assertThat(report.failure()).get().isInstanceOf(RunCancelledException.class);
    assertThat(inside).hasValue(0);
    for (Thread t : threads) {
      t.join(5_000);
      assertThat(t.isAlive()).as("task thread %s", t).isFalse();
    }
    assertThat(report.node("sleep0").attempts()).isEqualTo(1);
    assertThat(report.node("after0").attempts()).isZero();
    assertThat(report.node("after0").startedAt()).isNull();
  }

  @Test
  void anInterruptedRunCallerCancelsTheRunAndKeepsItsInterruptFlag() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    DagBuilder b = Dag.builder("interrupt");
    b.task("sleep", () -> {
      started.countDown();
      Thread.sleep(60_000);
      return 1;
    });
    Dag dag = b.build();
    AtomicReference<RunReport> report = new AtomicReference<>();
    AtomicReference<Boolean> flag = new AtomicReference<>();
    Thread caller = Thread.ofPlatform().start(() -> {
      report.set(dag.run());
      flag.set(Thread.currentThread().isInterrupted());
    });
    started.await();
    caller.interrupt();
    caller.join(10_000);

    assertThat(caller.isAlive()).isFalse();
    assertThat(report.get().status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(flag.get()).isTrue();
  }

  @Test
  void cancelStopsAMapAndItsWaitingElements() throws Exception {
    CountDownLatch someStarted = new CountDownLatch(2);
    AtomicInteger ran = new AtomicInteger();
    DagBuilder b = Dag.builder("cancel-map");
    Node<List<Integer>> items = b.task("items", () -> IntStream.range(0, 100).boxed().toList());
    b.node("each").withTags("slow").map(items, x -> {
      ran.incrementAndGet();
      someStarted.countDown();
      Thread.sleep(60_000);
      return x;
    });
    Execution run = DagExecutor.builder().withConcurrencyLimit("slow", 2).build().start(b.build());
    someStarted.await();
    run.cancel();
    RunReport report = run.await(Duration.ofSeconds(10));

    assertThat(report.node("each").status()).isEqualTo(NodeStatus.CANCELLED);
    assertThat(ran).hasValue(2); // the 98 queued elements never started
  }

  @Test
  void futuresOfCancelledNodesFailWithRunCancelledException() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    DagBuilder b = Dag.builder("futures");
    Node<Integer> sleep = b.task("sleep", () -> {
      started.countDown();
      Thread.sleep(60_000);
      return 1;
    });
    Node<Integer> after = b.task("after", sleep, x -> x);
    Execution run = b.build().start();
    CompletableFuture<Integer> afterFuture = run.future(after);
    started.await();
    run.cancel();
    run.await();

    assertThatThrownBy(afterFuture::get).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(RunCancelledException.class)
        .hasMessageContaining("was cancelled");
    assertThatThrownBy(() -> run.future(sleep).get()).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(RunCancelledException.class);
  }

  @Test
  void aRetryWaitingInBackoffIsCancelledToo() throws Exception {
    CountDownLatch inBackoff = new CountDownLatch(1);
    AtomicReference<Duration> interruptedWaiting = new AtomicReference<>();
    dev.open.dag.policy.Sleeper sleeper = delay -> {
      inBackoff.countDown();
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        interruptedWaiting.set(delay);
        throw e;
      }
    };
    DagBuilder b = Dag.builder("backoff");
    b.node("flaky")
        .withRetry(dev.open.dag.policy.RetryPolicy.builder()
            .withDelay(Duration.ofSeconds(60)).build())
        .task(() -> {
          throw new IllegalStateException("fail");
        });
    Execution run = DagExecutor.builder().withSleeper(sleeper).build().start(b.build());
    inBackoff.await();
    run.cancel();
    RunReport report = run.await(Duration.ofSeconds(10));

    assertThat(interruptedWaiting).as("the backoff the cancellation interrupted")
        .hasValue(Duration.ofSeconds(60));
    assertThat(report.node("flaky").status()).isEqualTo(NodeStatus.CANCELLED);
    assertThat(report.node("flaky").attempts()).isEqualTo(1);
  }
}
