package dev.open.cluster;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.ports.WorkerPool;

/**
 * A member process of {@link ClusterProcessesTest}: a Hazelcast member serving {@link ChaosDag}
 * with 8 nodes at once and its own Python pool, driven through stdin.
 *
 * <pre>
 * args: CLUSTER PORT PORTS(comma-separated) LOG PYTHON REPO GATE
 * stdin:  start            → "started ID"
 *         await ID         → "report STATUS SUM CACHED RELOCATIONS TAKEOVERS"
 * stdout: "ready"          once this member serves nodes
 * </pre>
 */
public final class ClusterMember {
  private ClusterMember() {}

  public static void main(String[] args) throws Exception {
    String cluster = args[0];
    int port = Integer.parseInt(args[1]);
    List<Integer> ports = new ArrayList<>();
    for (String p : args[2].split(",")) {
      ports.add(Integer.parseInt(p));
    }
    Path log = Path.of(args[3]);
    Path repo = Path.of(args[5]);
    Config config = TestMembers.config(cluster, port, ports);
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(config);
    WorkerPool python = WorkerPool.python().withInterpreter(args[4])
        .withModulePath(repo.resolve("python-worker/test_tasks"))
        .withAllowedModules("open_test_tasks").withWorkers(1).build();
    ClusterExecutor executor = ClusterExecutor.builder(hz)
        .withDag(ChaosDag.NAME, () -> ChaosDag.build(
            python.function("open_test_tasks:add", Long.class), log, Path.of(args[6])))
        .withMaxConcurrentNodes(8)
        .build();
    System.out.println("ready");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
        StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] words = line.trim().split(" ");
      switch (words[0]) {
        case "start" -> System.out.println("started " + executor.start(ChaosDag.NAME).id());
        case "await" -> {
          ClusterRun run = executor.find(Long.parseLong(words[1])).orElseThrow();
          RunReport report = run.await();
          Object sum = report.succeeded()
              ? report.result(report.dag().node("sum").orElseThrow()) : "-";
          System.out.println("report " + report.status() + " " + sum + " "
              + report.count(NodeStatus.CACHED) + " "
              + run.relocations().values().stream().mapToInt(Integer::intValue).sum() + " "
              + run.takeovers());
        }
        default -> System.out.println("unknown command " + line);
      }
      System.out.flush();
    }
    executor.close();
    python.close();
    hz.shutdown();
  }
}
