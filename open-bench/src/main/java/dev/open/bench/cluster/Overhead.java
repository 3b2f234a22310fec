package dev.open.bench.cluster;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import dev.open.dag.Dag;
import dev.open.dag.DagExecutor;
import dev.open.dag.RunReport;

/**
 * The cost of a node that does nothing: the same DAGs of empty nodes run by a local {@link
 * DagExecutor} (defaults) and by a 3-member cluster (this JVM coordinating, default settings),
 * once with the cluster's result store in use as by default, once with it off for the DAG.
 * Two shapes: a wide fan-out into one fan-in, where nodes may run side by side, and a chain,
 * where each node waits for the one before.
 *
 * <p>The local executor runs both shapes first, before the cluster starts, so that the member
 * processes' start-up does not compete with it. Cold is the first run of a DAG on an executor in
 * this process (the cluster's coordinator has run the DAG code locally already; the member
 * processes have not); warm is the median of {@code runs} runs after {@code runs / 2} warm-up
 * runs. Besides the makespan, the CPU time all members used (for the local executor, this JVM)
 * per node: on a busy machine the makespan grows with the wait for a core, the CPU time much
 * less. Linux counts it in 10 ms ticks: below {@value #MIN_CPU_MILLIS} ms in all, it is not
 * shown.
 */
final class Overhead {
  private static final int MEMBERS = 3;
  private static final double MIN_CPU_MILLIS = 100;

  private Overhead() {}

  /**
   * A cold run and the median warm run, in milliseconds, and their CPU time per run (NaN when
   * too little to tell).
   */
  private record Timing(double coldMillis, double coldCpuMillis, double warmMillis,
      double warmCpuMillis) {}

  static void run(Options options, Params params, String name, Path stderr, PrintStream out)
      throws Exception {
    out.printf(Locale.ROOT, "%noverhead: empty nodes, local DagExecutor vs a cluster of %d "
        + "members (%d nodes at once each); cold = first run, warm = median of %d runs after "
        + "%d warm-up runs (CPU: their mean; - when under %.1f s in all)%n", MEMBERS,
        options.slots(), options.runs(), options.runs() / 2, MIN_CPU_MILLIS / 1000);
    out.println("shape  nodes  executor            run   makespan_ms  us/node  vs_local  "
        + "cpu_us/node");
    Dag wide = BenchDags.wide(BenchDags.WIDE, params.wide(), true);
    Dag chain = BenchDags.chain(BenchDags.CHAIN, params.chain(), true);
    Timing localWide = local(wide, options.runs());
    Timing localChain = local(chain, options.runs());
    try (LocalCluster cluster = LocalCluster.start(name, MEMBERS, options.slots(), Map.of(),
        params, stderr)) {
      shape(out, wide, localWide, BenchDags.WIDE_UNSTORED, cluster, options.runs());
      shape(out, chain, localChain, BenchDags.CHAIN_UNSTORED, cluster, options.runs());
    }
  }

  private static Timing local(Dag dag, int runs) {
    DagExecutor local = DagExecutor.defaults();
    return time(() -> local.run(dag), LocalCluster::ownCpuNanos, runs);
  }

  private static void shape(PrintStream out, Dag dag, Timing base, String unstored,
      LocalCluster cluster, int runs) {
    row(out, dag, "local", base, base);
    row(out, dag, "cluster", time(() -> cluster.executor().run(dag.name()), cluster::cpuNanos,
        runs), base);
    row(out, dag, "cluster, store off", time(() -> cluster.executor().run(unstored),
        cluster::cpuNanos, runs), base);
  }

  private static Timing time(Supplier<RunReport> run, LongSupplier cpu, int runs) {
    long cpu0 = cpu.getAsLong();
    double cold = millis(run);
    double coldCpu = cpuMillis(cpu.getAsLong() - cpu0, 1);
    for (int i = 0; i < runs / 2; i++) {
      millis(run);
    }
    double[] warm = new double[runs];
    cpu0 = cpu.getAsLong();
    for (int i = 0; i < runs; i++) {
      warm[i] = millis(run);
    }
    double warmCpu = cpuMillis(cpu.getAsLong() - cpu0, runs);
    Arrays.sort(warm);
    return new Timing(cold, coldCpu, warm[runs / 2], warmCpu);
  }

  private static double cpuMillis(long nanos, int runs) {
    double millis = nanos / 1e6;
    return millis < MIN_CPU_MILLIS ? Double.NaN : millis / runs;
  }

  private static double millis(Supplier<RunReport> run) {
    long t0 = System.nanoTime();
    RunReport report = run.get();
    double millis = (System.nanoTime() - t0) / 1e6;
    BenchDags.checked(report);
    return millis;
  }

  private static void row(PrintStream out, Dag dag, String executor, Timing t, Timing local) {
    line(out, dag, executor, "cold", t.coldMillis(), local.coldMillis(), t.coldCpuMillis());
    line(out, dag, executor, "warm", t.warmMillis(), local.warmMillis(), t.warmCpuMillis());
  }

  private static void line(PrintStream out, Dag dag, String executor, String run, double millis,
      double localMillis, double cpuMillis) {
    int nodes = dag.size();
    String cpu = Double.isNaN(cpuMillis) ? "-"
        : String.format(Locale.ROOT, "%.1f", cpuMillis * 1000 / nodes);
    out.printf(Locale.ROOT, "%-5s  %5d  %-18s  %-4s  %11.1f  %7.1f  %7.1f×  %11s%n",
        dag.name(), nodes, executor, run, millis, millis * 1000 / nodes, millis / localMillis, cpu);
  }
}
