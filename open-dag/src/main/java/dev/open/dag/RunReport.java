package dev.open.dag;

import java.time.Duration;
import java.time.Instant;
import java.util.AbstractList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.RandomAccess;

/**
 * The final report of a run: how each node ended, with attempts, times and errors, and the values
 * of the kept nodes (sinks and {@link NodeSpec#retain() retained} nodes). Immutable and
 * thread-safe; per-node reports are created on demand, so a report of a million nodes stays small.
 */
public final class RunReport {
  private final Dag dag;
  private final long runId;
  private final RunStatus status;
  private final Instant startedAt;
  private final Instant finishedAt;
  private final Throwable failure;
  private final Outcomes outcomes;
  private final int[] counts;

  RunReport(Dag dag, long runId, RunStatus status, Instant startedAt, Instant finishedAt,
      Throwable failure, Outcomes outcomes, int[] counts) {
    this.dag = dag;
    this.runId = runId;
    this.status = status;
    this.startedAt = startedAt;
    this.finishedAt = finishedAt;
    this.failure = failure;
    this.outcomes = outcomes;
    this.counts = counts;
  }

  /** Where a report finds each node's outcome: the run's final arrays, or reassembled parts. */
  interface Outcomes {
    NodeReport report(int node);

    Object result(int node);
  }

  /**
   * Reassembles a report from its parts: for runners that run a DAG elsewhere and rebuild its
   * report on another JVM (open-cluster does, on every member that asks for a run's report).
   *
   * @param dag the DAG that was run
   * @param runId the run's id
   * @param status how the run ended
   * @param startedAt when it started
   * @param finishedAt when it finished
   * @param failure why it did not succeed, or null when it did
   * @param nodes one report per node of {@code dag}, in any order
   * @param values the values of kept nodes (sinks and retained nodes) by node name; a kept node
   *     that succeeded but has no entry has a value this report cannot give ({@link #result}
   *     then throws {@link IllegalStateException})
   * @return the report
   * @throws IllegalArgumentException if {@code nodes} does not name every node of {@code dag}
   *     exactly once, or {@code status} and {@code failure} disagree
   */
  public static RunReport of(Dag dag, long runId, RunStatus status, Instant startedAt,
      Instant finishedAt, Throwable failure, List<NodeReport> nodes, Map<String, ?> values) {
    Objects.requireNonNull(dag, "dag");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(finishedAt, "finishedAt");
    if ((status == RunStatus.SUCCEEDED) != (failure == null)) {
      throw new IllegalArgumentException("a run that " + (failure == null
          ? "did not succeed needs its failure" : "succeeded has no failure") + ", status was "
          + status);
    }
    NodeReport[] byIndex = new NodeReport[dag.size()];
    int[] counts = new int[NodeStatus.values().length];
    for (NodeReport report : nodes) {
      Node<?> node = dag.node(report.name()).orElseThrow(() -> new IllegalArgumentException(
          "DAG '" + dag.name() + "' has no node named '" + report.name() + "'"));
      if (byIndex[node.index] != null) {
        throw new IllegalArgumentException("node '" + report.name() + "' is reported twice");
      }
      byIndex[node.index] = report;
      counts[report.status().ordinal()]++;
    }
    if (nodes.size() != dag.size()) {
      throw new IllegalArgumentException("a report of DAG '" + dag.name() + "' needs its "
          + dag.size() + " nodes, got " + nodes.size());
    }
    Object[] kept = new Object[dag.size()];
    Object absent = new Object();
    for (int i = 0; i < kept.length; i++) {
      String name = dag.node(i).name;
      kept[i] = values.containsKey(name) ? values.get(name) : absent;
    }
    Outcomes outcomes = new Outcomes() {
      @Override
      public NodeReport report(int node) {
        return byIndex[node];
      }

      @Override
      public Object result(int node) {
        if (kept[node] == absent) {
          throw new IllegalStateException("the value of node '" + dag.node(node).name
              + "' is not in this report, which was reassembled without it");
        }
        return kept[node];
      }
    };
    return new RunReport(dag, runId, status, startedAt, finishedAt, failure, outcomes, counts);
  }

  /** {@return the DAG that was run} */
  public Dag dag() {
    return dag;
  }

  /** {@return the run's id} */
  public long runId() {
    return runId;
  }

  /** {@return how the run ended} */
  public RunStatus status() {
    return status;
  }

