package dev.open.bench.wfcommons;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code open-bench.jar resume FILE [SECONDS]}: what a result store buys after a crash. Each step
 * is a child JVM replaying the WfCommons instance {@code FILE}, its runtimes scaled so that the
 * critical path lasts {@code SECONDS} (default 4):
 *
 * <ol>
 *   <li>a full run without a store (the baseline);
 *   <li>a full run on an empty directory store (what storing costs);
 *   <li>a run on a second empty store, SIGKILLed half-way: when half the baseline's makespan
 *       has passed since it started its DAG;
 *   <li>the same run again on that store: it loads the finished half and runs the rest;
 *   <li>once more: everything is loaded.
 * </ol>
 *
 * Prints each step's makespan and how many tasks it loaded.
 */
public final class ResumeTiming {
  private ResumeTiming() {}

  public static int run(String[] args, PrintStream out) throws Exception {
    if (args.length < 1) {
      out.println("usage: java -jar open-bench.jar resume FILE [SECONDS]");
      return 2;
    }
    String file = args[0];
    String scale = args.length > 1 ? args[1] : "4"; // the critical path's length, in seconds
    Path dir = Files.createTempDirectory("open-resume-");
    try {
      JsonNode full = replay(file, scale, null);
      int tasks = full.get("tasks").asInt();
      out.printf(Locale.ROOT, "%s: %d tasks, critical path %.2f s%n",
          full.get("workflow").asText(), tasks, full.get("criticalPathSeconds").asDouble());
      out.println("step                          makespan_s  loaded  status");
      print(out, "full, no store", full);
      print(out, "full, empty store", replay(file, scale, dir.resolve("fresh")));

      Path store = dir.resolve("killed");
      int stored = killHalfWay(file, scale, store, full.get("makespanSeconds").asDouble() / 2);
      out.printf(Locale.ROOT, "%-29s %10s  %6s  %s%n", "killed after half", "-", "-",
          stored + " tasks stored");
      print(out, "resumed", replay(file, scale, store));
      print(out, "again, all stored", replay(file, scale, store));
      return 0;
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void print(PrintStream out, String step, JsonNode r) {
    out.printf(Locale.ROOT, "%-29s %10.2f  %6d  %s%n", step, r.get("makespanSeconds").asDouble(),
        r.get("cached").asInt(), r.get("status").asText());
  }

  private static List<String> command(String file, String scale, Path store, boolean progress) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "dev.open.bench.Main",
        "replay", file, "--critical-path", scale, "--quiet"));
    if (store != null) {
      command.addAll(List.of("--store", store.toString()));
    }
    if (progress) {
      command.add("--trace");
    }
    return command;
  }

  private static JsonNode replay(String file, String scale, Path store)
      throws IOException, InterruptedException {
    Process child = new ProcessBuilder(command(file, scale, store, false))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String last = null;
    try (BufferedReader lines = reader(child)) {
      for (String line; (line = lines.readLine()) != null; ) {
        last = line;
      }
    }
    if (child.waitFor() != 0 || last == null) {
      throw new IllegalStateException("the replay failed: " + last);
    }
    return new ObjectMapper().readTree(last);
  }

  private static int killHalfWay(String file, String scale, Path store, double seconds)
      throws IOException, InterruptedException {
    Process child = new ProcessBuilder(command(file, scale, store, true))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    Thread reader = Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader lines = reader(child)) {
        for (String line; (line = lines.readLine()) != null; ) {
          if (line.equals("start")) {
            started.countDown();
          } else if (line.startsWith("done ")) {
            done.incrementAndGet();
          }
        }
      } catch (IOException e) {
        // the child was killed
      }
    });
    started.await();
    Thread.sleep(Math.round(seconds * 1000)); // the kill's moment is what this step measures
    int stored = done.get();
    child.destroyForcibly();
    child.waitFor();
    reader.join();
    return stored;
  }

  private static BufferedReader reader(Process child) {
    return new BufferedReader(new InputStreamReader(child.getInputStream(),
        StandardCharsets.UTF_8));
  }
}
