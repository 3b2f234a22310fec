package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class ExecutorTest {

  @Test
  void valuesFlowThroughEveryArity() {
    DagBuilder b = Dag.builder("arity");
    Node<Integer> a = b.task("a", () -> 1);
    Node<Integer> two = b.task("two", a, x -> x + 1);
    Node<Integer> three = b.task("three", a, two, (x, y) -> x + y);
    Node<Integer> four = b.task("four", a, a, two, (x, y, z) -> x + y + z);
    Node<Integer> ten = b.task("ten", a, two, three, four, (w, x, y, z) -> w + x + y + z);
    Node<String> all = b.task("all", a, two, three, four, ten,
        (v, w, x, y, z) -> v + "," + w + "," + x + "," + y + "," + z);
    RunReport report = b.build().run();

    assertThat(report.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(report.result(all)).isEqualTo("1,2,3,4,10");
    assertThat(report.count(NodeStatus.SUCCEEDED)).isEqualTo(6);
  }

  @Test
  void fansOutOverACollectionProducedAtRunTimeAndFansBackIn() {
    DagBuilder b = Dag.builder("fan");
    Node<List<Integer>> numbers = b.task("numbers", () -> IntStream.range(0, 1000).boxed().toList());
    Node<List<Integer>> squares = b.map("squares", numbers, x -> x * x);
    Node<Long> sum = b.task("sum", squares, xs -> xs.stream().mapToLong(Integer::longValue).sum());
    RunReport report = b.build().run();

    assertThat(report.result(sum)).isEqualTo(IntStream.range(0, 1000).mapToLong(x -> (long) x * x).sum());
    assertThat(report.node("squares").attempts()).isEqualTo(1000);
  }

  @Test
  void mapKeepsOrderAndNullsAndHandlesEmptyCollections() {
    DagBuilder b = Dag.builder("map-edges");
    Node<List<String>> words = b.task("words", () -> List.of("a", "", "ccc"));
    Node<List<Integer>> lengths = b.node("lengths").retain().map(words, w -> w.isEmpty() ? null : w.length());
    Node<List<Integer>> none = b.task("none", () -> List.<Integer>of());
    Node<List<Integer>> mappedNone = b.map("mappedNone", none, x -> x);
    RunReport report = b.build().run();

    assertThat(report.result(lengths)).containsExactly(1, null, 3);
    assertThat(report.result(mappedNone)).isEmpty();
  }

  @Test
  void aMapOverNullFailsWithTheInputsName() {
    DagBuilder b = Dag.builder("map-null");
    Node<List<Integer>> nothing = b.task("nothing", () -> null);
    b.map("each", nothing, x -> x);
    RunReport report = b.build().run();

    assertThat(report.status()).isEqualTo(RunStatus.FAILED);
    assertThat(report.node("each").error())
        .isInstanceOf(TaskFailedException.class)
        .hasMessageContaining("map node 'each' needs a collection from its input 'nothing', got null");
  }

  @Test
  void fanInReceivesValuesInOrder() {
    DagBuilder b = Dag.builder("fan-in");
    List<Node<Integer>> parts = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      int v = i;
      parts.add(b.task("p" + i, () -> v));
    }
    Node<List<Integer>> all = b.fanIn("all", parts, List::copyOf);
    RunReport report = b.build().run();

    assertThat(report.result(all)).isEqualTo(IntStream.range(0, 50).boxed().toList());
  }

  @Test
  void nullIsAValue() {
    DagBuilder b = Dag.builder("nulls");
    Node<String> nothing = b.task("nothing", () -> null);
    Node<Boolean> isNull = b.task("isNull", nothing, v -> v == null);
    assertThat(b.build().run().result(isNull)).isTrue();
  }

  @Test
  void keepsSinksAndRetainedNodesOnly() {
    DagBuilder b = Dag.builder("keep");
    Node<Integer> a = b.task("a", () -> 1);
    Node<Integer> kept = b.node("kept").retain().task(a, x -> x + 1);
    Node<Integer> sink = b.task("sink", kept, x -> x + 1);
    RunReport report = b.build().run();

    assertThat(report.result(sink)).isEqualTo(3);
    assertThat(report.result(kept)).isEqualTo(2);
    assertThatThrownBy(() -> report.result(a))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("value of node 'a' was released")
        .hasMessageContaining("retain()");
  }

  @Test
  void releasesAValueOnceItsLastConsumerFinished() throws Exception {
    CountDownLatch consumed = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    DagBuilder b = Dag.builder("release");
    Node<String> big = b.task("big", () -> "payload");
    Node<Integer> length = b.task("length", big, String::length);
    Node<Integer> done = b.task("done", length, n -> {
      consumed.countDown();
      proceed.await();
      return n;
    });
    Execution run = b.build().start();
    consumed.await();
    CompletableFuture<String> late = run.future(big);
    proceed.countDown();
    RunReport report = run.await();

    assertThat(report.result(done)).isEqualTo(7);
    assertThatThrownBy(late::get)
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("value of node 'big' was released");
  }

  /** docs/dag.md, "Values": a released value's future fails, also when asked after the run. */
  @Test
  void aFutureAskedAfterTheRunForAReleasedValueFailsRatherThanGivingNull() throws Exception {
    DagBuilder b = Dag.builder("late");
    Node<Integer> four = b.task("four", () -> 4);
    Node<Integer> eight = b.task("eight", four, x -> x * 2);
    Node<Integer> kept = b.node("kept").retain().task(four, x -> x + 1);
    Node<Integer> sink = b.task("sink", eight, kept, Integer::sum);
    Execution run = b.build().start();
    RunReport report = run.await();

    assertThat(report.result(sink)).isEqualTo(13);
    assertThatThrownBy(() -> run.future(eight).get())
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("value of node 'eight' was released");
    assertThat(run.future(kept).get()).isEqualTo(5);
    assertThat(run.future(sink).get()).isEqualTo(13);
  }

  @Test
  void runsTheSameDagManyTimesConcurrently() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    DagBuilder b = Dag.builder("shared");
    Node<Integer> seed = b.task("seed", calls::incrementAndGet);
    Node<List<Integer>> range = b.task("range", seed, s -> IntStream.range(0, 20).boxed().toList());
    Node<List<Integer>> plus = b.map("plus", range, x -> x + 1);
    Node<Integer> sum = b.task("sum", plus, xs -> xs.stream().mapToInt(Integer::intValue).sum());
    Dag dag = b.build();

    List<Execution> runs = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      runs.add(dag.start());
    }
    for (Execution run : runs) {
      assertThat(run.await().result(sum)).isEqualTo(210);
    }
    assertThat(calls).hasValue(32);
    assertThat(runs.stream().map(Execution::runId).distinct()).hasSize(32);
  }

  @Test
  void anEmptyDagSucceedsAtOnce() {
    RunReport report = Dag.builder("empty").build().run();
    assertThat(report.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(report.nodes()).isEmpty();
  }

  @Test
  void runsOnAGivenExecutor() {
    ExecutorService pool = Executors.newFixedThreadPool(2, r -> new Thread(r, "custom-pool"));
    try {
      List<String> threads = Collections.synchronizedList(new ArrayList<>());
      DagBuilder b = Dag.builder("custom");
      Node<Integer> a = b.task("a", () -> {
        threads.add(Thread.currentThread().getName());
        return 1;
      });
      b.task("b", a, x -> {
        threads.add(Thread.currentThread().getName());
        return x;
      });
      RunReport report = DagExecutor.builder().withExecutor(pool).build().run(b.build());

      assertThat(report.succeeded()).isTrue();
      assertThat(threads).containsOnly("custom-pool");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void tasksRunOnVirtualThreadsByDefault() {
    DagBuilder b = Dag.builder("virtual");
    Node<Boolean> virtual = b.task("virtual", () -> Thread.currentThread().isVirtual());
    assertThat(b.build().run().result(virtual)).isTrue();
  }

  @Test
  void reportsTimesAttemptsAndBackendPerNode() {
    DagBuilder b = Dag.builder("times");
    Node<Integer> a = b.task("a", () -> {
      Thread.sleep(20);
      return 1;
    });
    b.task("b", a, x -> x);
    RunReport report = b.build().run();

    NodeReport ra = report.node(a);
    NodeReport rb = report.node("b");
    assertThat(ra.status()).isEqualTo(NodeStatus.SUCCEEDED);
    assertThat(ra.attempts()).isEqualTo(1);
    assertThat(ra.backend()).isEqualTo("java");
    assertThat(ra.error()).isNull();
    assertThat(ra.duration()).hasValueSatisfying(d -> assertThat(d.toMillis()).isGreaterThanOrEqualTo(19));
    assertThat(rb.startedAt()).isAfterOrEqualTo(ra.finishedAt());
    assertThat(report.startedAt()).isBeforeOrEqualTo(ra.startedAt());
    assertThat(report.finishedAt()).isAfterOrEqualTo(rb.finishedAt());
    assertThat(report.nodes()).extracting(NodeReport::name).containsExactly("a", "b");
    assertThatThrownBy(() -> report.node("zzz")).hasMessageContaining("no node named 'zzz'");
  }

  @Test
  void refusesNodesOfOtherDags() {
    DagBuilder b = Dag.builder("one");
    b.task("a", () -> 1);
    RunReport report = b.build().run();
    DagBuilder other = Dag.builder("two");
    Node<Integer> foreign = other.task("a", () -> 1);

    assertThatThrownBy(() -> report.node(foreign))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("node 'a' does not belong to DAG 'one'");
  }
}
