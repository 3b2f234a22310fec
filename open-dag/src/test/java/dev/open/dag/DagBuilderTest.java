package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.open.dag.policy.RetryPolicy;

class DagBuilderTest {

  @Test
  void buildsTypedNodesInTopologicalOrder() {
    DagBuilder b = Dag.builder("shop");
    Node<Integer> price = b.task("price", () -> 20);
    Node<Integer> qty = b.task("qty", () -> 3);
    Node<Integer> total = b.task("total", price, qty, (p, q) -> p * q);
    Dag dag = b.build();

    assertThat(dag.name()).isEqualTo("shop");
    assertThat(dag.size()).isEqualTo(3);
    assertThat(dag.edgeCount()).isEqualTo(2);
    assertThat(dag.nodes().indexOf(total)).isGreaterThan(dag.nodes().indexOf(price));
    assertThat(dag.node("total")).containsSame(total);
    assertThat(dag.consumers(price)).containsExactly(total);
    assertThat(total.inputs()).containsExactly(price, qty);
    assertThat(total.backend()).isEqualTo("java");
  }

  @Test
  void reportsACycleAsThePathThatClosesIt() {
    DagBuilder b = Dag.builder("loop");
    Node<Integer> c = b.declare("c");
    Node<Integer> a = b.task("a", c, x -> x + 1);
    Node<Integer> bb = b.task("b", a, x -> x + 1);
    b.task("c", bb, x -> x + 1);
    b.task("outside", () -> 1);

    DagValidationException e = catchThrowableOfType(DagValidationException.class, b::build);

    assertThat(e.problems()).containsExactly("cycle: c -> a -> b -> c");
    assertThat(e.dag()).isEqualTo("loop");
    assertThat(e).hasMessageContaining("DAG 'loop' is invalid (1 problem)")
        .hasMessageContaining("cycle: c -> a -> b -> c");
  }

  @Test
  void reportsASelfLoopAndSeveralCyclesAtOnce() {
    DagBuilder b = Dag.builder("loops");
    Node<Integer> self = b.declare("self");
    b.task("self", self, x -> x);
    Node<Integer> y = b.declare("y");
    Node<Integer> x = b.task("x", y, v -> v);
    b.task("y", x, v -> v);

    DagValidationException e = catchThrowableOfType(DagValidationException.class, b::build);

    assertThat(e.problems()).containsExactlyInAnyOrder("cycle: self -> self", "cycle: y -> x -> y");
  }

  @Test
  void reportsEveryProblemAtOnceWithNames() {
    DagBuilder other = Dag.builder("other");
    Node<Integer> foreign = other.task("foreign", () -> 1);

    DagBuilder b = Dag.builder("bad");
    Node<Integer> one = b.task("one", () -> 1);
    b.task("one", () -> 2);
    b.task(null, () -> 3);
    b.task(" ", () -> 4);
    b.task("noTask", one, (Task1<Integer, Integer>) null);
    b.task("usesForeign", foreign, v -> v);
    b.task("nullInput", (Node<Integer>) null, v -> v);
    b.declare("ghost");

    DagValidationException e = catchThrowableOfType(DagValidationException.class, b::build);

    assertThat(e.problems()).containsExactlyInAnyOrder(
        "duplicate node name 'one' (nodes #0 and #1)",
        "node #2 has no name",
        "node #3 has a blank name",
        "node 'noTask' has no task",
        "node 'usesForeign' uses input 'foreign' of another DAG ('other')",
        "node 'nullInput' has a null input (#1)",
        "node 'ghost' was declared but never defined");
  }

  @Test
  void nothingRunsWhenValidationFails() {
    AtomicInteger runs = new AtomicInteger();
    DagBuilder b = Dag.builder("bad");
    b.task("a", () -> runs.incrementAndGet());
    b.task("a", () -> runs.incrementAndGet());

    assertThatThrownBy(b::build).isInstanceOf(DagValidationException.class);
    assertThat(runs).hasValue(0);
  }

