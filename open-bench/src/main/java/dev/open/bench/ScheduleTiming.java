package dev.open.bench;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

import dev.open.bench.dag.Shape;
import dev.open.dag.Dag;
import dev.open.dag.DagExecutor;

/**
 * {@code open-bench.jar schedule SHAPE NODES RUNS}: times OPEN on one shape of no-op tasks with a
 * plain clock (after warm-up runs) and prints one JSON line with the median. For side-by-side
 * runs with peers outside the JVM (python/dask_scheduling.py); JMH's SchedulingBenchmark is the
 * reference measurement inside it.
 */
final class ScheduleTiming {
  private ScheduleTiming() {}

  static int run(String[] args, PrintStream out) {
    if (args.length != 3) {
      System.err.println("usage: java -jar open-bench.jar schedule WIDE|CHAIN|LAYERED NODES RUNS");
      return Main.BAD_INPUT;
    }
    Shape shape = Shape.valueOf(args[0].toUpperCase(Locale.ROOT));
    int nodes = Integer.parseInt(args[1]);
    int runs = Integer.parseInt(args[2]);
    Dag dag = shape.dag(nodes);
    DagExecutor executor = DagExecutor.builder().withMdc(false).build();
    for (int i = 0; i < 5; i++) {
      executor.run(dag);
    }
    double[] seconds = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      executor.run(dag).orThrow();
      seconds[i] = (System.nanoTime() - t0) / 1e9;
    }
    Arrays.sort(seconds);
    out.printf(Locale.ROOT, "{\"shape\":\"%s\",\"nodes\":%d,\"runs\":%d,\"medianSeconds\":%.6f}%n",
        shape, nodes, runs, seconds[runs / 2]);
    return Main.OK;
  }
}
