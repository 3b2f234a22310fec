package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;
import dev.open.dag.policy.Sleeper;

class PolicyTest {

  /** A sleeper that records delays and returns at once: backoff without waiting. */
  static final class RecordingSleeper implements Sleeper {
    final List<Duration> delays = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void sleep(Duration delay) {
      delays.add(delay);
    }
  }

  @Test
  void retriesWithExponentialBackoffUntilSuccess() {
    RecordingSleeper sleeper = new RecordingSleeper();
    AtomicInteger calls = new AtomicInteger();
    RetryPolicy retry = RetryPolicy.builder()
        .withMaxAttempts(5)
        .withBackoff(Duration.ofMillis(100), Duration.ofMillis(300))
        .withJitter(0)
        .build();
    DagBuilder b = Dag.builder("retry");
    Node<Integer> flaky = b.node("flaky").withRetry(retry).task(() -> {
      if (calls.incrementAndGet() < 4) {
        throw new IOException("transient " + calls.get());
      }
      return calls.get();
    });
    RunReport report = DagExecutor.builder().withSleeper(sleeper).build().run(b.build());

    assertThat(report.result(flaky)).isEqualTo(4);
    assertThat(report.node(flaky).attempts()).isEqualTo(4);
    assertThat(sleeper.delays).containsExactly(
        Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(300));
  }

  @Test
  void givesUpAfterMaxAttemptsWithTheLastCause() {
    AtomicInteger calls = new AtomicInteger();
    DagBuilder b = Dag.builder("give-up");
    b.task("always", () -> {
      throw new IOException("boom " + calls.incrementAndGet());
    });
    RunReport report = DagExecutor.builder()
        .withSleeper(new RecordingSleeper())
        .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(3).build())
        .build().run(b.build());

