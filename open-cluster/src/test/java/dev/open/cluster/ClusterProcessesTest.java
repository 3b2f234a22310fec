package dev.open.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.open.dag.RunReport;
import dev.open.ports.WorkerPool;

/**
 * Three member JVMs on 127.0.0.1 running {@link ChaosDag} (1,000 nodes, a few Python calls), one
 * of them killed with SIGKILL mid-run: a worker, then the coordinator; and a member joining
 * mid-run. The side-effect log says which member ran each node, and what ran twice.
 *
 * <p>When in the run a member is killed is drawn from the seed {@code open.cluster.chaos.seed}
 * (default 1): {@code make chaos-cluster} runs the class again and again with other seeds.
 */
@Timeout(180)
class ClusterProcessesTest {
  static final String PYTHON = System.getProperty("open.python", "python3");
  static final Path REPO = Path.of(System.getProperty("open.repo", "..")).toAbsolutePath();
  private static long expectedSum;
  private static final long SEED = Long.getLong("open.cluster.chaos.seed", 1);
  /** Logged nodes before the kill, drawn from the seed: from early to late in the run. */
  private final java.util.Random random = new java.util.Random(SEED);

  @TempDir
  Path dir;
  private Path log;
  private Path gate;
  private String cluster;
  private List<Integer> ports;
  private final List<Member> members = new ArrayList<>();

  /** The sum the DAG computes, from a local run in this JVM. */
  @BeforeAll
  static void expected() {
    try (WorkerPool python = WorkerPool.python().withInterpreter(PYTHON)
        .withModulePath(REPO.resolve("python-worker/test_tasks"))
        .withAllowedModules("open_test_tasks").withWorkers(1).build()) {
      RunReport local = ChaosDag.build(python.function("open_test_tasks:add", Long.class), null, null)
          .run().orThrow();
      expectedSum = (Long) local.result(local.dag().node("sum").orElseThrow());
    }
  }

  @BeforeEach
  void names() {
    log = dir.resolve("side-effects.log");
    gate = dir.resolve("gate");
    cluster = "open-process-test-" + UUID.randomUUID();
    ports = TestMembers.freePorts(3);
  }

  @AfterEach
  void stop() {
    members.forEach(Member::kill);
  }

  @Test
  void aWorkerKilledMidRunCostsOnlyTheNodesItWasRunning() throws Exception {
    Member a = start(0);
    Member b = start(1);
    Member c = start(2);
    a.send("start");
    long id = Long.parseLong(a.expect("started ").substring(8));
    int killAt = 100 + random.nextInt(700);
    awaitLog(() -> lines().size() >= killAt && count(c.pid()) >= 10);

    c.kill();
    a.send("await " + id);
    String[] report = a.expect("report ").split(" ");

    assertThat(report[1]).isEqualTo("SUCCEEDED");
    assertThat(Long.parseLong(report[2])).isEqualTo(expectedSum);
    assertThat(Integer.parseInt(report[4])).as("relocations").isBetween(1, 8);
    Map<String, List<Long>> ran = ranOn();
    assertThat(ran).hasSize(distinctLogged());
    ran.forEach((node, pids) -> {
      if (pids.size() > 1) {
        assertThat(pids).as("%s ran twice: once on the killed member", node)
            .hasSize(2).contains(c.pid()).containsAnyOf(a.pid(), b.pid());
      }
    });
  }

  @Test
  void whenTheCoordinatorIsKilledAnotherMemberFinishesTheRunWithoutRerunningStoredNodes()
      throws Exception {
    Member a = start(0);
    Member b = start(1);
    Member c = start(2);
    a.send("start");
    long id = Long.parseLong(a.expect("started ").substring(8));
    int killAt = 100 + random.nextInt(700);
    awaitLog(() -> lines().size() >= killAt);

    a.kill();
    int loggedBeforeTheKill = lines().size();
    c.send("await " + id);
    String[] report = c.expect("report ").split(" ");

    assertThat(report[1]).isEqualTo("SUCCEEDED");
    assertThat(Long.parseLong(report[2])).isEqualTo(expectedSum);
    assertThat(Integer.parseInt(report[5])).as("takeovers").isEqualTo(1);
    // Nodes finished before the kill come from the cluster's store, except those running at the
    // kill (at most one per slot: 3 members x 8) and those whose value was on its way from the
    // member to the store (a slot is free again once the value is back, before it is stored).
    assertThat(Integer.parseInt(report[3])).as("cached")
        .isGreaterThanOrEqualTo(loggedBeforeTheKill - 2 * 24);
    Map<String, List<Long>> ran = ranOn();
    List<String> twice = ran.entrySet().stream().filter(e -> e.getValue().size() > 1)
        .map(Map.Entry::getKey).toList();
    assertThat(twice).as("nodes run twice").hasSizeLessThanOrEqualTo(2 * 24);
    ran.values().forEach(pids -> assertThat(pids).hasSizeLessThanOrEqualTo(2));
    assertThat(ran).hasSize(distinctLogged());
    assertThat(b.pid()).isNotEqualTo(a.pid());
  }

