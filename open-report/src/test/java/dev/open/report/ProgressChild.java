package dev.open.report;

import java.time.Duration;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;

/**
 * A child JVM for {@link ConsoleProgressTerminalTest}: 30 tasks of 50 ms one after another, with
 * {@link ConsoleProgress#create()} deciding by itself whether standard error is a terminal.
 */
public final class ProgressChild {
  private ProgressChild() {}

  public static void main(String[] args) {
    DagBuilder b = Dag.builder("tty");
    for (int i = 0; i < 30; i++) {
      b.task("t" + i, () -> {
        Thread.sleep(Duration.ofMillis(50));
        return 1;
      });
    }
    Dag dag = b.build();
    try (ConsoleProgress progress = ConsoleProgress.create()) {
      DagExecutor.builder().withMaxParallelism(1).withListener(progress).build().run(dag);
    }
  }
}
