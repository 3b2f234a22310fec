package dev.open.bench;

import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.open.bench.dag.Shape;
import dev.open.dag.Dag;
import dev.open.dag.DagExecutor;
import dev.open.dag.RunReport;

/**
 * {@code open-bench.jar heap [NODES] [SHAPE...]}: does a DAG of no-op tasks fit, and what does it
 * cost? Run it with a small {@code -Xmx} (make bench-heap uses 512 MB, one JVM per shape): per
 * shape it prints the live heap of the built DAG, the median time of five runs and the time the
 * collector spent during them. Finishing at all under the {@code -Xmx} is the claim.
 */
final class HeapFootprint {
  private HeapFootprint() {}

  static int run(String[] args, PrintStream out) {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    List<Shape> shapes = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      shapes.add(Shape.valueOf(args[i].toUpperCase(Locale.ROOT)));
    }
    if (shapes.isEmpty()) {
      shapes.addAll(List.of(Shape.values()));
    }
    DagExecutor executor = DagExecutor.builder().withMdc(false).build();
    for (Shape shape : shapes) {
      long before = liveHeap();
      Dag dag = shape.dag(nodes);
      long built = liveHeap() - before;
      executor.run(dag); // warm-up
      long gcBefore = gcMillis();
      long[] millis = new long[5];
      RunReport report = null;
      for (int i = 0; i < millis.length; i++) {
        long t0 = System.nanoTime();
        report = executor.run(dag);
        millis[i] = (System.nanoTime() - t0) / 1_000_000;
      }
      Arrays.sort(millis);
      out.printf(Locale.ROOT,
          "%-8s nodes=%d maxHeap=%d MiB  dag=%d MiB  run(median of 5)=%d ms  gc=%d ms  %s%n",
          shape, nodes, Runtime.getRuntime().maxMemory() >> 20, built >> 20, millis[2],
          gcMillis() - gcBefore, report.status());
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

  private static long gcMillis() {
    long sum = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      sum += Math.max(0, gc.getCollectionTime());
    }
    return sum;
  }
}
