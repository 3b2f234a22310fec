package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;
import dev.open.dag.spi.PlacedTask;
import dev.open.dag.spi.TaskPlacement;

/** The seam through which open-cluster runs attempts elsewhere: {@link TaskPlacement}. */
class TaskPlacementTest {

  /** Records every attempt it places, then runs it here, marking it started first. */
  static final class Recording implements TaskPlacement {
    final List<String> placed = Collections.synchronizedList(new ArrayList<>());

    @Override
    public Object run(PlacedTask task) throws Exception {
      placed.add(task.node() + (task.element() < 0 ? "" : "[" + task.element() + "]")
          + "#" + task.attempt() + " " + task.inputs());
      task.started();
      return task.runHere();
    }
  }

  @Test
  void everyAttemptOfEveryTaskAndElementGoesThroughThePlacement() {
    DagBuilder b = Dag.builder("placed");
    Node<Integer> two = b.task("two", () -> 2);
    Node<List<Integer>> items = b.task("items", two, n -> List.of(n, n + 1));
    Node<List<Integer>> squares = b.map("squares", items, x -> x * x);
    int[] calls = {0};
    Node<Integer> sum = b.node("sum").withRetry(RetryPolicy.builder().withMaxAttempts(2)
        .withBackoff(Duration.ofMillis(1), Duration.ofMillis(1)).build())
        .task(squares, list -> {
          if (calls[0]++ == 0) {
            throw new IOException("first attempt fails");
          }
          return list.stream().mapToInt(Integer::intValue).sum();
        });
    Recording placement = new Recording();

    RunReport report = DagExecutor.builder().withTaskPlacement(placement).build().run(b.build());

    assertThat(report.result(sum)).isEqualTo(13);
    assertThat(report.node(sum).attempts()).isEqualTo(2);
    assertThat(placement.placed).containsExactlyInAnyOrder(
        "two#1 []", "items#1 [2]", "squares[0]#1 [2]", "squares[1]#1 [3]",
        "sum#1 [[4, 9]]", "sum#2 [[4, 9]]");
  }

  @Test
  void theTimeoutCountsFromStartedNotFromWhileThePlacementWaitsForCapacity() {
    DagBuilder b = Dag.builder("queued");
    Node<String> quick = b.node("quick").withTimeout(Duration.ofMillis(50)).task(() -> "done");
    TaskPlacement waitsThenRuns = task -> {
      Thread.sleep(300); // waiting for a free member: six times the timeout
      task.started();
      return task.runHere();
    };

    RunReport report = DagExecutor.builder().withTaskPlacement(waitsThenRuns).build()
        .run(b.build());

    assertThat(report.succeeded()).as("%s", report.failure()).isTrue();
    assertThat(report.result(quick)).isEqualTo("done");
  }

  @Test
  void aTimeoutAfterStartedInterruptsThePlacementAndFailsTheAttempt() {
    DagBuilder b = Dag.builder("stuck");
    b.node("stuck").withTimeout(Duration.ofMillis(50)).task(() -> "never");
    AtomicBoolean interrupted = new AtomicBoolean();
    TaskPlacement hangs = task -> {
      task.started();
      try {
        new CountDownLatch(1).await(); // a member that never answers
      } catch (InterruptedException e) {
        interrupted.set(true);
        throw e;
      }
      return null;
    };

    RunReport report = DagExecutor.builder().withTaskPlacement(hangs).build().run(b.build());

    assertThat(interrupted).isTrue();
    assertThat(report.node("stuck").error()).hasCauseInstanceOf(TaskTimeoutException.class);
  }

  @Test
  void aPlacedTaskRebuiltFromItsIdentityRunsTheSameCode() throws Exception {
    DagBuilder b = Dag.builder("remote");
    Node<Integer> a = b.task("a", () -> 20);
    Node<Integer> c = b.task("c", () -> 1);
    b.task("sum", a, c, Integer::sum);
    b.map("twice", b.task("list", () -> List.of(1, 2)), x -> 2 * x);
    Dag dag = b.build();

    assertThat(dag.placedTask("sum", -1, 1, List.of(20, 22)).runHere()).isEqualTo(42);
    assertThat(dag.placedTask("twice", 1, 3, List.of(5)).runHere()).isEqualTo(10);
    assertThatThrownBy(() -> dag.placedTask("nope", -1, 1, List.of()))
        .hasMessageContaining("no node named 'nope'");
    assertThatThrownBy(() -> dag.placedTask("sum", -1, 1, List.of(1)))
        .hasMessageContaining("takes 2 inputs, got 1");
    assertThatThrownBy(() -> dag.placedTask("twice", -1, 1, List.of(1)))
        .hasMessageContaining("is a map node");
    assertThatThrownBy(() -> dag.placedTask("sum", 0, 1, List.of(1, 2)))
        .hasMessageContaining("is not a map node");
  }

  @Test
  void aReportReassembledFromPartsAnswersAsTheOriginal() {
    DagBuilder b = Dag.builder("parts");
    Node<Integer> a = b.task("a", () -> 1);
    Node<Integer> sink = b.task("sink", a, x -> x + 1);
    Node<Integer> other = b.task("other", () -> {
      throw new IllegalStateException("boom");
    });
    Dag dag = b.build();
    RunReport original = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE).build()
        .run(dag);

    RunReport copy = RunReport.of(dag, 77, original.status(), original.startedAt(),
        original.finishedAt(), original.failure().orElse(null), original.nodes(),
        Map.of("sink", 2));

    assertThat(copy.runId()).isEqualTo(77);
    assertThat(copy.counts()).isEqualTo(original.counts());
    assertThat(copy.nodes()).isEqualTo(original.nodes());
    assertThat(copy.result(sink)).isEqualTo(2);
    assertThatThrownBy(() -> copy.result(other)).isInstanceOf(DagExecutionException.class);
    assertThatThrownBy(() -> RunReport.of(dag, 1, RunStatus.SUCCEEDED, Instant.EPOCH,
        Instant.EPOCH, null, original.nodes().subList(0, 2), Map.of()))
        .hasMessageContaining("needs its 3 nodes, got 2");
    RunReport withoutValue = RunReport.of(dag, 1, original.status(), Instant.EPOCH,
        Instant.EPOCH, original.failure().orElse(null), original.nodes(), Map.of());
    assertThatThrownBy(() -> withoutValue.result(sink))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("reassembled without it");
  }

  @Test
  void toBuilderKeepsEverySettingAndRefusesOneGivenAgain() {
    RetryPolicy retry = RetryPolicy.builder().withMaxAttempts(3).build();
    DagExecutor original = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE)
        .withDefaultRetry(retry).withConcurrencyLimit("db", 2).withMaxParallelism(5)
        .withDefaultTimeout(Duration.ofSeconds(3)).build();

    DagExecutor derived = original.toBuilder().withTaskPlacement(PlacedTask::runHere).build();

    assertThat(derived.failureMode()).isEqualTo(FailureMode.CONTINUE);
    assertThat(derived.defaultRetry()).isSameAs(retry);
    assertThat(derived.concurrencyLimits()).isEqualTo(Map.of("db", 2));
    assertThat(derived.maxParallelism()).isEqualTo(5);
    assertThat(derived.defaultTimeout()).contains(Duration.ofSeconds(3));
    assertThat(derived.maxThreads()).isEqualTo(original.maxThreads());
    assertThat(derived.taskPlacement()).isPresent();
    assertThatThrownBy(() -> original.toBuilder().withFailureMode(FailureMode.FAIL_FAST))
        .isInstanceOf(IllegalStateException.class);
  }
}
