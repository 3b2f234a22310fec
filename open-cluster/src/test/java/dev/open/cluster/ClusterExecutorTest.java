package dev.open.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.hazelcast.core.HazelcastInstance;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;
import dev.open.dag.policy.RetryPolicy;

/**
 * A cluster of three members in this JVM: placement, values, policies, and the loss of a worker
 * and of a coordinator. (ClusterProcessesTest does the same with member processes and SIGKILL.)
 */
@Timeout(90)
class ClusterExecutorTest {
  /** Which member ran each node, by the member's port: tasks record it here. */
  static final Map<String, List<Integer>> RAN_ON = new ConcurrentHashMap<>();

  private List<HazelcastInstance> members;
  private final List<ClusterExecutor> executors = new ArrayList<>();

  @BeforeEach
  void cluster() {
    RAN_ON.clear();
    members = TestMembers.start(3);
  }

  @AfterEach
  void shutdown() {
    executors.forEach(ClusterExecutor::close);
    if (members != null) {
      members.forEach(m -> m.getLifecycleService().terminate());
    }
  }

  private int port(int member) {
    return port(members.get(member));
  }

  /**
   * A fan-out of {@code width} tasks, each recording the member it ran on, summed by one node.
   * The member is known to the task through the supplier, called once per member.
   */
  static Dag fanOut(String name, int width, int port, CountDownLatch gate) {
    DagBuilder b = Dag.builder(name);
    Node<Integer> seed = b.task("seed", () -> 1);
    List<Node<Integer>> parts = new ArrayList<>();
    for (int i = 0; i < width; i++) {
      int k = i;
      parts.add(b.task("part" + i, seed, s -> {
        RAN_ON.computeIfAbsent("part" + k, x -> new java.util.concurrent.CopyOnWriteArrayList<>())
            .add(port);
        if (gate != null) {
          gate.await();
        }
        return s + k;
      }));
    }
    b.fanIn("sum", parts, values -> values.stream().mapToInt(Integer::intValue).sum());
    return b.build();
  }

  private ClusterExecutor serve(int member, Supplier<Dag> dag, int capacity,
      DagExecutor settings) {
    ClusterExecutor.Builder b = ClusterExecutor.builder(members.get(member))
        .withDag(dag.get().name(), dag).withMaxConcurrentNodes(capacity);
    if (settings != null) {
      b.withExecutor(settings);
    }
    ClusterExecutor executor = b.build();
    executors.add(executor);
    return executor;
  }

  private static int port(HazelcastInstance hz) {
    return hz.getCluster().getLocalMember().getAddress().getPort();
  }

  @SuppressWarnings("unchecked")
  private static Node<Integer> sumOf(RunReport report) {
    return (Node<Integer>) report.dag().node("sum").orElseThrow();
  }

  @Test
  void aRunSpreadsItsNodesOverEveryMemberAndComputesTheSameValues() throws Exception {
    List<ClusterExecutor> cluster = new ArrayList<>();
    for (int m = 0; m < 3; m++) {
      int port = port(members.get(m));
      cluster.add(serve(m, () -> fanOut("spread", 60, port, null), 4, null));
    }

    RunReport report = cluster.get(0).run("spread");

    assertThat(report.status()).as("%s", report.failure()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(report.nodes().get(report.dag().size() - 1).name()).isEqualTo("sum");
    assertThat(report.result(sumOf(report))).isEqualTo(60 + 60 * 59 / 2);
    assertThat(RAN_ON.values().stream().flatMap(List::stream).distinct())
        .containsExactlyInAnyOrder(port(0), port(1), port(2));
    RunReport elsewhere = cluster.get(2).find(report.runId()).orElseThrow().await();
    assertThat(elsewhere.nodes()).isEqualTo(report.nodes());
    assertThat(elsewhere.runId()).isEqualTo(report.runId());
  }

  @Test
  void noMemberRunsMoreThanItsCapacityAndTheLeastLoadedGetsTheNext() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<ClusterExecutor> cluster = new ArrayList<>();
    int[] capacities = {1, 2, 3};
    for (int m = 0; m < 3; m++) {
      int port = port(members.get(m));
      cluster.add(serve(m, () -> fanOut("capacity", 12, port, gate), capacities[m], null));
    }

    ClusterRun run = cluster.get(0).start("capacity");
    // Six parts fill the six slots and wait at the gate; six more wait for a free slot.
    awaitStarted(6);
    Map<Integer, Long> byMember = new java.util.HashMap<>();
    RAN_ON.values().forEach(ports -> ports.forEach(p -> byMember.merge(p, 1L, Long::sum)));
    assertThat(byMember).containsExactlyInAnyOrderEntriesOf(
        Map.of(port(0), 1L, port(1), 2L, port(2), 3L));
    assertThat(cluster.get(0).inFlight().values()).containsExactlyInAnyOrder(1, 2, 3);
    gate.countDown();

    assertThat(run.await().succeeded()).isTrue();
  }

