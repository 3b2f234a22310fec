package dev.open.dag.durable;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.open.dag.CacheOutcome;
import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Execution;
import dev.open.dag.FunctionRef;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;
import dev.open.dag.array.NDArray;
import dev.open.dag.spi.Backend;
import dev.open.dag.spi.Invocation;
import dev.open.dag.store.ResultStore;
import dev.open.dag.store.ValueCodec;
import dev.open.dag.store.ValueCodecs;

/**
 * Edge cases of durable runs that a review found broken, each a test that failed before its fix:
 * positions of a parent read twice, two backends of one name, codecs whose bytes coincide, a
 * codec that throws, collections and arrays that must come back as they were computed, element
 * store failures, names that look like element keys, entries no codec can decode.
 */
class DurableRunEdgeCasesTest {

  @SuppressWarnings("unchecked")
  private static <T> T result(RunReport report, String node) {
    return (T) report.result(report.dag().node(node).orElseThrow());
  }

  // ---- 1. the same parent twice: positions are lost in the key --------------------------------

  private static Dag wiring(boolean aba) {
    DagBuilder b = Dag.builder("wiring");
    Node<String> a = b.task("a", () -> "x");
    Node<String> y = b.task("b", () -> "y");
    b.task("c", a, aba ? y : a, aba ? a : y, (p, q, r) -> p + q + r);
    return b.build();
  }

  @Test
  void rewiringANodeThatReadsOneParentTwiceChangesItsKey() {
    DagExecutor executor = DagExecutor.builder().withResultStore(new MemoryStore()).build();
    assertThat((String) result(executor.run(wiring(true)), "c")).isEqualTo("xyx");
    assertThat((String) result(DagExecutor.defaults().run(wiring(false)), "c")).isEqualTo("xxy");
    RunReport second = executor.run(wiring(false));
    // c(a, a, b) must not load the value of c(a, b, a): both recipes are {a: "ha,ha", b: "hb"}
    assertThat((String) result(second, "c")).isEqualTo("xxy");
  }

  // ---- 2. code identities are cached per backend *name*, not per backend ----------------------

  static final class FakeBackend implements Backend {
    volatile String identity;

    FakeBackend(String identity) {
      this.identity = identity;
    }

    @Override
    public String name() {
      return "fake"; // two pools of one language share a name ("python")
    }

    @Override
    public CompletableFuture<?> invoke(Invocation invocation) {
      return CompletableFuture.completedFuture(identity + invocation.arguments());
    }

    @Override
    public String codeIdentity(String function) {
      return identity;
    }
  }

  private static Dag calls(FakeBackend one, FakeBackend two) {
    DagBuilder b = Dag.builder("calls");
    Node<String> a = b.call("a", FunctionRef.of(one, "m:f", String.class));
    b.call("b", FunctionRef.of(two, "m:f", String.class), a);
    return b.build();
  }

  @Test
  void aNodeWhoseBackendCodeChangedIsRecomputed() {
    DagExecutor executor = DagExecutor.builder().withResultStore(new MemoryStore()).build();
    FakeBackend one = new FakeBackend("one");
    FakeBackend two = new FakeBackend("two-v1");
    executor.run(calls(one, two));
    two.identity = "two-v2"; // b's module was edited
    RunReport second = executor.run(calls(one, two));
    assertThat(second.node("b").status()).isEqualTo(NodeStatus.SUCCEEDED);
    assertThat((String) result(second, "b")).startsWith("two-v2");
  }

  // ---- 3. content hashes ignore the codec id ---------------------------------------------------

  static final class P {
    final int x;
    final int y;

    P(int x, int y) {
      this.x = x;
      this.y = y;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof P p && p.x == x && p.y == y;
    }

    @Override
    public int hashCode() {
      return Objects.hash(x, y);
    }
  }

  /** An untagged codec, as the guide's Point example; v2 changed the field order (new id). */
  static ValueCodec pointCodec(String id, boolean yFirst) {
    return new ValueCodec() {
      public String id() {
        return id;
      }

      public boolean canEncode(Object v) {
        return v instanceof P;
      }

      public List<ByteBuffer> encode(Object v) {
        P p = (P) v;
        return List.of(ByteBuffer.allocate(8).putInt(yFirst ? p.y : p.x)
            .putInt(yFirst ? p.x : p.y).flip());
      }

      public Object decode(ByteBuffer b) {
        int first = b.getInt();
        int second = b.getInt();
        return yFirst ? new P(second, first) : new P(first, second);
      }
    };
  }

