package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.Test;

import dev.open.dag.policy.FailureMode;

/** Shapes big enough to expose recursion, per-node allocation and quadratic behaviour. */
class LargeDagTest {

  @Test
  void runsAMillionNodeChain() {
    int n = 1_000_000;
    DagBuilder b = Dag.builder("chain");
    Node<Integer> prev = b.task("n0", () -> 0);
    for (int i = 1; i < n; i++) {
      prev = b.task("n" + i, prev, x -> x + 1);
    }
    RunReport report = b.build().run();

    assertThat(report.result(prev)).isEqualTo(n - 1);
    assertThat(report.count(NodeStatus.SUCCEEDED)).isEqualTo(n);
  }

  @Test
  void skipsAMillionNodeChainBehindAFailedRoot() {
    int n = 1_000_000;
    DagBuilder b = Dag.builder("doomed-chain");
    Node<Integer> prev = b.task("n0", () -> {
      throw new IllegalStateException("root fails");
    });
    for (int i = 1; i < n; i++) {
      prev = b.task("n" + i, prev, x -> x + 1);
    }
    Dag dag = b.build();

    RunReport continued = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE).build().run(dag);
    RunReport failedFast = dag.run();

    for (RunReport report : List.of(continued, failedFast)) {
      assertThat(report.count(NodeStatus.FAILED)).isEqualTo(1);
      assertThat(report.count(NodeStatus.SKIPPED)).isEqualTo(n - 1);
      assertThat(report.node(prev).error()).isInstanceOf(TaskSkippedException.class)
          .hasMessageContaining("because 'n0' failed");
    }
  }

  @Test
  void runsAWideFanOutAndFanIn() {
    int width = 200_000;
    LongAdder ran = new LongAdder();
    DagBuilder b = Dag.builder("wide");
    Node<Integer> root = b.task("root", () -> 1);
    List<Node<Integer>> middle = new ArrayList<>(width);
    for (int i = 0; i < width; i++) {
      middle.add(b.task("m" + i, root, x -> {
        ran.increment();
        return x;
      }));
    }
    Node<Integer> sum = b.fanIn("sum", middle, xs -> xs.stream().mapToInt(Integer::intValue).sum());
    RunReport report = b.build().run();

    assertThat(report.result(sum)).isEqualTo(width);
    assertThat(ran.sum()).isEqualTo(width);
  }
}
