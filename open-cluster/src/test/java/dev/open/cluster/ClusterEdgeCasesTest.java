package dev.open.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.core.HazelcastInstance;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;

/**
 * Edge cases found by a stranger's review of open-cluster. Each test failed before its fix; its
 * comment describes the defect it caught (in the past tense of the code, the present tense of
 * the comment), so that the test's reason stays readable.
 */
@Timeout(60)
class ClusterEdgeCasesTest {
  private List<HazelcastInstance> members = new ArrayList<>();
  private final List<ClusterExecutor> executors = new ArrayList<>();

  @AfterEach
  void shutdown() {
    executors.forEach(ClusterExecutor::close);
    members.forEach(m -> m.getLifecycleService().terminate());
  }

  private ClusterExecutor serve(HazelcastInstance hz, Dag dag) {
    ClusterExecutor e = ClusterExecutor.builder(hz).withDag(dag.name(), () -> dag)
        .withMaxConcurrentNodes(2).build();
    executors.add(e);
    return e;
  }

  // ---------------------------------------------------------------------------------------------
  // Failures.decode: an exception that is written but rejected (or unknown) on reading

  /** A detail that is Serializable but neither a Throwable nor a java.* class. */
  record Detail(String text) implements Serializable {}

  static final class DetailedException extends Exception {
    private static final long serialVersionUID = 1L;
    final Detail detail;

    DetailedException(String message, Detail detail) {
      super(message);
      this.detail = detail;
    }
  }

  /**
   * docs/cluster.md §8: "An exception that cannot be serialized or read arrives as a
   * RemoteTaskException with the original class name, message and stack trace." One that is
   * written fine but rejected by the read filter arrives as "java.io.InvalidClassException" with
   * the filter's message: the task's class and message are gone.
   */
  @Test
  void anExceptionTheFilterRejectsStillArrivesWithItsClassAndMessage() {
    DetailedException original = new DetailedException("the disk is full", new Detail("sda1"));

    Throwable arrived = Failures.decode(Failures.encode(original));

    assertThat(arrived).isInstanceOf(RemoteTaskException.class);
    assertThat(((RemoteTaskException) arrived).originalClass())
        .isEqualTo(DetailedException.class.getName());
    assertThat(arrived).hasMessageContaining("the disk is full");
  }

