package dev.open.dag.durable;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.stream.LongStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.TaskN;

/**
 * Random DAGs, run once into a store; then some nodes change (a new version, and maybe new
 * behaviour) and some entries are lost; the second run must equal a fresh run and must run
 * exactly the nodes whose key changed or whose entry was lost. Everything is drawn from the seed.
 */
class ResumePropertyTest {

  static LongStream seeds() {
    return LongStream.range(0, 60);
  }

  /** One configuration of the DAG: per node, a version and the constant its task adds. */
  private record Config(String[] versions, long[] bases) {
    Config copy() {
      return new Config(versions.clone(), bases.clone());
    }
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void resumeEqualsAFreshRunAndRerunsExactlyTheChangedOrLostNodes(long seed) {
    Random random = new Random(seed);
    int n = 2 + random.nextInt(30);
    double density = random.nextDouble() * 0.4;
    List<int[]> parents = new ArrayList<>();
    for (int j = 0; j < n; j++) {
      List<Integer> ps = new ArrayList<>();
      for (int i = 0; i < j; i++) {
        if (random.nextDouble() < density) {
          ps.add(i);
        }
      }
      parents.add(ps.stream().mapToInt(Integer::intValue).toArray());
    }
    Config before = new Config(new String[n], new long[n]);
    for (int j = 0; j < n; j++) {
      before.versions[j] = "v0";
      before.bases[j] = random.nextInt(5);
    }
    Config after = before.copy();
    Set<Integer> versioned = new TreeSet<>();
    for (int j = 0; j < n; j++) {
      if (random.nextDouble() < 0.2) {
        versioned.add(j);
        after.versions[j] = "v1";
        if (random.nextBoolean()) {
          after.bases[j] = before.bases[j] + 1 + random.nextInt(3); // new behaviour
        }
      }
    }

    MemoryStore store = new MemoryStore();
    DagExecutor cached = DagExecutor.builder().withResultStore(store).build();
    Set<Integer> ran = new ConcurrentSkipListSet<>();
    RunReport first = cached.run(build(parents, before, ran));
    assertThat(ran).as("seed %d: the first run runs everything", seed).hasSize(n);

    Set<Integer> lost = new TreeSet<>();
    for (int j = 0; j < n; j++) {
      if (random.nextDouble() < 0.15) {
        lost.add(j);
        store.entries.remove(first.node("n" + j).cache().key().orElseThrow());
      }
    }

    ran.clear();
    RunReport second = cached.run(build(parents, after, ran));
    RunReport fresh = DagExecutor.defaults().run(build(parents, after, new ConcurrentSkipListSet<>()));

    long[] valueBefore = values(parents, before);
    long[] valueAfter = values(parents, after);
    Set<Integer> expected = new TreeSet<>(lost);
    for (int j = 0; j < n; j++) {
      boolean inputChanged = false;
      for (int p : parents.get(j)) {
        inputChanged |= valueBefore[p] != valueAfter[p];
      }
      if (versioned.contains(j) || inputChanged) {
        expected.add(j);
      }
    }
    String context = "seed " + seed + ", versioned " + versioned + ", lost " + lost;
    assertThat(new TreeSet<>(ran)).as(context).isEqualTo(expected);
    for (int j = 0; j < n; j++) {
      Node<?> node = second.dag().node("n" + j).orElseThrow();
      assertThat(second.result(node)).as(context + ", n" + j)
          .isEqualTo(fresh.result(fresh.dag().node("n" + j).orElseThrow()))
          .isEqualTo(valueAfter[j]);
      assertThat(second.node(node).status()).as(context + ", n" + j)
          .isEqualTo(expected.contains(j) ? NodeStatus.SUCCEEDED : NodeStatus.CACHED);
    }
  }

  private static long[] values(List<int[]> parents, Config config) {
    long[] value = new long[parents.size()];
    for (int j = 0; j < value.length; j++) {
      value[j] = config.bases[j] + 1;
      for (int p : parents.get(j)) {
        value[j] += value[p] * 3;
      }
    }
    return value;
  }

  private static Dag build(List<int[]> parents, Config config, Set<Integer> ran) {
    DagBuilder b = Dag.builder("random");
    List<Node<Long>> nodes = new ArrayList<>();
    for (int j = 0; j < parents.size(); j++) {
      int id = j;
      long base = config.bases[j];
      List<Node<Long>> inputs = new ArrayList<>();
      for (int p : parents.get(j)) {
        inputs.add(nodes.get(p));
      }
      TaskN<Long, Long> task = values -> {
        ran.add(id);
        long v = base + 1;
        for (long x : values) {
          v += x * 3;
        }
        return v;
      };
      nodes.add(b.node("n" + j).withVersion(config.versions[j]).retain().fanIn(inputs, task));
    }
    return b.build();
  }
}
