package dev.open.dag.durable;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.open.dag.CacheOutcome;
import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.export.DagExport;
import dev.open.dag.metrics.DagMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Resume and memoization through a result store: what runs again, what is loaded, and what the
 * report says about why.
 */
class DurableRunTest {
  private final MemoryStore store = new MemoryStore();
  private final DagExecutor executor = DagExecutor.builder().withResultStore(store).build();
  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  /** The knobs a test turns between runs. */
  private String sourceValue = "a";
  private String transformVersion = null;
  private int transformOffset = 0;

  private int ran(String node) {
    AtomicInteger n = runs.get(node);
    return n == null ? 0 : n.get();
  }

  private void count(String node) {
    runs.computeIfAbsent(node, k -> new AtomicInteger()).incrementAndGet();
  }

  /**
   * source (opted out: reads the outside world) → transform → report; constant → side → report.
   */
  private Dag pipeline() {
    DagBuilder b = Dag.builder("pipeline");
    Node<String> source = b.node("source").withCache(false).task(() -> {
      count("source");
      return sourceValue;
    });
    var spec = b.node("transform");
    if (transformVersion != null) {
      spec = spec.withVersion(transformVersion);
    }
    Node<Integer> transform = spec.task(source, s -> {
      count("transform");
      return s.length() + transformOffset;
    });
    Node<List<Integer>> constant = b.task("constant", () -> {
      count("constant");
      return List.of(1, 2, 3);
    });
    Node<Integer> side = b.task("side", constant, l -> {
      count("side");
      return l.stream().mapToInt(i -> i).sum();
    });
    b.task("report", transform, side, (t, s) -> {
      count("report");
      return "t=" + t + " s=" + s;
    });
    return b.build();
  }

  private static String report(RunReport r) {
    return (String) r.result(r.dag().node("report").orElseThrow());
  }

