package com.example;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.policy.RetryPolicy;
import dev.open.ports.WorkerCrashedException;
import dev.open.ports.WorkerPool;
import dev.open.report.HtmlReport;
import dev.open.report.RunTimeline;

/**
 * A first DAG of four nodes, one of them a Python function (python/hello_tasks.py). Run it from
 * this project's directory; -Dopen.python names the interpreter (default: python3 on the PATH).
 */
public final class App {
  private App() {}

  public static void main(String[] args) throws Exception {
    try (WorkerPool python = WorkerPool.python()   // interpreter: -Dopen.python, else python3
        .withModulePath(Path.of("python"))         // where hello_tasks.py lives
        .withAllowedModules("hello_tasks")         // the only module the workers may call
        .withWorkers(1)
        .build()) {

      DagBuilder b = Dag.builder("getting-started");
      Node<List<String>> names = b.task("names", () -> List.of("Ada", "Grace", "Linus"));
      Node<String> greeting = b.call("greeting",                       // runs in Python
          python.function("hello_tasks:greet", String.class), names);
      Node<List<Integer>> lengths = b.map("lengths", names, String::length); // a task per name
      Node<String> summary = b.task("summary", greeting, lengths, (text, ls) -> text
          + " (" + ls.size() + " names, " + ls.stream().mapToInt(i -> i).sum() + " letters)");
      Dag dag = b.build();

      RunTimeline timeline = new RunTimeline();    // records retries, for the HTML report
      DagExecutor executor = DagExecutor.builder()
          .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(3)
              .handle(WorkerCrashedException.class).build())
          .withDeadline(Duration.ofMinutes(1))
          .withListener(timeline)
          .build();
      RunReport report = executor.run(dag);        // failures are in the report, not thrown

      report.nodes().forEach(n -> System.out.printf("  %-9s %-7s %-10s %d attempt(s)%n",
          n.name(), n.backend(), n.status(), n.attempts()));
      System.out.println(report.summary());
      Path html = HtmlReport.write(report, timeline, Path.of("target", "getting-started.html"));
      System.out.println("HTML report: " + html);
      System.out.println(report.orThrow().result(summary));
    }
  }
}
