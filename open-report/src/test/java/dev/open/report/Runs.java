package dev.open.report;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;

/** Runs with known outcomes, for the report's tests (and the examples' browser test). */
public final class Runs {
  private Runs() {}

  /**
   * A small run with every status but cancelled: {@code flaky} fails once and is retried, {@code
   * broken} fails for good (its message carries a closing script tag), {@code after-broken} is
   * skipped, {@code square} maps over 5 elements.
   */
  public static RunReport mixed(ExecutionListener... listeners) {
    DagBuilder b = Dag.builder("mixed <demo>");
    Node<List<Integer>> numbers = b.task("numbers", () -> List.of(1, 2, 3, 4, 5));
    Node<List<Integer>> square = b.map("square", numbers, x -> x * x);
    AtomicInteger tries = new AtomicInteger();
    Node<Integer> flaky = b.node("flaky")
        .withRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ofMillis(5)).build())
        .task(square, xs -> {
          if (tries.incrementAndGet() == 1) {
            throw new IllegalStateException("first attempt fails");
          }
          return xs.stream().mapToInt(Integer::intValue).sum();
        });
    Node<Integer> broken = b.task("broken", flaky, x -> {
      throw new IllegalArgumentException("</script><b>not markup</b>");
    });
    b.task("after-broken", broken, x -> x + 1);
    b.task("total", flaky, x -> x * 2);
    DagExecutor.Builder executor = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE);
    for (ExecutionListener l : listeners) {
      executor.withListener(l);
    }
    return executor.build().run(b.build());
  }

  /**
   * A run of {@code layers} layers of {@code width} Java tasks, each node reading two of the layer
   * before; every task sleeps {@code sleepMicros} so the timeline has lanes.
   */
  public static RunReport layered(int layers, int width, long sleepMicros,
      ExecutionListener... listeners) {
    DagBuilder b = Dag.builder("layered-" + layers + "x" + width);
    List<Node<Integer>> previous = new ArrayList<>();
    for (int l = 0; l < layers; l++) {
      List<Node<Integer>> layer = new ArrayList<>(width);
      for (int k = 0; k < width; k++) {
        String name = "step" + l + "-part" + k;
        if (previous.isEmpty()) {
          int seed = k;
          layer.add(b.task(name, () -> {
            pause(sleepMicros);
            return seed;
          }));
        } else {
          Node<Integer> x = previous.get(k);
          Node<Integer> y = previous.get((k * 7 + 1) % width);
          layer.add(b.task(name, x, y, (p, q) -> {
            pause(sleepMicros);
            return (p + q) % 1_000_003;
          }));
        }
      }
      previous = layer;
    }
    DagExecutor.Builder executor = DagExecutor.builder();
    for (ExecutionListener l : listeners) {
      executor.withListener(l);
    }
    return executor.build().run(b.build());
  }

  private static void pause(long micros) {
    if (micros > 0) {
      try {
        Thread.sleep(Duration.ofNanos(micros * 1000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