  private static Dag points(P point) {
    DagBuilder b = Dag.builder("points");
    Node<P> source = b.node("source").withCache(false).task(() -> point);
    b.task("x", source, p -> "x=" + p.x);
    return b.build();
  }

  @Test
  void aDependantIsNotLoadedForAnInputThatOnlyEncodesAlikeUnderAnotherCodec() {
    MemoryStore store = new MemoryStore();
    DagExecutor v1 = DagExecutor.builder().withResultStore(store)
        .withValueCodecs(ValueCodecs.standard().with(pointCodec("acme.point.v1", false))).build();
    DagExecutor v2 = DagExecutor.builder().withResultStore(store)
        .withValueCodecs(ValueCodecs.standard().with(pointCodec("acme.point.v2", true))).build();
    v1.run(points(new P(2, 1)));              // bytes 00000002 00000001
    RunReport second = v2.run(points(new P(1, 2))); // the same bytes under acme.point.v2
    assertThat((String) result(second, "x")).isEqualTo("x=1");
  }

  // ---- 4. an exception out of a codec kills the node's thread: the run never ends --------------

  @Test
  void aCodecThatThrowsCostsTheCacheNotTheRun() {
    ValueCodec broken = new ValueCodec() {
      public String id() {
        return "broken.v1";
      }

      public boolean canEncode(Object v) {
        return v instanceof StringBuilder;
      }

      public List<ByteBuffer> encode(Object v) {
        throw new IllegalStateException("cannot encode today");
      }

      public Object decode(ByteBuffer b) {
        throw new IllegalStateException();
      }
    };
    DagExecutor executor = DagExecutor.builder().withResultStore(new MemoryStore())
        .withValueCodecs(ValueCodecs.standard().with(broken)).build();
    DagBuilder b = Dag.builder("broken");
    b.task("sb", () -> new StringBuilder("x"));
    Execution run = executor.start(b.build());
    assertThat(run.completion()).succeedsWithin(Duration.ofSeconds(10));
  }

  @Test
  void aValueWhoseIterationThrowsCostsTheCacheNotTheRun() {
    DagExecutor executor = DagExecutor.builder().withResultStore(new MemoryStore()).build();
    DagBuilder b = Dag.builder("lazy");
    b.task("lazy", () -> new AbstractList<String>() { // e.g. a lazily loaded, closed view
      public String get(int i) {
        throw new IllegalStateException("the session is closed");
      }

      public int size() {
        return 1;
      }
    });
    Execution run = executor.start(b.build());
    assertThat(run.completion()).succeedsWithin(Duration.ofSeconds(10));
  }

  // ---- 5. a loaded value is not what the node computed: type and semantics change -------------

  @Test
  void aDependantOfALoadedArrayListStillRuns() {
    DagExecutor executor = DagExecutor.builder().withResultStore(new MemoryStore()).build();
    assertThat(executor.run(arrayLists()).status()).isEqualTo(RunStatus.SUCCEEDED);
    RunReport resumed = executor.run(arrayLists());
    assertThat(resumed.node("list").status()).isEqualTo(NodeStatus.CACHED);
    assertThat(resumed.status()).as("%s", resumed.failure()).isEqualTo(RunStatus.SUCCEEDED);
  }

  private static Dag arrayLists() {
    DagBuilder b = Dag.builder("lists");
    Node<ArrayList<String>> list = b.task("list", () -> new ArrayList<>(List.of("a")));
    b.node("size").withCache(false).task(list, (ArrayList<String> l) -> l.size());
    return b.build();
  }

  @Test
  void aLoadedMapBehavesAsTheComputedOne() {
    DagExecutor executor = DagExecutor.builder().withResultStore(new MemoryStore()).build();
    RunReport fresh = executor.run(maps());
    RunReport resumed = executor.run(maps());
    // A TreeMap with a comparator cannot be rebuilt as it was: not cached, computed again.
    assertThat(resumed.node("map").status()).isEqualTo(NodeStatus.SUCCEEDED);
    assertThat(resumed.node("map").cache().kind()).isEqualTo(CacheOutcome.Kind.NOT_CACHEABLE);
    assertThat(resumed.node("ordered").status()).isEqualTo(NodeStatus.CACHED);
    assertThat(result(resumed, "lookup") + " | " + result(resumed, "order"))
        .isEqualTo(result(fresh, "lookup") + " | " + result(fresh, "order"));
  }