  @Test
  void aSecondRunLoadsEveryCacheableNodeAndRunsNone() {
    RunReport first = executor.run(pipeline());
    RunReport second = executor.run(pipeline());

    assertThat(second.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(report(second)).isEqualTo(report(first)).isEqualTo("t=1 s=6");
    for (String node : List.of("transform", "constant", "side", "report")) {
      assertThat(ran(node)).as(node).isEqualTo(1);
      assertThat(second.node(node).status()).as(node).isEqualTo(NodeStatus.CACHED);
      assertThat(second.node(node).cache().kind()).isEqualTo(CacheOutcome.Kind.HIT);
    }
    assertThat(ran("source")).isEqualTo(2); // opted out: runs every time
    assertThat(second.node("source").cache().kind()).isEqualTo(CacheOutcome.Kind.OFF);
    assertThat(second.node("source").cache().reason()).contains("withCache(false) on the node");
    assertThat(second.count(NodeStatus.CACHED)).isEqualTo(4);
    assertThat(second.counts()).containsEntry(NodeStatus.CACHED, 4)
        .containsEntry(NodeStatus.SUCCEEDED, 1);
    assertThat(first.node("transform").cache().reason())
        .isEqualTo("no entry: the node's first run with this store");
  }

  @Test
  void aChangedInputValueRerunsExactlyItsCone() {
    executor.run(pipeline());
    sourceValue = "abc";
    RunReport second = executor.run(pipeline());

    assertThat(report(second)).isEqualTo("t=3 s=6");
    assertThat(ran("transform")).isEqualTo(2);
    assertThat(ran("report")).isEqualTo(2);
    assertThat(ran("constant")).isEqualTo(1);
    assertThat(ran("side")).isEqualTo(1);
    assertThat(second.node("transform").cache().reason())
        .startsWith("the value of input 'source' (").endsWith(") changed");
    assertThat(second.node("report").cache().reason())
        .startsWith("the value of input 'transform' (");
  }

  @Test
  void aChangedVersionRerunsTheNodeAndOnlyTheDependantsWhoseInputChanged() {
    executor.run(pipeline());
    transformVersion = "2";
    RunReport sameValue = executor.run(pipeline());

    assertThat(ran("transform")).isEqualTo(2);
    assertThat(sameValue.node("transform").cache().reason())
        .isEqualTo("the node's version changed (none → '2')");
    // transform produced the same value: report's key is unchanged, so it is loaded.
    assertThat(ran("report")).isEqualTo(1);
    assertThat(sameValue.node("report").status()).isEqualTo(NodeStatus.CACHED);

    transformOffset = 10;
    transformVersion = "3";
    RunReport newValue = executor.run(pipeline());
    assertThat(report(newValue)).isEqualTo("t=11 s=6");
    assertThat(ran("transform")).isEqualTo(3);
    assertThat(ran("report")).isEqualTo(2);
    assertThat(ran("side")).isEqualTo(1);
  }

  @Test
  void aValueWithoutACodecIsComputedEveryTimeAndSaysWhy() {
    Dag dag = uncacheable();
    executor.run(dag);
    RunReport second = executor.run(uncacheable());

    assertThat(ran("thread")).isEqualTo(2);
    assertThat(ran("name")).isEqualTo(2);
    assertThat(second.node("thread").cache().kind()).isEqualTo(CacheOutcome.Kind.NOT_CACHEABLE);
    assertThat(second.node("thread").cache().reason())
        .isEqualTo("its value has no codec (java.lang.Object)");
    assertThat(second.node("name").cache().reason())
        .isEqualTo("the value of its input 'thread' has no codec");
  }

  private Dag uncacheable() {
    DagBuilder b = Dag.builder("uncacheable");
    Node<Object> thread = b.task("thread", () -> {
      count("thread");
      return new Object();
    });
    b.task("name", thread, t -> {
      count("name");
      return "x";
    });
    return b.build();
  }

  @Test
  void aStoreThatCannotWriteCostsTheCacheNotTheRun() {
    store.failWrites = true;
    RunReport report = executor.run(pipeline());

    assertThat(report.status()).isEqualTo(RunStatus.SUCCEEDED);
    CacheOutcome outcome = report.node("transform").cache();
    assertThat(outcome.kind()).isEqualTo(CacheOutcome.Kind.MISS);
    assertThat(outcome.stored()).isFalse();
    assertThat(outcome.reason()).endsWith("and the value could not be stored");
    store.failWrites = false;
    executor.run(pipeline());
    assertThat(ran("transform")).isEqualTo(2);
  }

  @Test
  void aCorruptEntryIsRecomputedNotReturned() {
    RunReport first = executor.run(pipeline());
    store.corruptAll();
    RunReport second = executor.run(pipeline());

    assertThat(report(second)).isEqualTo(report(first));
    assertThat(ran("constant")).isEqualTo(2);
    assertThat(second.node("constant").cache().reason())
        .startsWith("its entry could not be decoded");
    RunReport third = executor.run(pipeline());
    assertThat(third.node("constant").status()).isEqualTo(NodeStatus.CACHED);
  }

  @Test
  void mapNodesCacheEachElementBySoItsValue() {
    List<Integer> items = new ArrayList<>(List.of(1, 2, 3, 4));
    DagExecutor ex = executor;
    RunReport first = ex.run(squares(items));
    items.set(2, 30);
    RunReport second = ex.run(squares(items));

    assertThat(second.result(second.dag().node("squares").orElseThrow()))
        .isEqualTo(List.of(1, 4, 900, 16));
    assertThat(ran("square")).isEqualTo(5); // 4, then only the changed element
    assertThat(second.node("squares").status()).isEqualTo(NodeStatus.SUCCEEDED);
    assertThat(second.node("squares").cache().reason())
        .isEqualTo("3 of 4 elements found, 1 computed");
    RunReport third = ex.run(squares(items));
    assertThat(third.node("squares").status()).isEqualTo(NodeStatus.CACHED);
    assertThat(first.node("squares").status()).isEqualTo(NodeStatus.SUCCEEDED);
  }

  private Dag squares(List<Integer> items) {
    DagBuilder b = Dag.builder("squares");
    Node<List<Integer>> in = b.node("items").withCache(false).task(() -> List.copyOf(items));
    b.map("squares", in, i -> {
      count("square");
      return i * i;
    });
    return b.build();
  }

  @Test
  void listenersMetricsAndExportsSeeCachedNodes() {
    executor.run(pipeline());
    List<String> cached = new ArrayList<>();
    List<String> started = new ArrayList<>();
    DagExecutor listening = DagExecutor.builder().withResultStore(store)
        .withListener(new ExecutionListener() {
          @Override
          public void onTaskCached(TaskEvent event) {
            synchronized (cached) {
              cached.add(event.node());
            }
          }

          @Override
          public void onTaskStarted(TaskEvent event) {
            synchronized (started) {
              started.add(event.node());
            }
          }
        }).build();
    Dag dag = pipeline();
    RunReport second = listening.run(dag);

    assertThat(cached).containsExactlyInAnyOrder("transform", "constant", "side", "report");
    assertThat(started).containsExactly("source");
    assertThat(DagExport.mermaid(dag, second)).contains("classDef cached").contains(":::cached");
    assertThat(second.summary()).contains("4 cached");

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DagExecutor.builder().withResultStore(store).withListener(new DagMetrics(registry, false))
        .build().run(squares(List.of(1, 2)));
    DagExecutor.builder().withResultStore(store).withListener(new DagMetrics(registry, false))
        .build().run(squares(List.of(1, 2)));
    // The second run loads both nodes' values: the map node started and was then found whole.
    assertThat(registry.get("open.dag.tasks.cached").counters().stream()
        .mapToDouble(c -> c.count()).sum()).isEqualTo(1.0);
    assertThat(registry.get("open.dag.tasks.running").gauge().value()).isZero();
  }

  @Test
  void optingOutAtTheDagOrExecutorLevelTurnsTheStoreOff() {
    DagExecutor optIn = DagExecutor.builder().withResultStore(store).withCacheByDefault(false)
        .build();
    RunReport report = optIn.run(pipeline());
    assertThat(report.node("constant").cache().reason())
        .isEqualTo("opted out: withCacheByDefault(false) on the executor");
    assertThat(store.stores).hasValue(0);

    DagBuilder b = Dag.builder("off").withCache(false);
    b.node("on").withCache(true).task(() -> 1);
    b.task("default", () -> 2);
    RunReport mixed = executor.run(b.build());
    assertThat(mixed.node("on").cache().kind()).isEqualTo(CacheOutcome.Kind.MISS);
    assertThat(mixed.node("default").cache().reason())
        .isEqualTo("opted out: withCache(false) on the DAG");
  }

  @Test
  void withoutAStoreEveryNodeSaysSo() {
    RunReport report = DagExecutor.defaults().run(pipeline());
    assertThat(report.node("report").cache().kind()).isEqualTo(CacheOutcome.Kind.OFF);
    assertThat(report.node("report").cache().reason()).isEqualTo("no result store");
  }
}