  @Test
  void findsCyclesInLongChainsWithoutOverflowingTheStack() {
    DagBuilder b = Dag.builder("long-loop");
    Node<Integer> first = b.declare("n0");
    Node<Integer> prev = first;
    for (int i = 1; i < 200_000; i++) {
      prev = b.task("n" + i, prev, v -> v);
    }
    b.task("n0", prev, v -> v);

    DagValidationException e = catchThrowableOfType(DagValidationException.class, b::build);

    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().get(0)).startsWith("cycle: n0 -> n1 -> n2 -> ").endsWith("-> n0");
  }

  @Test
  void aBuilderBuildsOnce() {
    DagBuilder b = Dag.builder("once");
    b.task("a", () -> 1);
    b.build();

    assertThatThrownBy(() -> b.task("b", () -> 2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already built DAG 'once'");
    assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void nodeOptionsAreCheckedAtTheDoorAndRefusedTwice() {
    DagBuilder b = Dag.builder("options");
    NodeSpec spec = b.node("a").withTimeout(Duration.ofSeconds(1));

    assertThatThrownBy(() -> spec.withTimeout(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("timeout of 'a' was already set to PT1S");
    assertThatThrownBy(() -> b.node("x").withTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
    assertThatThrownBy(() -> b.node("x").withRetry(null))
        .isInstanceOf(NullPointerException.class).hasMessage("policy");
    assertThatThrownBy(() -> b.node("x").withTags("ok", " "))
        .isInstanceOf(IllegalArgumentException.class);

    Node<Integer> a = spec.withRetry(RetryPolicy.none()).withTags("db", "db").retain().task(() -> 1);
    assertThat(a.tags()).containsExactly("db");
    assertThat(a.isRetained()).isTrue();
    assertThatThrownBy(() -> spec.task(() -> 2))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already added");
  }

  @Test
  void fanInAndMapNodesHaveTheirInputs() {
    DagBuilder b = Dag.builder("shapes");
    Node<Integer> x = b.task("x", () -> 1);
    Node<Integer> y = b.task("y", () -> 2);
    Node<Integer> sum = b.fanIn("sum", List.of(x, y), xs -> xs.get(0) + xs.get(1));
    Node<List<Integer>> list = b.task("list", sum, s -> List.of(s, s));
    Node<List<Integer>> doubled = b.map("doubled", list, v -> v * 2);
    Dag dag = b.build();

    assertThat(sum.inputs()).containsExactly(x, y);
    assertThat(doubled.inputs()).containsExactly(list);
    assertThat(dag.run().result(doubled)).containsExactly(6, 6);
  }

  /**
   * docs/dag.md, "Validation": the example message there is the one this DAG gets, word for
   * word, so the guide shows what a user will read.
   */
  @Test
  void theValidationMessageInTheGuideIsTheRealOne() throws Exception {
    DagBuilder billing = Dag.builder("billing");
    Node<String> orders = billing.task("orders", () -> "o");
    DagBuilder b = Dag.builder("etl");
    Node<String> load = b.declare("load");
    Node<String> parse = b.task("parse", load, x -> x);
    Node<String> enrich = b.task("enrich", parse, x -> x);
    b.task("load", enrich, x -> x);
    b.task("parse", () -> "again");
    b.task("report", orders, x -> x);
    DagValidationException e = catchThrowableOfType(DagValidationException.class, b::build);

    String guide = java.nio.file.Files.readString(java.nio.file.Path.of(
        System.getProperty("open.repo", "..")).resolve("docs/dag.md"));
    int start = guide.indexOf("DAG 'etl' is invalid");
    assertThat(start).as("the example in docs/dag.md").isPositive();
    String example = guide.substring(start, guide.indexOf("```", start)).strip();
    assertThat(e.getMessage().strip()).isEqualTo(example);
  }
}