  @Test
  void retriesAndFailuresMeanWhatTheyMeanLocally() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Supplier<Dag> flaky = () -> {
      DagBuilder b = Dag.builder("flaky");
      b.node("sometimes").withRetry(RetryPolicy.builder().withMaxAttempts(3)
          .withBackoff(Duration.ofMillis(1), Duration.ofMillis(1)).build())
          .task(() -> {
            if (calls.incrementAndGet() < 3) {
              throw new IOException("transient " + calls.get());
            }
            return "fine";
          });
      b.task("never", () -> {
        throw new IllegalArgumentException("always");
      });
      return b.build();
    };
    ClusterExecutor first = null;
    for (int m = 0; m < 3; m++) {
      ClusterExecutor e = serve(m, flaky, 2, DagExecutor.builder()
          .withFailureMode(dev.open.dag.policy.FailureMode.CONTINUE).build());
      first = first == null ? e : first;
    }

    RunReport report = first.run("flaky");

    assertThat(report.node("sometimes").status()).isEqualTo(NodeStatus.SUCCEEDED);
    assertThat(report.node("sometimes").attempts()).isEqualTo(3);
    assertThat(report.node("never").error()).rootCause()
        .isInstanceOf(IllegalArgumentException.class).hasMessage("always");
  }

  @Test
  void aValueThatNoCodecEncodesFailsItsNodeSayingSo() throws Exception {
    Supplier<Dag> opaque = () -> {
      DagBuilder b = Dag.builder("opaque");
      b.task("thread", Thread::currentThread);
      return b.build();
    };
    ClusterExecutor first = serve(0, opaque, 2, null);
    serve(1, opaque, 2, null);

    RunReport report = first.run("opaque");

    assertThat(report.node("thread").error()).rootCause()
        .hasMessageContaining("cannot cross the cluster: no ValueCodec encodes it");
  }

  @Test
  void mistakesInTheSetUpAreRefusedWithAClearMessage() {
    HazelcastInstance hz = members.get(0);
    assertThatThrownBy(() -> ClusterExecutor.builder(hz)
        .withDag("a", () -> Dag.builder("b").build()).build())
        .hasMessageContaining("built a DAG named 'b'");
    assertThatThrownBy(() -> ClusterExecutor.builder(hz).withDag("a", () -> null).build())
        .hasMessageContaining("the supplier of DAG 'a'");
    assertThatThrownBy(() -> ClusterExecutor.builder(hz).build())
        .hasMessageContaining("at least one DAG");
    assertThatThrownBy(() -> ClusterExecutor.builder(hz).withDag("x", () -> fanOut("x", 1, 0, null))
        .withExecutor(DagExecutor.builder().withTaskPlacement(t -> null).build()).build())
        .hasMessageContaining("places tasks itself");
    ClusterExecutor one = serve(0, () -> fanOut("x", 1, 0, null), 1, null);
    assertThatThrownBy(() -> ClusterExecutor.builder(hz).withDag("x", () -> fanOut("x", 1, 0, null))
        .build())
        .hasMessageContaining("already serves");
    assertThatThrownBy(() -> one.start("y")).hasMessageContaining("no DAG named 'y'");
    assertThat(one.find(12345L)).isEmpty();
  }

  @Test
  void membersThatBuiltADifferentDagUnderTheSameNameAreNotSentItsNodes() throws Exception {
    ClusterExecutor first = serve(0, () -> fanOut("shape", 30, port(0), null), 2, null);
    serve(1, () -> fanOut("shape", 31, port(1), null), 2, null); // one more part: other shape
    serve(2, () -> fanOut("shape", 30, port(2), null), 2, null);

    assertThat(first.run("shape").succeeded()).isTrue();
    assertThat(RAN_ON.values().stream().flatMap(List::stream).distinct())
        .containsExactlyInAnyOrder(port(0), port(2));
  }

  /**
   * Three members of 4 slots each, serving a fan-out of 6 parts that wait at {@code gate}: the
   * least loaded placement puts two on each member, and leaves each two free slots for the parts
   * of a member that dies.
   */
  private List<ClusterExecutor> gatedCluster(String name, CountDownLatch gate) {
    List<ClusterExecutor> cluster = new ArrayList<>();
    for (int m = 0; m < 3; m++) {
      int port = port(m);
      cluster.add(serve(m, () -> fanOut(name, 6, port, gate), 4, null));
    }
    return cluster;
  }

  /** Waits until {@code parts} parts have started, failing after a minute with what did. */
  private static void awaitStarted(int parts) throws InterruptedException {
    awaitTrue(() -> RAN_ON.values().stream().mapToInt(List::size).sum() >= parts,
        () -> parts + " parts started; started: " + RAN_ON);
  }

  static void awaitTrue(java.util.function.BooleanSupplier condition,
      Supplier<String> description) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + description.get());
      }
      Thread.sleep(5); // polling a condition, not timing anything
    }
  }

  @Test
  void theNodesOfAMemberThatDiesArePlacedAgainWithoutUsingARetry() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<ClusterExecutor> cluster = gatedCluster("lose-worker", gate);
    ClusterRun run = cluster.get(0).start("lose-worker");
    awaitStarted(6); // two parts on each member, waiting at the gate
    List<String> onVictim = RAN_ON.entrySet().stream()
        .filter(e -> e.getValue().contains(port(2))).map(Map.Entry::getKey).toList();
    assertThat(onVictim).hasSize(2);

    int victim = port(2);
    int[] survivors = {port(0), port(1)};
    members.get(2).getLifecycleService().terminate();
    awaitStarted(8); // the victim's two parts, placed again on the survivors
    gate.countDown();
    RunReport report = run.await();

    assertThat(report.status()).as("%s", report.failure()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(report.result(sumOf(report))).isEqualTo(6 + 6 * 5 / 2);
    assertThat(run.relocations()).containsOnlyKeys(onVictim);
    for (String part : onVictim) {
      assertThat(report.node(part).attempts()).as(part).isEqualTo(1);
      assertThat(RAN_ON.get(part)).as(part).hasSize(2).contains(victim)
          .containsAnyOf(survivors[0], survivors[1]);
    }
  }

  @Test
  void whenTheCoordinatorDiesTheOldestSurvivorFinishesTheRunReusingStoredValues()
      throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<ClusterExecutor> cluster = gatedCluster("lose-coordinator", gate);
    ClusterRun run = cluster.get(0).start("lose-coordinator");
    awaitStarted(6);

    members.get(0).getLifecycleService().terminate();
    ClusterRun found = cluster.get(2).find(run.id()).orElseThrow();
    awaitTrue(() -> found.takeovers() > 0, () -> "a takeover of run " + run.id());
    gate.countDown();
    RunReport report = found.await();

    assertThat(found.coordinator()).isEqualTo(members.get(1).getCluster().getLocalMember().getUuid());
    assertThat(found.takeovers()).isEqualTo(1);
    assertThat(report.status()).as("%s", report.failure()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(report.runId()).isEqualTo(run.id());
    assertThat(report.result(sumOf(report))).isEqualTo(6 + 6 * 5 / 2);
    assertThat(report.node("seed").status()).isEqualTo(NodeStatus.CACHED);
    assertThat(cluster.get(1).find(run.id()).orElseThrow().await().nodes())
        .isEqualTo(report.nodes());
  }

  @Test
  void runsKeepTheirValuesToThemselvesUnlessMembersAskForMemoization() throws Exception {
    ClusterExecutor plain = serve(0, () -> fanOut("plain", 4, port(0), null), 2, null);
    ClusterExecutor memo = ClusterExecutor.builder(members.get(1))
        .withDag("memo", () -> fanOut("memo", 4, port(1), null)).withMaxConcurrentNodes(2)
        .withMemoization(true).build();
    executors.add(memo);

    plain.run("plain");
    RunReport again = plain.run("plain");
    memo.run("memo");
    RunReport memoized = memo.run("memo");

    assertThat(again.count(NodeStatus.SUCCEEDED)).isEqualTo(again.dag().size());
    assertThat(memoized.count(NodeStatus.CACHED)).isEqualTo(memoized.dag().size());
  }

  @Test
  void waitingForARunThatNoMemberCanFinishFailsInsteadOfHanging() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    ClusterExecutor coordinator = serve(0, () -> fanOut("stranded", 2, port(0), gate), 2, null);
    // Member 1 builds its DAG of that name with another shape: it may not take the run over.
    ClusterExecutor other = serve(1, () -> fanOut("stranded", 3, port(1), null), 2, null);
    ClusterRun run = coordinator.start("stranded");
    awaitStarted(2);

    members.get(0).getLifecycleService().terminate();
    gate.countDown();
    ClusterRun found = other.find(run.id()).orElseThrow();

    assertThatThrownBy(found::await).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no member serving that DAG is left to take it over");
  }
}
