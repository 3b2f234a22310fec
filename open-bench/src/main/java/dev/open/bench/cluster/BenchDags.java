package dev.open.bench.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import dev.open.cluster.ClusterExecutor;
import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;

/**
 * The DAGs of the cluster benchmarks, built by this code on every member.
 *
 * <p>Each DAG starts from a node returning a random int, the run's nonce (never cached), and
 * every other node's value derives from its input: the cluster's result store (on by default)
 * finds nothing of earlier runs, so every run runs, and stores, every node ({@link #checked}
 * makes sure). The {@code -unstored} variants turn the store off for their nodes ({@link
 * DagBuilder#withCache}), which shows what storing costs.
 */
final class BenchDags {
  static final String WIDE = "wide";
  static final String WIDE_UNSTORED = "wide-unstored";
  static final String CHAIN = "chain";
  static final String CHAIN_UNSTORED = "chain-unstored";
  static final String SLEEPERS = "sleepers";
  static final String FAILOVER = "failover";

  private BenchDags() {}

  /** Registers every benchmark DAG, shaped by {@code params}, with {@code builder}. */
  static ClusterExecutor.Builder register(ClusterExecutor.Builder builder, Params params) {
    return builder
        .withDag(WIDE, () -> wide(WIDE, params.wide(), true))
        .withDag(WIDE_UNSTORED, () -> wide(WIDE_UNSTORED, params.wide(), false))
        .withDag(CHAIN, () -> chain(CHAIN, params.chain(), true))
        .withDag(CHAIN_UNSTORED, () -> chain(CHAIN_UNSTORED, params.chain(), false))
        .withDag(SLEEPERS, () -> sleepers(params.chains(), params.depth(), params.sleepMillis()))
        .withDag(FAILOVER, () -> failover(params.failoverNodes(), params.failoverMillis(),
            params.log()));
  }

  /** The nonce, {@code tasks} empty tasks reading it, and one fan-in summing them. */
  static Dag wide(String name, int tasks, boolean stored) {
    DagBuilder b = dag(name, stored);
    Node<Integer> nonce = nonce(b);
    List<Node<Integer>> parts = new ArrayList<>(tasks);
    for (int i = 0; i < tasks; i++) {
      int k = i;
      parts.add(b.task("t" + i, nonce, x -> x + k));
    }
    b.fanIn("sum", parts, values -> values.stream().mapToInt(Integer::intValue).sum());
    return b.build();
  }

  /** The nonce followed by a line of {@code tasks} empty tasks, each adding one. */
  static Dag chain(String name, int tasks, boolean stored) {
    DagBuilder b = dag(name, stored);
    Node<Integer> last = nonce(b);
    for (int i = 1; i <= tasks; i++) {
      last = b.task("c" + i, last, x -> x + 1);
    }
    return b.build();
  }

  /** The nonce, then {@code chains} independent lines of {@code depth} nodes sleeping each. */
  static Dag sleepers(int chains, int depth, long millis) {
    DagBuilder b = Dag.builder(SLEEPERS);
    Node<Integer> nonce = nonce(b);
    for (int c = 0; c < chains; c++) {
      Node<Integer> last = nonce;
      for (int d = 0; d < depth; d++) {
        last = b.task("s" + c + "_" + d, last, x -> {
          Thread.sleep(millis);
          return x + 1;
        });
      }
    }
    return b.build();
  }

  /**
   * The nonce, then {@code nodes} independent nodes that each append {@code
   * start,NODE,PID,EPOCH_MILLIS} to {@code log} when they start and then sleep {@code millis}.
   */
  static Dag failover(int nodes, long millis, Path log) {
    DagBuilder b = Dag.builder(FAILOVER);
    Node<Integer> nonce = nonce(b);
    for (int i = 0; i < nodes; i++) {
      String name = "f" + i;
      int k = i;
      b.task(name, nonce, x -> {
        logStart(log, name);
        Thread.sleep(millis);
        return x + k;
      });
    }
    return b.build();
  }

  private static DagBuilder dag(String name, boolean stored) {
    DagBuilder b = Dag.builder(name);
    return stored ? b : b.withCache(false);
  }

  private static Node<Integer> nonce(DagBuilder b) {
    return b.node("nonce").withCache(false).task(() -> ThreadLocalRandom.current().nextInt());
  }

  /**
   * Returns {@code report} if its run succeeded and ran every node.
   *
   * @throws IllegalStateException otherwise, saying what happened
   */
  static RunReport checked(RunReport report) {
    Optional<String> problem = problem(report);
    if (problem.isPresent()) {
      throw new IllegalStateException(problem.get());
    }
    return report;
  }

  /** Says what went wrong if the run of {@code report} did not succeed or ran not every node. */
  static Optional<String> problem(RunReport report) {
    if (!report.succeeded()) {
      return Optional.of("a run of '" + report.dag().name() + "' " + report.status() + ": "
          + report.failure().map(Throwable::toString).orElse(""));
    }
    if (report.count(NodeStatus.CACHED) > 0) {
      return Optional.of("a run of '" + report.dag().name() + "' found "
          + report.count(NodeStatus.CACHED) + " nodes in the result store: it did not run them");
    }
    return Optional.empty();
  }

  /** One write with O_APPEND, so that the lines of concurrent members never interleave. */
  private static void logStart(Path log, String node) throws IOException {
    String line = "start," + node + "," + ProcessHandle.current().pid() + ","
        + System.currentTimeMillis() + "\n";
    Files.write(log, line.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  }
}
