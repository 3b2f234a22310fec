package dev.open.bench.cluster;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

import dev.open.dag.RunReport;

/**
 * Capacity: nodes that wait ({@link BenchDags#sleepers}) on a cluster of 1, then 2, then 3
 * members, each running {@code slots} nodes at once. The one cluster grows a member process at a
 * time; at each size {@code repeats} warm-up runs (the new member process compiles its hot code
 * meanwhile), then the median of {@code repeats} runs. The bound is what
 * the slots allow: the total sleep over all slots, or one chain's sleep if that is longer. The
 * CPU time of all members per node, and as a share of all processors over the makespan (their
 * mean over the measured runs), tell whether the members wait for a core: they share this
 * machine's.
 */
final class Scaling {
  private static final int MAX_MEMBERS = 3;

  private Scaling() {}

  /** The median makespan in seconds, and the mean CPU time per run in seconds. */
  private record Timing(double seconds, double cpuSeconds) {}

  static void run(Options options, Params params, String name, Path stderr, PrintStream out)
      throws Exception {
    int nodes = params.chains() * params.depth();
    out.printf(Locale.ROOT, "%nscaling: %d chains of %d nodes sleeping %d ms (%d nodes after the "
        + "nonce), %d nodes at once per member; median of %d runs after as many warm-up runs "
        + "(CPU: their mean)%n", params.chains(), params.depth(), params.sleepMillis(), nodes,
        options.slots(), options.repeats(), options.repeats());
    out.println("members  slots  makespan_s  bound_s  nodes/s  speedup  ideal  cpu_us/node  "
        + "cpu_busy");
    try (LocalCluster cluster = LocalCluster.start(name, 1, options.slots(), Map.of(), params,
        stderr)) {
      double one = 0;
      for (int members = 1; members <= MAX_MEMBERS; members++) {
        if (members > 1) {
          cluster.add();
        }
        Timing t = median(cluster, options.repeats());
        if (members == 1) {
          one = t.seconds();
        }
        int slots = members * options.slots();
        double bound = Math.max(params.depth(), (double) nodes / slots)
            * params.sleepMillis() / 1000.0;
        double busy = t.cpuSeconds() / (t.seconds() * Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, "%7d  %5d  %10.3f  %7.3f  %7.0f  %6.2f×  %4d×  %11.0f  %7.0f%%%n",
            members, slots, t.seconds(), bound, nodes / t.seconds(), one / t.seconds(), members,
            t.cpuSeconds() * 1e6 / nodes, busy * 100);
      }
    }
  }

  private static Timing median(LocalCluster cluster, int repeats) {
    for (int i = 0; i < repeats; i++) {
      seconds(cluster);
    }
    double[] seconds = new double[repeats];
    long cpu0 = cluster.cpuNanos();
    for (int i = 0; i < repeats; i++) {
      seconds[i] = seconds(cluster);
    }
    double cpu = (cluster.cpuNanos() - cpu0) / 1e9 / repeats;
    Arrays.sort(seconds);
    return new Timing(seconds[repeats / 2], cpu);
  }

  private static double seconds(LocalCluster cluster) {
    long t0 = System.nanoTime();
    RunReport report = cluster.executor().run(BenchDags.SLEEPERS);
    double seconds = (System.nanoTime() - t0) / 1e9;
    BenchDags.checked(report);
    return seconds;
  }
}
