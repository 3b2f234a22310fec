package dev.open.bench;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Locale;

import dev.open.bench.dag.Shape;
import dev.open.dag.Dag;
import dev.open.dag.DagExecutor;
import dev.open.dag.RunReport;

/**
 * {@code open-bench.jar heap [NODES]}: the heap a DAG of no-op tasks needs, per shape. Run it with
 * a small {@code -Xmx} to show that a million-node DAG fits: it prints, per shape, the live heap
 * of the built DAG, the peak heap during a run (all heap pools' peaks summed, garbage included)
 * and the run time.
 */
final class HeapFootprint {
  private HeapFootprint() {}

  static int run(String[] args, PrintStream out) {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    DagExecutor executor = DagExecutor.builder().withMdc(false).build();
    out.printf(Locale.ROOT, "nodes=%d maxHeap=%d MiB%n", nodes,
        Runtime.getRuntime().maxMemory() >> 20);
    for (Shape shape : Shape.values()) {
      long before = liveHeap();
      Dag dag = shape.dag(nodes);
      long built = liveHeap() - before;
      executor.run(dag); // warm up
      resetPeaks();
      long t0 = System.nanoTime();
      RunReport report = executor.run(dag);
      long millis = (System.nanoTime() - t0) / 1_000_000;
      out.printf(Locale.ROOT, "%-8s dag=%4d MiB  peakDuringRun=%4d MiB  run=%5d ms  %s%n",
          shape, built >> 20, peakHeap() >> 20, millis, report.status());
      if (!report.succeeded()) {
        return 1;
      }
    }
    return 0;
  }

  private static long liveHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}