    NodeReport node = report.node("always");
    assertThat(node.status()).isEqualTo(NodeStatus.FAILED);
    assertThat(node.attempts()).isEqualTo(3);
    assertThat(node.error()).isInstanceOf(TaskFailedException.class)
        .hasMessage("task 'always' of DAG 'give-up' failed after 3 attempts: "
            + "java.io.IOException: boom 3")
        .hasCauseInstanceOf(IOException.class);
    assertThat(((TaskFailedException) node.error()).node()).isEqualTo("always");
    assertThat(report.failure()).containsSame(node.error());
  }

  @Test
  void retriesOnlyHandledFailuresAndAbortsOnOthers() {
    RetryPolicy retry = RetryPolicy.builder()
        .withMaxAttempts(5).withDelay(Duration.ZERO)
        .handle(IOException.class)
        .abortOn(java.io.FileNotFoundException.class)
        .build();
    AtomicInteger wrong = new AtomicInteger();
    AtomicInteger aborting = new AtomicInteger();
    DagBuilder b = Dag.builder("handled");
    b.node("wrongType").withRetry(retry).task(() -> {
      wrong.incrementAndGet();
      throw new IllegalStateException("not retried");
    });
    b.node("aborting").withRetry(retry).task(() -> {
      aborting.incrementAndGet();
      throw new java.io.FileNotFoundException("gone");
    });
    RunReport report = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE).build()
        .run(b.build());

    assertThat(wrong).hasValue(1);
    assertThat(aborting).hasValue(1);
    assertThat(report.count(NodeStatus.FAILED)).isEqualTo(2);
  }

  @Test
  void errorsAreNotRetriedByDefault() {
    AtomicInteger calls = new AtomicInteger();
    DagBuilder b = Dag.builder("error");
    b.task("oom", () -> {
      calls.incrementAndGet();
      throw new AssertionError("an Error");
    });
    RunReport report = DagExecutor.builder()
        .withDefaultRetry(RetryPolicy.builder().withDelay(Duration.ZERO).build())
        .build().run(b.build());

    assertThat(calls).hasValue(1);
    assertThat(report.node("oom").error()).hasCauseInstanceOf(AssertionError.class);
  }

  @Test
  void timesOutAnAttemptByInterruptingItAndRetries() {
    AtomicInteger calls = new AtomicInteger();
    DagBuilder b = Dag.builder("timeout");
    Node<String> slowThenFast = b.node("slowThenFast")
        .withTimeout(Duration.ofMillis(50))
        .withRetry(RetryPolicy.builder().withMaxAttempts(2).withDelay(Duration.ZERO).build())
        .task(() -> {
          if (calls.incrementAndGet() == 1) {
            Thread.sleep(10_000);
          }
          return "second";
        });
    RunReport report = b.build().run();

    assertThat(report.result(slowThenFast)).isEqualTo("second");
    assertThat(report.node(slowThenFast).attempts()).isEqualTo(2);
    assertThat(report.duration()).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aTimedOutTaskFailsWithTaskTimeoutException() {
    DagBuilder b = Dag.builder("timeout");
    b.node("sleepy").withTimeout(Duration.ofMillis(30)).task(() -> {
      Thread.sleep(10_000);
      return 1;
    });
    RunReport report = b.build().run();

    Throwable error = report.node("sleepy").error();
    assertThat(error).isInstanceOf(TaskFailedException.class)
        .cause().isInstanceOf(TaskTimeoutException.class)
        .hasMessage("attempt 1 of task 'sleepy' timed out after PT0.03S")
        .cause().isInstanceOf(InterruptedException.class);
  }

  @Test
  void theDefaultTimeoutAppliesToNodesWithoutTheirOwn() {
    DagBuilder b = Dag.builder("default-timeout");
    b.task("sleepy", () -> {
      Thread.sleep(10_000);
      return 1;
    });
    RunReport report = DagExecutor.builder().withDefaultTimeout(Duration.ofMillis(30)).build()
        .run(b.build());
    assertThat(report.node("sleepy").error()).cause().isInstanceOf(TaskTimeoutException.class);
  }

  @Test
  void aDeadlineCancelsTheRun() {
    DagBuilder b = Dag.builder("deadline");
    Node<Integer> slow = b.task("slow", () -> {
      Thread.sleep(10_000);
      return 1;
    });
    b.task("after", slow, x -> x);
    RunReport report = DagExecutor.builder().withDeadline(Duration.ofMillis(100)).build()
        .run(b.build());

    assertThat(report.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(report.failure()).get().isInstanceOf(DeadlineExceededException.class);
    assertThat(report.node("slow").status()).isEqualTo(NodeStatus.CANCELLED);
    assertThat(report.node("after").status()).isEqualTo(NodeStatus.CANCELLED);
    assertThat(report.node("after").error()).isInstanceOf(DeadlineExceededException.class);
    assertThat(report.duration()).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void limitsConcurrencyPerTag() throws Exception {
    HeldTasks held = new HeldTasks();
    DagBuilder b = Dag.builder("limits");
    for (int i = 0; i < 40; i++) {
      b.node("db" + i).withTags("db").task(() -> held.hold("db"));
      b.node("free" + i).task(() -> held.hold("free"));
    }
    Execution run = DagExecutor.builder().withConcurrencyLimit("db", 3).withExecutor(held)
        .build().start(b.build());

    held.stepThrough(run, (counts, finished) -> {
      int dbLeft = 40 - finished.getOrDefault("db", 0);
      int freeLeft = 40 - finished.getOrDefault("free", 0);
      assertThat(counts.getOrDefault("db", 0)).as("db tasks running").isEqualTo(Math.min(3, dbLeft));
      // untagged tasks are not limited: every one not finished runs
      assertThat(counts.getOrDefault("free", 0)).as("free tasks running").isEqualTo(freeLeft);
    });
    assertThat(run.await(Duration.ofSeconds(10)).succeeded()).isTrue();
  }

  @Test
  void limitsNodesWithSeveralTagsByEachTag() throws Exception {
    HeldTasks held = new HeldTasks();
    DagBuilder b = Dag.builder("two-tags");
    for (int i = 0; i < 30; i++) {
      b.node("a" + i).withTags("a").task(() -> held.hold("a"));
      b.node("ab" + i).withTags("a", "b").task(() -> held.hold("ab"));
    }
    Execution run = DagExecutor.builder().withConcurrencyLimit("a", 4).withConcurrencyLimit("b", 1)
        .withExecutor(held).build().start(b.build());

    int[] most = new int[2];
    held.stepThrough(run, (counts, finished) -> {
      int a = counts.getOrDefault("a", 0);
      int ab = counts.getOrDefault("ab", 0);
      int aLeft = 30 - finished.getOrDefault("a", 0);
      int abLeft = 30 - finished.getOrDefault("ab", 0);
      assertThat(a + ab).as("tasks tagged a running").isLessThanOrEqualTo(4);
      assertThat(ab).as("tasks tagged b running").isLessThanOrEqualTo(1);
      // No permit idles while a task that could take it waits.
      if (a + ab < 4) {
        assertThat(a).as("a-only tasks running, with an a permit free").isEqualTo(aLeft);
        assertThat(ab).as("ab tasks running, with an a permit free")
            .isEqualTo(Math.min(1, abLeft));
      }
      most[0] = Math.max(most[0], a + ab);
      most[1] = Math.max(most[1], ab);
    });
    assertThat(run.await(Duration.ofSeconds(10)).succeeded()).isTrue();
    assertThat(most).containsExactly(4, 1);
  }

  @Test
  void limitsTheElementsOfAMapAndTheWholeRun() throws Exception {
    HeldTasks perTag = new HeldTasks();
    DagBuilder b = Dag.builder("map-limit");
    Node<List<Integer>> items = b.task("items", () -> IntStream.range(0, 50).boxed().toList());
    Node<List<Integer>> mapped = b.node("mapped").withTags("cpu")
        .map(items, x -> perTag.hold("element") + x);
    Execution run = DagExecutor.builder().withConcurrencyLimit("cpu", 2).withExecutor(perTag)
        .build().start(b.build());
    perTag.stepThrough(run, (counts, finished) -> assertThat(counts.getOrDefault("element", 0))
        .as("elements running").isEqualTo(Math.min(2, 50 - finished.getOrDefault("element", 0))));
    assertThat(run.await(Duration.ofSeconds(10)).result(mapped)).hasSize(50);

    HeldTasks global = new HeldTasks();
    DagBuilder g = Dag.builder("global");
    Node<List<Integer>> xs = g.task("xs", () -> IntStream.range(0, 30).boxed().toList());
    g.map("each", xs, x -> global.hold("element"));
    for (int i = 0; i < 30; i++) {
      g.task("t" + i, () -> global.hold("task"));
    }
    Execution limited = DagExecutor.builder().withMaxParallelism(3).withExecutor(global).build()
        .start(g.build());
    global.stepThrough(limited, (counts, finished) -> {
      int running = counts.values().stream().mapToInt(Integer::intValue).sum();
      int left = 60 - finished.values().stream().mapToInt(Integer::intValue).sum();
      assertThat(running).as("tasks and elements running").isEqualTo(Math.min(3, left));
    });
    assertThat(limited.await(Duration.ofSeconds(10)).succeeded()).isTrue();
  }

  /**
   * Tasks that wait until the test lets them go, and the run's threads (from {@link
   * DagExecutor.Builder#withExecutor}), counted. A task waiting for a permit holds no thread, so
   * the run is at rest exactly when every thread it started is held here: then the tasks held
   * are the tasks running, and the test checks them against the limits before letting the
   * longest held go. No sleep: the counts change under this object's lock only.
   */
  static final class HeldTasks implements java.util.concurrent.Executor {
    private final java.util.ArrayDeque<Held> held = new java.util.ArrayDeque<>();
    private final java.util.Map<String, Integer> finished = new java.util.HashMap<>();
    private int alive;
    private boolean open;

    private static final class Held {
      final String kind;
      boolean released;

      Held(String kind) {
        this.kind = kind;
      }
    }

    @Override
    public void execute(Runnable work) {
      synchronized (this) {
        alive++;
      }
      Thread.startVirtualThread(() -> {
        try {
          work.run();
        } finally {
          synchronized (this) {
            alive--;
            notifyAll();
          }
        }
      });
    }

    /** The body of a task of the given kind: waits until released, returns 0. */
    synchronized int hold(String kind) throws InterruptedException {
      Held me = new Held(kind);
      if (!open) {
        held.addLast(me);
        notifyAll();
        while (!me.released) {
          wait();
        }
      }
      finished.merge(kind, 1, Integer::sum);
      return 0;
    }

    /**
     * Until the run has finished: waits for each rest, hands {@code check} the number of tasks
     * running and finished per kind, and releases the longest held task.
     */
    void stepThrough(Execution run, java.util.function.BiConsumer<java.util.Map<String, Integer>,
        java.util.Map<String, Integer>> check) throws InterruptedException {
      try {
        while (true) {
          synchronized (this) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (alive != held.size()) {
              long left = deadline - System.nanoTime();
              if (left <= 0) {
                throw new AssertionError("no rest: " + alive + " threads, " + held.size()
                    + " tasks held");
              }
              java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            if (held.isEmpty()) {
              return; // nothing runs, nothing is held: the run has ended
            }
            java.util.Map<String, Integer> counts = new java.util.HashMap<>();
            held.forEach(h -> counts.merge(h.kind, 1, Integer::sum));
            check.accept(counts, java.util.Map.copyOf(finished));
            held.removeFirst().released = true;
            notifyAll();
          }
        }
      } finally {
        synchronized (this) {
          open = true; // a failed check leaves no task held
          held.forEach(h -> h.released = true);
          held.clear();
          notifyAll();
        }
      }
    }
  }

  @Test
  void failFastCancelsTheRestAndSkipsTheDescendantsOfTheFailure() throws Exception {
    java.util.concurrent.CountDownLatch slowStarted = new java.util.concurrent.CountDownLatch(1);
    DagBuilder b = Dag.builder("fail-fast");
    Node<Integer> slow = b.task("slow", () -> {
      slowStarted.countDown();
      Thread.sleep(10_000);
      return 1;
    });
    Node<Integer> bad = b.task("bad", () -> {
      slowStarted.await();
      throw new IllegalStateException("bad input");
    });
    Node<Integer> child = b.task("child", bad, x -> x);
    b.task("grandchild", child, slow, (x, y) -> x + y);
    b.task("afterSlow", slow, x -> x);
    RunReport report = b.build().run();

    assertThat(report.status()).isEqualTo(RunStatus.FAILED);
    assertThat(report.node("bad").status()).isEqualTo(NodeStatus.FAILED);
    assertThat(report.node("child").status()).isEqualTo(NodeStatus.SKIPPED);
    assertThat(report.node("grandchild").status()).isEqualTo(NodeStatus.SKIPPED);
    assertThat(report.node("grandchild").error()).isInstanceOf(TaskSkippedException.class)
        .hasMessageStartingWith("task 'grandchild' was skipped because 'bad' failed: ")
        .hasMessageContaining("bad input")
        .hasRootCauseInstanceOf(IllegalStateException.class)
        .hasRootCauseMessage("bad input");
    assertThat(report.node("slow").status()).isEqualTo(NodeStatus.CANCELLED);
    assertThat(report.node("afterSlow").status()).isEqualTo(NodeStatus.CANCELLED);
    assertThat(report.node("afterSlow").error()).isInstanceOf(RunCancelledException.class)
        .hasMessageContaining("stopped after task 'bad' failed");
    assertThat(report.failure()).get().isInstanceOf(TaskFailedException.class);
    assertThat(report.duration()).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void continueSkipsOnlyTheDescendantsOfTheFailure() {
    DagBuilder b = Dag.builder("continue");
    Node<Integer> bad = b.task("bad", () -> {
      throw new UncheckedIOException(new IOException("disk"));
    });
    Node<Integer> good = b.task("good", () -> 1);
    Node<Integer> child = b.task("child", bad, good, Integer::sum);
    b.task("grandchild", child, x -> x);
    Node<Integer> independent = b.task("independent", good, x -> x + 1);
    RunReport report = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE).build()
        .run(b.build());

    assertThat(report.status()).isEqualTo(RunStatus.FAILED);
    assertThat(report.result(independent)).isEqualTo(2);
    assertThat(report.node("child").status()).isEqualTo(NodeStatus.SKIPPED);
    assertThat(report.node("grandchild").status()).isEqualTo(NodeStatus.SKIPPED);
    assertThat(report.counts()).containsEntry(NodeStatus.SUCCEEDED, 2)
        .containsEntry(NodeStatus.FAILED, 1).containsEntry(NodeStatus.SKIPPED, 2)
        .containsEntry(NodeStatus.CANCELLED, 0);
  }

  @Test
  void aFailingMapElementFailsTheNodeAndStopsItsSiblings() {
    AtomicInteger sleeping = new AtomicInteger();
    AtomicInteger interrupted = new AtomicInteger();
    DagBuilder b = Dag.builder("map-fail");
    Node<List<Integer>> items = b.task("items", () -> IntStream.range(0, 20).boxed().toList());
    b.map("each", items, x -> {
      if (x == 7) {
        throw new IllegalArgumentException("bad element " + x);
      }
      sleeping.incrementAndGet();
      try {
        Thread.sleep(10_000);
      } catch (InterruptedException e) {
        interrupted.incrementAndGet();
        throw e;
      }
      return x;
    });
    RunReport report = b.build().run();

    NodeReport each = report.node("each");
    assertThat(each.status()).isEqualTo(NodeStatus.FAILED);
    assertThat(each.error()).hasMessageContaining("task 'each' of DAG 'map-fail' failed on element 7")
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThat(interrupted.get()).isEqualTo(sleeping.get()); // started siblings were stopped
    assertThat(report.duration()).isLessThan(Duration.ofSeconds(5));
  }
}