  private static Dag maps() {
    DagBuilder b = Dag.builder("maps");
    Node<Map<String, Integer>> map = b.node("map").retain().task(() -> {
      TreeMap<String, Integer> m = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      m.put("a", 1);
      return m;
    });
    b.node("lookup").withCache(false).task(map, m -> String.valueOf(m.get("A")));
    Node<Map<String, Integer>> ordered = b.task("ordered", () -> {
      Map<String, Integer> m = new LinkedHashMap<>();
      m.put("b", 2);
      m.put("a", 1);
      return m;
    });
    b.node("order").withCache(false).task(ordered, m -> String.join(",", m.keySet()));
    return b.build();
  }

  @Test
  void aLoadedArrayIsAsWritableAsAComputedOne(@TempDir Path dir) {
    DagExecutor executor = DagExecutor.builder()
        .withResultStore(ResultStore.directory(dir)).build();
    assertThat(executor.run(arrays()).status()).isEqualTo(RunStatus.SUCCEEDED);
    RunReport resumed = executor.run(arrays()); // any size: StoredValue makes parts read-only
    assertThat(resumed.node("array").status()).isEqualTo(NodeStatus.CACHED);
    assertThat(resumed.status()).as("%s", resumed.failure()).isEqualTo(RunStatus.SUCCEEDED);
  }

  private static Dag arrays() {
    DagBuilder b = Dag.builder("arrays");
    Node<NDArray> array = b.task("array", () -> NDArray.of(new double[] {0, 0, 0, 0}));
    b.node("scale").withCache(false).task(array, a -> {
      a.asDoubleBuffer().put(0, 1.0); // in place, as numeric code does
      return a.asDoubleBuffer().get(0);
    });
    return b.build();
  }

  // ---- 6. store failures of map elements are not reported -------------------------------------

  @Test
  void aMapWhoseElementsCouldNotBeStoredSaysSo() {
    MemoryStore store = new MemoryStore();
    store.failWrites = true;
    DagExecutor executor = DagExecutor.builder().withResultStore(store).build();
    DagBuilder b = Dag.builder("squares");
    Node<List<Integer>> in = b.task("items", () -> List.of(1, 2, 3));
    b.map("squares", in, i -> i * i);
    RunReport report = executor.run(b.build());
    assertThat(report.node("squares").cache().stored()).isFalse();
  }

  // ---- 7. a task node named "m[]" shares keys with the elements of map node "m" ---------------

  @Test
  void aTaskNamedLikeAMapsElementsDoesNotShareTheirKeys() {
    DagExecutor executor = DagExecutor.builder().withResultStore(new MemoryStore()).build();
    DagBuilder first = Dag.builder("names");
    Node<Integer> element = first.task("element", () -> 5);
    first.task("m[]", element, e -> -e);
    executor.run(first.build());

    DagBuilder second = Dag.builder("names");
    Node<List<Integer>> in = second.task("in", () -> List.of(5));
    second.map("m", in, i -> i * i);
    RunReport report = executor.run(second.build());
    assertThat((List<Integer>) result(report, "m")).containsExactly(25);
  }

  // ---- 8. an intact entry this executor cannot decode is never replaced -----------------------

  @Test
  void anEntryThatCannotBeDecodedIsReplacedByTheRecomputedValue(@TempDir Path dir) {
    ValueCodec oldStrings = new ValueCodec() { // a codec since removed (or a decoder since fixed)
      public String id() {
        return "acme.str.v1";
      }

      public boolean canEncode(Object v) {
        return v instanceof String;
      }

      public List<ByteBuffer> encode(Object v) {
        return List.of(ByteBuffer.wrap(((String) v).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }

      public Object decode(ByteBuffer b) {
        return java.nio.charset.StandardCharsets.UTF_8.decode(b).toString();
      }
    };
    ResultStore store = ResultStore.directory(dir);
    DagExecutor before = DagExecutor.builder().withResultStore(store)
        .withValueCodecs(ValueCodecs.standard().with(oldStrings)).build();
    DagExecutor after = DagExecutor.builder().withResultStore(store).build();
    before.run(strings());
    RunReport second = after.run(strings()); // miss: no codec acme.str.v1; recomputed, "stored"
    assertThat(second.node("s").cache().stored()).isTrue();
    RunReport third = after.run(strings());
    assertThat(third.node("s").status()).as("%s", third.node("s").cache())
        .isEqualTo(NodeStatus.CACHED);
  }

  private static Dag strings() {
    DagBuilder b = Dag.builder("strings");
    b.task("s", () -> "hello");
    return b.build();
  }
}
