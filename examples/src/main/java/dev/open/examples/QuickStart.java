package dev.open.examples;

import java.time.Duration;
import java.util.List;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.policy.RetryPolicy;

/** The README's example: a typed DAG with a dynamic fan-out, run on virtual threads. */
public final class QuickStart {
  private QuickStart() {}

  public static void main(String[] args) {
    DagBuilder b = Dag.builder("quick-start");
    Node<List<String>> words = b.task("words", () -> List.of("virtual", "threads", "run", "dags"));
    Node<List<Integer>> lengths = b.map("lengths", words, String::length);   // one task per word
    Node<Integer> total = b.task("total", lengths, ls -> ls.stream().mapToInt(i -> i).sum());
    Node<String> report = b.task("report", words, total, (ws, t) -> ws.size() + " words, " + t + " letters");

    RunReport run = DagExecutor.builder()
        .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(3).build())
        .withDeadline(Duration.ofMinutes(1))
        .build()
        .run(b.build());
    System.out.println(run.result(report));   // 4 words, 21 letters
    System.out.println(run.summary());
  }
}