  /**
   * The same defect on the path docs/cluster.md §6 documents: an attempt that lost its member too
   * often fails with MemberLostException, whose cause is Hazelcast's MemberLeftException (it
   * writes the member's Address). The coordinator keeps the exception; every other member reads
   * the report's copy through the filter, which rejects the Address: there the node's error is a
   * RemoteTaskException for "java.io.InvalidClassException", not MemberLostException.
   */
  @Test
  void aMemberLostExceptionReadsBackAsItselfOnOtherMembers() {
    members = TestMembers.start(1);
    MemberLostException lost = new MemberLostException("part3 lost its member 4 times",
        new com.hazelcast.core.MemberLeftException(members.get(0).getCluster().getLocalMember()));

    Throwable arrived = Failures.decode(Failures.encode(lost));

    assertThat(arrived).hasMessageContaining("part3 lost its member 4 times");
    assertThat(arrived).isInstanceOfAny(MemberLostException.class, RemoteTaskException.class);
    if (arrived instanceof RemoteTaskException remote) {
      assertThat(remote.originalClass()).isEqualTo(MemberLostException.class.getName());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // build(): the user-context entry is taken before steps that can still fail

  /**
   * The constructor puts itself in the instance's user context, then adds the executor config.
   * When that throws (a configuration of the same name already exists with another pool size,
   * e.g. in hazelcast.yaml, or from an earlier build), the entry stays: every later build on the
   * instance fails with "already serves", and NodeTasks arriving there run on a half-built
   * executor.
   */
  @Test
  void aBuildThatFailsDoesNotLeaveTheInstanceTaken() {
    members = TestMembers.start(1);
    HazelcastInstance hz = members.get(0);
    hz.getConfig().addExecutorConfig(
        new ExecutorConfig(ClusterExecutor.executorName(2)).setPoolSize(7));
    Dag dag = constant("taken");

    assertThatThrownBy(() -> ClusterExecutor.builder(hz).withDag("taken", () -> dag)
        .withMaxConcurrentNodes(2).build()).isNotNull();

    assertThat(hz.getUserContext()).doesNotContainKey(ClusterExecutor.USER_CONTEXT_KEY);
    ClusterExecutor again = ClusterExecutor.builder(hz).withDag("taken", () -> dag)
        .withMaxConcurrentNodes(3).build();
    executors.add(again);
  }

  // ---------------------------------------------------------------------------------------------
  // Placement.place: Hazelcast's future.get() does not throw InterruptedException

  /** A node that blocks (interruptibly) for up to 30 s, counting its entries. */
  static Dag blocking(String name, Duration timeout, CountDownLatch entered) {
    DagBuilder b = Dag.builder(name);
    dev.open.dag.NodeSpec node = b.node("block");
    if (timeout != null) {
      node = node.withTimeout(timeout);
    }
    node.task(() -> {
      entered.countDown();
      new CountDownLatch(1).await(30, TimeUnit.SECONDS); // interruptible
      return 1;
    });
    return b.build();
  }

  /**
   * TaskPlacement's contract and docs/cluster.md §4: on expiry the coordinator cancels the attempt
   * on its member and it fails with TaskTimeoutException. Placement waits with Hazelcast's
   * InvocationFuture.get(), which parks again when interrupted (it only restores the flag once
   * the result is in): the catch (InterruptedException) that cancels the remote task never runs,
   * and the timed-out attempt waits for the task to end on its own — forever for a stuck one.
   */
  @Test
  void aPlacedAttemptThatTimesOutIsStoppedAtItsTimeout() throws Exception {
    members = TestMembers.start(2);
    CountDownLatch entered = new CountDownLatch(1);
    Dag dag = blocking("timeout", Duration.ofSeconds(1), entered);
    ClusterExecutor coordinator = serve(members.get(0), dag);
    serve(members.get(1), dag);

    ClusterRun run = coordinator.start("timeout");
    RunReport report = run.await(Duration.ofSeconds(10)); // 1 s timeout; the task blocks 30 s

    assertThat(report.node("block").error())
        .hasCauseInstanceOf(dev.open.dag.TaskTimeoutException.class);
  }

  /**
   * docs/cluster.md §3.2: interrupting run() cancels the run, waits for it to stop and returns
   * the cancelled report. The cancel interrupts the run's thread in Placement.place, which does
   * not notice (same cause as above): run() blocks until the remote task ends by itself.
   */
  @Test
  void interruptingRunCancelsAPlacedAttemptPromptly() throws Exception {
    members = TestMembers.start(2);
    CountDownLatch entered = new CountDownLatch(1);
    Dag dag = blocking("cancel", null, entered);
    ClusterExecutor coordinator = serve(members.get(0), dag);
    serve(members.get(1), dag);
    AtomicReference<RunReport> cancelled = new AtomicReference<>();
    Thread caller = Thread.ofVirtual().start(() -> cancelled.set(coordinator.run("cancel")));
    assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();

    caller.interrupt();
    caller.join(10_000);

    assertThat(cancelled.get()).as("run() returned within 10 s of the interrupt").isNotNull();
    assertThat(cancelled.get().status()).isEqualTo(RunStatus.CANCELLED);
  }

  // ---------------------------------------------------------------------------------------------
  // close(): the listeners go, and with them the placement's view of the cluster

  /**
   * docs/cluster.md §3.2: after close(), runs the member coordinates go on, their nodes placed on
   * other members. close() removes the membership and open.members listeners that feed its
   * Placement, so the view freezes: a member that dies afterwards stays in it and keeps being
   * chosen (each pick a relocation; here, with none allowed, a failed node).
   */
  @Test
  void aClosedCoordinatorStopsPlacingOnAMemberThatDiedAfterwards() throws Exception {
    members = TestMembers.start(3);
    CountDownLatch gate = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    java.util.function.Supplier<Dag> dag = () -> {
      DagBuilder b = Dag.builder("frozen");
      dev.open.dag.Node<Integer> first = b.task("first", () -> {
        entered.countDown();
        gate.await();
        return 1;
      });
      List<dev.open.dag.Node<Integer>> parts = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        int k = i;
        parts.add(b.task("part" + i, first, x -> x + k));
      }
      b.fanIn("sum", parts, v -> v.stream().mapToInt(Integer::intValue).sum());
      return b.build();
    };
    int[] capacity = {4, 1, 4}; // the first node goes to member 0 or 2, never to member 1
    List<ClusterExecutor> cluster = new ArrayList<>();
    for (int m = 0; m < 3; m++) {
      ClusterExecutor e = ClusterExecutor.builder(members.get(m)).withDag("frozen", dag)
          .withMaxConcurrentNodes(capacity[m]).withMaxRelocations(0).build();
      executors.add(e);
      cluster.add(e);
    }
    ClusterRun run = cluster.get(0).start("frozen");
    assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();

    cluster.get(0).close();
    members.get(1).getLifecycleService().terminate();
    ClusterExecutorTest.awaitTrue(() -> members.get(0).getCluster().getMembers().size() == 2,
        () -> "member 1 gone");
    gate.countDown();
    RunReport report = run.await(Duration.ofSeconds(30));

    assertThat(report.status()).as("%s", report.failure()).isEqualTo(RunStatus.SUCCEEDED);
  }

  // ---------------------------------------------------------------------------------------------
  // ClusterStore: a run's own values expire `retention` after they were written, run or no run

  /**
   * docs/cluster.md §2.4 and withMemoization's javadoc: a run's own values "expire with the
   * run's retention", so that a member taking the run over reuses them. ClusterStore puts each
   * with TTL = retention from the moment it is written, while the run still goes on: a run that
   * outlives its retention (here 3 s; with the default, any run longer than a day) loses its
   * early values, and a takeover recomputes them.
   */
  @Test
  void aTakeoverReusesValuesStoredLongerAgoThanTheRetention() throws Exception {
    members = TestMembers.start(2);
    CountDownLatch gate = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    java.util.function.Supplier<Dag> dag = () -> {
      DagBuilder b = Dag.builder("long");
      dev.open.dag.Node<Integer> seed = b.task("seed", () -> 1);
      b.task("slow", seed, x -> {
        entered.countDown();
        gate.await();
        return x + 1;
      });
      return b.build();
    };
    List<ClusterExecutor> cluster = new ArrayList<>();
    for (HazelcastInstance hz : members) {
      ClusterExecutor e = ClusterExecutor.builder(hz).withDag("long", dag)
          .withMaxConcurrentNodes(2).withRunRetention(Duration.ofSeconds(3)).build();
      executors.add(e);
      cluster.add(e);
    }
    ClusterRun run = cluster.get(0).start("long");
    assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(5_000); // the run is still going: longer than its retention

    members.get(0).getLifecycleService().terminate();
    ClusterRun found = cluster.get(1).find(run.id()).orElseThrow();
    ClusterExecutorTest.awaitTrue(() -> found.takeovers() > 0, () -> "a takeover");
    gate.countDown();
    RunReport report = found.await(Duration.ofSeconds(30));

    assertThat(report.succeeded()).as("%s", report.failure()).isTrue();
    assertThat(report.node("seed").status()).isEqualTo(dev.open.dag.NodeStatus.CACHED);
  }

  static Dag constant(String name) {
    DagBuilder b = Dag.builder(name);
    b.task("one", () -> 1);
    return b.build();
  }
}