  @Test
  void aMemberJoiningMidRunStartsReceivingNodes() throws Exception {
    Files.createFile(gate); // holds every task at its start
    Member a = start(0);
    Member b = start(1);
    a.send("start");
    long id = Long.parseLong(a.expect("started ").substring(8));
    awaitLog(() -> held(a.pid()) + held(b.pid()) == ChaosDag.ROOTS); // the run is under way

    Member c = start(2); // serving once it says ready; the run is held until then
    Files.delete(gate);
    a.send("await " + id);
    String[] report = a.expect("report ").split(" ");

    assertThat(report[1]).isEqualTo("SUCCEEDED");
    assertThat(Long.parseLong(report[2])).isEqualTo(expectedSum);
    assertThat(count(c.pid())).as("nodes run by the member that joined").isPositive();
  }

  // ---------------------------------------------------------------------------------------------

  private Member start(int index) throws IOException, InterruptedException {
    String classPath = Stream.of("jdk.module.path", "java.class.path")
        .map(System::getProperty).filter(p -> p != null && !p.isEmpty())
        .collect(Collectors.joining(File.pathSeparator));
    String all = ports.stream().map(String::valueOf).collect(Collectors.joining(","));
    Process process = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", classPath, ClusterMember.class.getName(), cluster,
        String.valueOf(ports.get(index)), all, log.toString(), PYTHON, REPO.toString(),
        gate.toString())
        .redirectError(dir.resolve("member-" + index + ".err").toFile())
        .start();
    Member member = new Member(process, index);
    members.add(member);
    member.expect("ready");
    return member;
  }

  private List<String> lines() {
    try {
      return Files.exists(log) ? Files.readAllLines(log) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Tasks that finished on the member of {@code pid}. */
  private long count(long pid) {
    return lines().stream().filter(l -> !l.startsWith("held,") && l.endsWith("," + pid)).count();
  }

  /** Tasks that started, and waited at the gate, on the member of {@code pid}. */
  private long held(long pid) {
    return lines().stream().filter(l -> l.startsWith("held,") && l.endsWith("," + pid)).count();
  }

  /** Node (or map element, logged under its node's name with its index) to the pids it ran on. */
  private Map<String, List<Long>> ranOn() {
    Map<String, List<Long>> ran = new HashMap<>();
    Map<String, Integer> elements = new HashMap<>();
    for (String line : lines()) {
      if (line.startsWith("held,")) {
        continue;
      }
      String[] parts = line.split(",");
      String node = parts[0];
      if (node.equals("m")) { // the map node's elements both log "m"
        node = "m#" + elements.merge(node, 1, Integer::sum);
      }
      ran.computeIfAbsent(node, k -> new ArrayList<>()).add(Long.parseLong(parts[1]));
    }
    return ran;
  }

  private static int distinctLogged() {
    return ChaosDag.loggedTasks();
  }

  private static void awaitLog(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    ClusterExecutorTest.awaitTrue(condition, () -> "the side-effect log");
  }

  /** A member process, read line by line. */
  private final class Member {
    private final Process process;
    private final int index;
    private final PrintWriter stdin;
    private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();

    Member(Process process, int index) {
      this.process = process;
      this.index = index;
      this.stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      Thread.ofVirtual().start(() -> {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(
            process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = out.readLine()) != null; ) {
            stdout.add(line);
          }
        } catch (IOException ignored) {
          // the member died: its last lines are in the queue
        }
      });
    }

    long pid() {
      return process.pid();
    }

    void send(String command) {
      stdin.println(command);
    }

    String expect(String prefix) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (true) {
        String line = stdout.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (line == null) {
          throw new AssertionError("member " + index + " did not say '" + prefix + "' in time; "
              + "alive: " + process.isAlive() + ", stderr: " + stderrTail());
        }
        if (line.startsWith(prefix)) {
          return line;
        }
      }
    }

    private String stderrTail() {
      try {
        List<String> err = Files.readAllLines(dir.resolve("member-" + index + ".err"));
        return String.join("\n", err.subList(Math.max(0, err.size() - 30), err.size()));
      } catch (IOException e) {
        return e.toString();
      }
    }

    void kill() {
      process.destroyForcibly(); // SIGKILL
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
