package dev.open.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.FunctionRef;
import dev.open.dag.Node;

/**
 * The DAG of the member-process tests: 1,000 nodes — Java tasks that wait 60–140 ms, a map node,
 * a few Python calls — whose sink sums everything, so one number checks every value. Every Java
 * task appends {@code node,pid} to a side-effect log when it finishes (one O_APPEND write), which
 * is how a test sees which member ran what, and what ran twice. While a gate file exists, tasks
 * log {@code held,node,pid} as they start and wait for it to go: a seam that holds a run still.
 */
final class ChaosDag {
  static final String NAME = "chaos";
  static final int ROOTS = 10;
  static final int WIDE = 400;
  static final int PYTHON_CALLS = 5;
  static final int FAN_INS = 180;
  static final int MAP_ELEMENTS = 2;

  private ChaosDag() {}

  /**
   * Builds the DAG.
   *
   * @param add {@code open_test_tasks:add} of this member's Python pool
   * @param log the side-effect log, or null for none
   * @param gate tasks wait while this file exists; null for none
   */
  static Dag build(FunctionRef<Long> add, Path log, Path gate) {
    DagBuilder b = Dag.builder(NAME);
    List<Node<Long>> roots = new ArrayList<>();
    for (int i = 0; i < ROOTS; i++) {
      long v = i;
      roots.add(b.task("r" + i, () -> done(log, gate, "r" + v, 0, v)));
    }
    List<Node<Long>> a = new ArrayList<>();
    for (int j = 0; j < WIDE; j++) {
      long k = j;
      a.add(b.task("a" + j, roots.get(j % ROOTS), r -> done(log, gate, "a" + k, pause(k), r + k)));
    }
    List<Node<Long>> bs = new ArrayList<>();
    for (int j = 0; j < WIDE; j++) {
      long k = j;
      bs.add(b.task("b" + j, a.get(j), a.get((j + 1) % WIDE),
          (x, y) -> done(log, gate, "b" + k, pause(k + 7), 2 * x + y)));
    }
    List<Node<? extends Long>> last = new ArrayList<>();
    for (int p = 0; p < PYTHON_CALLS; p++) {
      last.add(b.call("py" + p, add, bs.get(p), bs.get(p + 1)));
    }
    for (int m = 0; m < FAN_INS; m++) {
      long k = m;
      List<Node<Long>> three = List.of(bs.get(m), bs.get(m + 100), bs.get(m + 200));
      last.add(b.fanIn("c" + m, three, values -> done(log, gate, "c" + k, pause(k + 3),
          values.stream().mapToLong(Long::longValue).sum())));
    }
    Node<List<Long>> items = b.task("items", bs.get(0), x -> done(log, gate, "items", 0,
        List.of(x, x + 1)));
    Node<List<Long>> mapped = b.map("m", items, x -> done(log, gate, "m", pause(x), x * 3));
    last.add(b.task("msum", mapped, list -> done(log, gate, "msum", 0,
        list.stream().mapToLong(Long::longValue).sum())));
    b.fanIn("sum", last, values -> done(log, gate, "sum", 0,
        values.stream().mapToLong(Long::longValue).sum()));
    return b.build();
  }

  /** The number of Java tasks (and map elements) that log once each when run once. */
  static int loggedTasks() {
    return ROOTS + 2 * WIDE + FAN_INS + 1 + MAP_ELEMENTS + 1 + 1;
  }

  private static long pause(long k) {
    return 60 + (k * 37) % 81;
  }

  private static <T> T done(Path log, Path gate, String node, long millis, T value)
      throws InterruptedException {
    if (gate != null && Files.exists(gate)) {
      append(log, "held," + node);
      while (Files.exists(gate)) {
        Thread.sleep(10); // a file is the seam between processes; the test removes it
      }
    }
    if (millis > 0) {
      Thread.sleep(millis);
    }
    append(log, node);
    return value;
  }

  private static void append(Path log, String what) {
    if (log != null) {
      byte[] line = (what + "," + ProcessHandle.current().pid() + "\n")
          .getBytes(StandardCharsets.UTF_8);
      try {
        Files.write(log, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
