package dev.open.dag.durable;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.open.dag.RunReport;

/**
 * A run survives the death of its JVM: a child JVM runs a DAG on a directory store and is
 * SIGKILLed half-way; a second JVM on the same store loads what the first finished (its side
 * effects show those nodes did not run again), runs the rest once, and gets the value of an
 * uncached run; a third run loads everything.
 */
class ResumeAfterKillTest {

  @Test
  void aRunKilledHalfWayResumesWhereItStopped(@TempDir Path dir) throws Exception {
    Path store = dir.resolve("store");
    Path log = dir.resolve("side-effects.log");
    int half = ResumeChild.NODES / 2;

    Process first = child(store, log, "first");
    int done = 0;
    try (BufferedReader out = reader(first)) {
      for (String line; done < half && (line = out.readLine()) != null; ) {
        if (line.startsWith("done ")) {
          done++;
        }
      }
      first.destroyForcibly(); // SIGKILL: no hook, no flush
      first.waitFor();
    }
    assertThat(done).as("nodes the first JVM stored before it was killed").isEqualTo(half);

    Map<String, String> second = statuses(runToTheEnd(store, log, "second"));
    Map<String, Map<String, Long>> ranBy = sideEffects(log);
    Map<String, Long> firstRan = ranBy.getOrDefault("first", Map.of());
    Map<String, Long> secondRan = ranBy.getOrDefault("second", Map.of());
    long cached = second.values().stream().filter("CACHED"::equals).count();
    assertThat(cached).as("everything the first JVM stored is loaded").isGreaterThanOrEqualTo(half);
    for (int j = 0; j < ResumeChild.NODES; j++) {
      String node = "n" + j;
      if (second.get(node).equals("CACHED")) {
        assertThat(secondRan).as(node + " was loaded, not run").doesNotContainKey(node);
        assertThat(firstRan.get(node)).as(node + " ran once, in the first JVM").isEqualTo(1);
      } else {
        assertThat(second.get(node)).isEqualTo("SUCCEEDED");
        assertThat(secondRan.get(node)).as(node + " ran once in the second JVM").isEqualTo(1);
      }
    }
    // The few the first JVM was running when it died ran again; no other node did.
    long ranTwice = firstRan.keySet().stream().filter(secondRan::containsKey).count();
    assertThat(ranTwice).isLessThanOrEqualTo(4);

    List<String> thirdOutput = runToTheEnd(store, log, "third");
    assertThat(statuses(thirdOutput).values()).containsOnly("CACHED");
    assertThat(sideEffects(log)).doesNotContainKey("third");

    RunReport uncached = ResumeChild.dag(name -> { }).run();
    String expected = "result " + uncached.result(
        uncached.dag().node("n" + (ResumeChild.NODES - 1)).orElseThrow());
    assertThat(thirdOutput).contains(expected);
    assertThat(runToTheEnd(store, log, "fourth")).contains(expected);
  }

  private static Process child(Path store, Path log, String tag) throws IOException {
    String classPath = Stream.of("jdk.module.path", "java.class.path")
        .map(System::getProperty).filter(p -> p != null && !p.isEmpty())
        .collect(Collectors.joining(File.pathSeparator));
    return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", classPath, ResumeChild.class.getName(), store.toString(),
        log.toString(), tag)
        .redirectErrorStream(true).start();
  }

  private static BufferedReader reader(Process process) {
    return new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
  }

  private static List<String> runToTheEnd(Path store, Path log, String tag) throws Exception {
    Process process = child(store, log, tag);
    List<String> lines;
    try (BufferedReader out = reader(process)) {
      lines = out.lines().toList();
    }
    assertThat(process.waitFor()).as("exit of the %s JVM: %s", tag, lines).isZero();
    return lines;
  }

  private static Map<String, String> statuses(List<String> output) {
    Map<String, String> statuses = new HashMap<>();
    for (String line : output) {
      if (line.startsWith("status ")) {
        String[] parts = line.split(" ");
        statuses.put(parts[1], parts[2]);
      }
    }
    assertThat(statuses).hasSize(ResumeChild.NODES);
    return statuses;
  }

  /** Tag → node → how many times it ran under that tag. */
  private static Map<String, Map<String, Long>> sideEffects(Path log) throws IOException {
    return Files.readAllLines(log).stream().map(l -> l.split(" "))
        .collect(Collectors.groupingBy(p -> p[0],
            Collectors.groupingBy(p -> p[1], Collectors.counting())));
  }
}
