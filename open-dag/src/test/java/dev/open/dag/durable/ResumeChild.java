package dev.open.dag.durable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.NodeReport;
import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.store.ResultStore;

/**
 * The JVM that {@link ResumeAfterKillTest} kills: runs {@link #dag} on a directory store; each
 * task appends {@code TAG NAME} to a side-effect log before it computes; prints {@code done NAME}
 * once a node's value is stored, and at the end each node's status and the sink's value.
 *
 * <p>{@code java ... ResumeChild STORE_DIR LOG_FILE TAG}
 */
public final class ResumeChild {
  static final int NODES = 300;

  private ResumeChild() {}

  public static void main(String[] args) throws Exception {
    Path store = Path.of(args[0]);
    Path log = Path.of(args[1]);
    String tag = args[2];
    DagExecutor executor = DagExecutor.builder()
        .withResultStore(ResultStore.directory(store))
        .withMaxParallelism(4)
        .withListener(new ExecutionListener() {
          @Override
          public void onTaskSucceeded(TaskEvent event) {
            System.out.println("done " + event.node()); // after its value was stored
            System.out.flush();
          }
        })
        .build();
    RunReport report = executor.run(dag(name -> append(log, tag + " " + name)));
    for (NodeReport node : report.nodes()) {
      System.out.println("status " + node.name() + " " + node.status());
    }
    System.out.println("result " + report.result(report.dag().node("n" + (NODES - 1)).orElseThrow()));
  }

  /**
   * A DAG of {@link #NODES} nodes: n_j reads n_{j/2} and n_{j/3}, so many nodes are ready at
   * once and up to 4 run together (the run's parallelism); each task sleeps 2 ms.
   */
  static Dag dag(SideEffect effect) {
    DagBuilder b = Dag.builder("resume");
    List<Node<Long>> nodes = new ArrayList<>();
    for (int j = 0; j < NODES; j++) {
      String name = "n" + j;
      long own = j;
      if (j == 0) {
        nodes.add(b.task(name, () -> {
          effect.ran(name);
          return own;
        }));
      } else {
        nodes.add(b.task(name, nodes.get(j / 2), nodes.get(j / 3), (x, y) -> {
          effect.ran(name);
          Thread.sleep(2); // the work: long enough to be killed in the middle of the run
          return (x * 31 + y + own) % 1_000_003;
        }));
      }
    }
    return b.build();
  }

  /** What a task does before it computes. */
  @FunctionalInterface
  interface SideEffect {
    void ran(String node) throws IOException;
  }

  private static synchronized void append(Path log, String line) throws IOException {
    Files.writeString(log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }
}