  /** {@return true when every node succeeded} */
  public boolean succeeded() {
    return status == RunStatus.SUCCEEDED;
  }

  /** {@return when the run started} */
  public Instant startedAt() {
    return startedAt;
  }

  /** {@return when the run finished} */
  public Instant finishedAt() {
    return finishedAt;
  }

  /** {@return how long the run took} */
  public Duration duration() {
    return Duration.between(startedAt, finishedAt);
  }

  /**
   * {@return why the run did not succeed: its first task failure ({@link TaskFailedException}), or
   * the reason it was cancelled ({@link RunCancelledException}, {@link
   * DeadlineExceededException})} Empty when the run succeeded.
   */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure);
  }

  /**
   * Returns the number of nodes that ended with {@code status}.
   *
   * @param status a node status
   * @return how many nodes ended so
   */
  public int count(NodeStatus status) {
    return counts[status.ordinal()];
  }

  /** {@return the number of nodes per status, for every status} */
  public Map<NodeStatus, Integer> counts() {
    Map<NodeStatus, Integer> map = new EnumMap<>(NodeStatus.class);
    for (NodeStatus s : NodeStatus.values()) {
      map.put(s, counts[s.ordinal()]);
    }
    return map;
  }

  /**
   * Returns the report of one node.
   *
   * @param node a node of this run's DAG
   * @return its report
   */
  public NodeReport node(Node<?> node) {
    return outcomes.report(dag.indexOf(node));
  }

  /**
   * Returns the report of the node named {@code name}.
   *
   * @param name a node name
   * @return its report
   * @throws IllegalArgumentException if the DAG has no such node
   */
  public NodeReport node(String name) {
    Node<?> node = dag.node(name).orElseThrow(() -> new IllegalArgumentException(
        "DAG '" + dag.name() + "' has no node named '" + name + "'"));
    return node(node);
  }

  /** {@return the reports of all nodes, in the DAG's topological order} */
  public List<NodeReport> nodes() {
    return new Reports();
  }

  /**
   * Returns the value of a kept node (a sink, or a node marked {@link NodeSpec#retain()}).
   *
   * @param node a node of this run's DAG
   * @param <T> the value's type
   * @return its value (may be null)
   * @throws IllegalArgumentException if the node's value was not kept
   * @throws DagExecutionException if the node did not succeed, with the reason as cause
   */
  @SuppressWarnings("unchecked")
  public <T> T result(Node<T> node) {
    int index = dag.indexOf(node);
    if (!node.isRetained() && !dag.isSink(index)) {
      throw new IllegalArgumentException("the value of node '" + node.name() + "' was released "
          + "after its last consumer finished; mark it retain() to read it after the run");
    }
    NodeReport report = outcomes.report(index);
    if (!report.status().hasValue()) {
      Throwable error = report.error();
      throw new DagExecutionException("node '" + node.name() + "' of DAG '" + dag.name() + "' "
          + report.status().name().toLowerCase(java.util.Locale.ROOT)
          + (error == null ? "" : ": " + error.getMessage()), error);
    }
    return (T) outcomes.result(index);
  }

  /**
   * Returns this report when the run succeeded.
   *
   * @return this report
   * @throws DagExecutionException if it did not, with {@link #failure()} as cause
   */
  public RunReport orThrow() {
    if (status != RunStatus.SUCCEEDED) {
      throw new DagExecutionException("run " + runId + " of DAG '" + dag.name() + "' "
          + status.name().toLowerCase(java.util.Locale.ROOT) + ": " + summary(), failure);
    }
    return this;
  }

  /** {@return a one-line summary: counts per status and the run's duration} */
  public String summary() {
    int cached = count(NodeStatus.CACHED);
    return count(NodeStatus.SUCCEEDED) + " succeeded, " + (cached > 0 ? cached + " cached, " : "")
        + count(NodeStatus.FAILED) + " failed, " + count(NodeStatus.SKIPPED) + " skipped, "
        + count(NodeStatus.CANCELLED) + " cancelled in " + duration().toMillis() + " ms";
  }

  @Override
  public String toString() {
    return "RunReport[" + dag.name() + " #" + runId + " " + status + ": " + summary() + "]";
  }

  private final class Reports extends AbstractList<NodeReport> implements RandomAccess {
    @Override
    public NodeReport get(int i) {
      return outcomes.report(dag.topologicalOrder[i]);
    }

    @Override
    public int size() {
      return dag.size();
    }
  }
}
