package dev.open.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.open.bench.wfcommons.Replay;
import dev.open.bench.wfcommons.ReplayResult;
import dev.open.bench.wfcommons.WfFormatException;
import dev.open.bench.wfcommons.WfFormatReader;
import dev.open.bench.wfcommons.WfInstance;
import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.RunStartedEvent;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.store.ResultStore;
import dev.open.dag.store.StoreException;
import dev.open.report.ConsoleProgress;
import dev.open.report.HtmlReport;
import dev.open.report.RunTimeline;

/**
 * Entry point of {@code open-bench.jar}:
 *
 * <pre>
 * java -jar open-bench.jar replay FILE [--scale S | --critical-path SECONDS] [--max-parallel N]
 *                                      [--store DIR [--explain]] [--copies N] [--report HTML]
 *                                      [--quiet] [--trace]
 * java -jar open-bench.jar resume FILE [SECONDS]
 * java -jar open-bench.jar heap [NODES]
 * java -jar open-bench.jar schedule WIDE|CHAIN|LAYERED NODES RUNS
 * java -jar open-bench.jar recovery [TRIALS]
 * java -jar open-bench.jar chaos [CALLS] [KILLS] [SEED]
 * java -jar open-bench.jar inflight [TASKS] [SECONDS] [ROUNDS] [JVM options...]
 * java -jar open-bench.jar cluster [overhead|scaling|failover|all] [options]
 * java -jar open-bench.jar [JMH options] [benchmark regex]
 * </pre>
 *
 * Exit codes: 0 success, 1 a run failed, 2 bad usage or input (the message names the file and
 * the task).
 */
public final class Main {
  static final int OK = 0;
  static final int RUN_FAILED = 1;
  static final int BAD_INPUT = 2;

  private static final String USAGE = """
      usage: java -jar open-bench.jar replay FILE [--scale S | --critical-path SECONDS] [--max-parallel N]
                                               [--store DIR [--explain]] [--copies N] [--report HTML]
                                               [--quiet] [--trace]
             java -jar open-bench.jar resume FILE [SECONDS]
             java -jar open-bench.jar heap [NODES]
             java -jar open-bench.jar layout [NODES...]
             java -jar open-bench.jar schedule WIDE|CHAIN|LAYERED NODES RUNS
             java -jar open-bench.jar recovery [TRIALS]
             java -jar open-bench.jar chaos [CALLS] [KILLS] [SEED]
             java -jar open-bench.jar inflight [TASKS] [SECONDS] [ROUNDS] [JVM options...]
             java -jar open-bench.jar cluster [overhead|scaling|failover|all] [options]
             java -jar open-bench.jar [JMH options] [benchmark regex]   (-h for JMH's help)""";

  private Main() {}

  public static void main(String[] args) throws Exception {
    String command = args.length > 0 ? args[0] : "";
    String[] rest = args.length > 0 ? Arrays.copyOfRange(args, 1, args.length) : args;
    switch (command) {
      case "replay" -> System.exit(replay(rest, System.out, System.err));
      case "schedule" -> System.exit(ScheduleTiming.run(rest, System.out));
      case "recovery" -> System.exit(dev.open.bench.ports.RecoveryTiming.run(rest, System.out));
      case "chaos" -> System.exit(dev.open.bench.ports.ChaosTiming.run(rest, System.out));
      case "inflight" -> System.exit(dev.open.bench.dag.InFlightTiming.run(rest, System.out));
      case "resume" -> System.exit(dev.open.bench.wfcommons.ResumeTiming.run(rest, System.out));
      case "heap" -> System.exit(HeapFootprint.run(rest, System.out));
      case "layout" -> System.exit(LayoutTiming.run(rest, System.out));
      case "cluster" -> System.exit(dev.open.bench.cluster.ClusterTiming.run(rest, System.out));
      default -> org.openjdk.jmh.Main.main(args);
    }
  }

