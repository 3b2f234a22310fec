package dev.open.bench.dag;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;

/**
 * {@code open-bench.jar inflight TASKS SECONDS [ROUNDS] [JVM options...]}: how many tasks a run
 * has in flight at once, side by side with a plain {@code newVirtualThreadPerTaskExecutor}.
 *
 * <p>Each of {@code TASKS} independent tasks sleeps {@code SECONDS}. Three ways run them, each in
 * a fresh child JVM (started with the given JVM options, e.g. {@code -Xmx2g}), alternating for
 * {@code ROUNDS} rounds: {@code plain} submits every task to a virtual-thread-per-task executor;
 * {@code nodes} runs a DAG of {@code TASKS} independent nodes with a default executor; {@code
 * map} runs one {@code map} node over {@code TASKS} elements. Each child prints the peak number
 * of tasks sleeping at once, the makespan (from the first submission to the last task's end; for
 * the DAGs, of {@code run()} only: building the DAG is printed apart), the peak heap in use
 * (sampled every 50 ms) and the process's peak RSS ({@code VmHWM}).
 */
public final class InFlightTiming {
  private static final List<String> WAYS = List.of("plain", "nodes", "map");

  private InFlightTiming() {}

  public static int run(String[] args, PrintStream out) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      return child(args[1], Integer.parseInt(args[2]), Double.parseDouble(args[3]), out);
    }
    int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 10;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    List<String> jvmOptions = args.length > 3 ? List.of(args).subList(3, args.length) : List.of();
    out.printf(Locale.ROOT, "%d tasks sleeping %.1f s each; JVM options %s; %d rounds%n",
        tasks, seconds, jvmOptions.isEmpty() ? "(default)" : String.join(" ", jvmOptions), rounds);
    out.println("way    peak_in_flight  makespan_s  build_s  peak_heap_mb  peak_rss_mb");
    for (int r = 0; r < rounds; r++) {
      for (String way : WAYS) {
        out.println(spawn(way, tasks, seconds, jvmOptions));
      }
    }
    return 0;
  }

  private static String spawn(String way, int tasks, double seconds, List<String> jvmOptions)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        "dev.open.bench.Main", "inflight", "--child", way, Integer.toString(tasks),
        Double.toString(seconds)));
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    String last = "";
    try (BufferedReader lines = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        last = line;
      }
    }
    int exit = child.waitFor();
    return exit == 0 ? last : way + " failed (exit " + exit + "): " + last;
  }

  private static int child(String way, int tasks, double seconds, PrintStream out)
      throws Exception {
    long sleepMillis = Math.round(seconds * 1000);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    Runnable task = () -> {
      int now = inFlight.incrementAndGet();
      peak.accumulateAndGet(now, Math::max);
      try {
        Thread.sleep(sleepMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
    };
    HeapSampler heap = new HeapSampler();
    heap.start();
    double build = 0;
    long start;
    long end;
    switch (way) {
      case "plain" -> {
        start = System.nanoTime();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
          for (int i = 0; i < tasks; i++) {
            executor.execute(task);
          }
        }
        end = System.nanoTime();
      }
      case "nodes", "map" -> {
        long b0 = System.nanoTime();
        Dag dag = way.equals("nodes") ? independentNodes(tasks, task) : oneMap(tasks, task);
        build = (System.nanoTime() - b0) / 1e9;
        start = System.nanoTime();
        // Default settings, as a user has them; -Dopen.bench.mdc=false shows the MDC's share.
        RunReport report = DagExecutor.builder()
            .withMdc(Boolean.parseBoolean(System.getProperty("open.bench.mdc", "true")))
            .build().run(dag);
        end = System.nanoTime();
        if (report.status() != RunStatus.SUCCEEDED) {
          throw new IllegalStateException("the run " + report.status());
        }
      }
      default -> throw new IllegalArgumentException("unknown way " + way);
    }
    heap.interrupt();
    heap.join();
    out.printf(Locale.ROOT, "%-6s %14d  %10.2f  %7.2f  %12d  %11d%n", way, peak.get(),
        (end - start) / 1e9, build, heap.peak / (1 << 20), peakRssKib() / 1024);
    return 0;
  }

  private static Dag independentNodes(int tasks, Runnable task) {
    DagBuilder b = Dag.builder("in-flight");
    for (int i = 0; i < tasks; i++) {
      b.task("t" + i, () -> {
        task.run();
        return Boolean.TRUE;
      });
    }
    return b.build();
  }

  private static Dag oneMap(int tasks, Runnable task) {
    DagBuilder b = Dag.builder("in-flight-map");
    Node<List<Integer>> items = b.task("items", () -> {
      List<Integer> list = new ArrayList<>(tasks);
      for (int i = 0; i < tasks; i++) {
        list.add(i);
      }
      return list;
    });
    b.map("sleep", items, i -> {
      task.run();
      return Boolean.TRUE;
    });
    return b.build();
  }

  private static long peakRssKib() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  /** Samples the heap in use every 50 ms; a platform thread, so it runs while the carriers sleep. */
  private static final class HeapSampler extends Thread {
    volatile long peak;

    HeapSampler() {
      setDaemon(true);
    }

    @Override
    public void run() {
      Runtime runtime = Runtime.getRuntime();
      while (!isInterrupted()) {
        peak = Math.max(peak, runtime.totalMemory() - runtime.freeMemory());
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
