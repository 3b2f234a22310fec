package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;

import dev.open.dag.policy.FailureMode;

class ExecutionHandleTest {

  @Test
  void perNodeFuturesCompleteAsSoonAsTheirNodeDoes() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    DagBuilder b = Dag.builder("futures");
    Node<String> early = b.task("early", () -> "early");
    Node<String> late = b.task("late", early, e -> {
      release.await();
      return e + "+late";
    });
    Execution run = b.build().start();

    assertThat(run.future(early).get(5, TimeUnit.SECONDS)).isEqualTo("early");
    CompletableFuture<String> lateFuture = run.future(late);
    assertThat(lateFuture).isNotDone();
    assertThat(run.isDone()).isFalse();
    release.countDown();
    assertThat(lateFuture.get(5, TimeUnit.SECONDS)).isEqualTo("early+late");
    assertThat(run.await().succeeded()).isTrue();
    assertThat(run.future(late).get()).isEqualTo("early+late"); // a sink: kept
  }

  @Test
  void completingAReturnedFutureDoesNotAffectTheRun() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    DagBuilder b = Dag.builder("isolation");
    Node<Integer> a = b.task("a", () -> {
      release.await();
      return 1;
    });
    Execution run = b.build().start();
    run.future(a).complete(42);
    run.completion().cancel(true);
    release.countDown();

    assertThat(run.await().result(a)).isEqualTo(1);
    assertThat(run.future(a).get()).isEqualTo(1);
  }

  @Test
  void futuresOfFailedAndSkippedNodesCompleteExceptionally() throws Exception {
    DagBuilder b = Dag.builder("fail");
    Node<Integer> bad = b.task("bad", () -> {
      throw new IllegalStateException("nope");
    });
    Node<Integer> child = b.task("child", bad, x -> x);
    Execution run = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE).build()
        .start(b.build());

    assertThatThrownBy(() -> run.future(bad).get()).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(TaskFailedException.class);
    assertThatThrownBy(() -> run.future(child).get()).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(TaskSkippedException.class)
        .hasMessageStartingWith("task 'child' was skipped because 'bad' failed: ")
        .hasRootCauseMessage("nope");
    RunReport report = run.await();
    assertThatThrownBy(() -> report.result(child)).isInstanceOf(DagExecutionException.class)
        .hasMessageStartingWith("node 'child' of DAG 'fail' skipped: task 'child' was skipped "
            + "because 'bad' failed: ")
        .hasMessageContaining("nope")
        .hasCauseInstanceOf(TaskSkippedException.class)
        .hasRootCauseInstanceOf(IllegalStateException.class);
    assertThatThrownBy(report::orThrow).isInstanceOf(DagExecutionException.class)
        .hasMessageContaining("DAG 'fail' failed: 0 succeeded, 1 failed, 1 skipped")
        .hasCauseInstanceOf(TaskFailedException.class);
  }

  @Test
  void progressCountsNodesAsTheyGo() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DagBuilder b = Dag.builder("progress");
    Node<Integer> a = b.task("a", () -> 1);
    Node<Integer> blocker = b.task("blocker", a, x -> {
      started.countDown();
      release.await();
      return x;
    });
    b.task("c", blocker, x -> x);
    Execution run = b.build().start();
    started.await();

    Progress during = run.progress();
    assertThat(during.total()).isEqualTo(3);
    assertThat(during.succeeded()).isEqualTo(1);
    assertThat(during.running()).isEqualTo(1);
    assertThat(during.pending()).isEqualTo(1);
    assertThat(during.finished()).isEqualTo(1);
    release.countDown();
    run.await();
    Progress after = run.progress();
    assertThat(after.succeeded()).isEqualTo(3);
    assertThat(after.running()).isZero();
    assertThat(after.pending()).isZero();
    assertThat(after).hasToString("3/3 finished (3 succeeded, 0 failed, 0 skipped, 0 cancelled), 0 running");
  }

  @Test
  void awaitWithATimeoutLetsTheRunGoOn() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    DagBuilder b = Dag.builder("await");
    b.task("a", () -> {
      release.await();
      return 1;
    });
    Execution run = b.build().start();

    assertThatThrownBy(() -> run.await(Duration.ofMillis(20))).isInstanceOf(TimeoutException.class);
    release.countDown();
    assertThat(run.await(Duration.ofSeconds(5)).succeeded()).isTrue();
    assertThat(run.completion().get().succeeded()).isTrue();
  }
}