  /** Runs the replay command; returns the exit code. */
  static int replay(String[] args, PrintStream out, PrintStream err) {
    Path file = null;
    Double scale = null;
    Double criticalPath = null;
    int maxParallel = 0;
    Path storeDir = null;
    boolean explain = false;
    boolean trace = false;
    boolean quiet = false;
    int copies = 1;
    Path html = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--store" -> {
            if (++i >= args.length) {
              throw new IllegalArgumentException("--store needs a directory");
            }
            storeDir = Path.of(args[i]);
          }
          case "--explain" -> explain = true;
          case "--trace" -> trace = true;
          case "--quiet" -> quiet = true;
          case "--report" -> {
            if (++i >= args.length) {
              throw new IllegalArgumentException("--report needs a file");
            }
            html = Path.of(args[i]);
          }
          case "--copies" -> {
            copies = (int) (double) positive(args, ++i, "--copies");
            if (copies != Double.parseDouble(args[i])) {
              throw new IllegalArgumentException("--copies needs a whole number, got " + args[i]);
            }
          }
          case "--scale" -> scale = positive(args, ++i, "--scale");
          case "--critical-path" -> criticalPath = positive(args, ++i, "--critical-path");
          case "--max-parallel" -> {
            maxParallel = (int) (double) positive(args, ++i, "--max-parallel");
            if (maxParallel != Double.parseDouble(args[i])) {
              throw new IllegalArgumentException("--max-parallel needs a whole number, got " + args[i]);
            }
          }
          default -> {
            if (args[i].startsWith("--") || file != null) {
              throw new IllegalArgumentException("unexpected argument: " + args[i]);
            }
            file = Path.of(args[i]);
          }
        }
      }
      if (file == null) {
        throw new IllegalArgumentException("no FILE given");
      }
      if (scale != null && criticalPath != null) {
        throw new IllegalArgumentException("give --scale or --critical-path, not both");
      }
      if (explain && storeDir == null) {
        throw new IllegalArgumentException("--explain needs --store DIR");
      }
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      err.println(USAGE);
      return BAD_INPUT;
    }
    if (!Files.isRegularFile(file)) {
      err.println("error: " + file + ": no such file");
      return BAD_INPUT;
    }
    if (html != null) { // now, not after a replay of hours
      Path dir = html.toAbsolutePath().getParent();
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        err.println("error: --report " + html + ": cannot create " + dir + ": " + e);
        return BAD_INPUT;
      }
      if (Files.isDirectory(html) || !Files.isWritable(dir)) {
        err.println("error: --report " + html + ": not a file that can be written");
        return BAD_INPUT;
      }
    }
    ReplayResult result;
    try {
      WfInstance instance = WfFormatReader.read(file).copies(copies);
      double cp = Replay.criticalPathSeconds(instance);
      double s = criticalPath != null ? (cp > 0 ? criticalPath / cp : 1.0)
          : scale != null ? scale : 1.0;
      RunReport[] report = new RunReport[1];
      ExecutionListener printer = !trace ? null : new ExecutionListener() {
        @Override
        public void onRunStarted(RunStartedEvent event) {
          out.println("start");
        }

        @Override
        public void onTaskSucceeded(TaskEvent event) {
          out.println("done " + event.node()); // its value is stored, if there is a store
        }
      };
      RunTimeline timeline = new RunTimeline();
      List<ExecutionListener> listeners = new ArrayList<>();
      if (printer != null) {
        listeners.add(printer);
      }
      if (html != null) {
        listeners.add(timeline);
      }
      try (ResultStore store = storeDir == null ? null : ResultStore.directory(storeDir);
          ConsoleProgress progress = quiet ? null : ConsoleProgress.create()) {
        if (progress != null) {
          listeners.add(progress);
        }
        result = Replay.of(file, instance, s).run(maxParallel, store, r -> report[0] = r,
            listeners);
      }
      if (html != null) {
        try {
          err.println("report: " + HtmlReport.write(report[0], timeline, html));
        } catch (UncheckedIOException e) {
          err.println("error: " + e.getMessage() + ": " + e.getCause());
        }
      }
      if (explain) {
        Explain.print(report[0], out);
      }
    } catch (WfFormatException e) {
      err.println("error: " + e.getMessage());
      return BAD_INPUT;
    } catch (StoreException | IOException e) {
      err.println("error: " + e.getMessage());
      return BAD_INPUT;
    }
    out.println(toJson(result));
    return result.status().equals("SUCCEEDED") ? OK : RUN_FAILED;
  }

  static String toJson(ReplayResult r) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("file", r.file());
    line.put("workflow", r.workflow());
    line.put("schemaVersion", r.schemaVersion());
    line.put("tasks", r.tasks());
    line.put("edges", r.edges());
    line.put("maxParallel", r.maxParallel());
    line.put("criticalPathSeconds", round(r.criticalPathSeconds()));
    line.put("makespanSeconds", round(r.makespanSeconds()));
    line.put("overheadPercent", Math.round(r.overheadPercent() * 100) / 100.0);
    line.put("precedenceViolations", r.precedenceViolations());
    line.put("exactlyOnce", r.exactlyOnce());
    line.put("status", r.status());
    line.put("cached", r.cached());
    try {
      return new ObjectMapper().writeValueAsString(line);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static double round(double seconds) {
    return Math.round(seconds * 1e6) / 1e6;
  }

  private static double positive(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    double value;
    try {
      value = Double.parseDouble(args[i]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a number, got " + args[i]);
    }
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(option + " must be positive, got " + args[i]);
    }
    return value;
  }
}
