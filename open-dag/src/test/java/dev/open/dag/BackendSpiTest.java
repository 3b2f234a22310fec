package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.policy.RetryPolicy;
import dev.open.dag.spi.Backend;
import dev.open.dag.spi.Invocation;

class BackendSpiTest {

  /** A backend answering asynchronously from its own thread, as a worker pool would. */
  static final class FakeBackend implements Backend {
    final ScheduledExecutorService worker = Executors.newScheduledThreadPool(4);
    final List<Invocation> calls = new CopyOnWriteArrayList<>();
    final List<CompletableFuture<?>> futures = new CopyOnWriteArrayList<>();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final AtomicInteger failuresLeft = new AtomicInteger();

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public CompletableFuture<?> invoke(Invocation call) {
      calls.add(call);
      if (call.function().startsWith("placed")) {
        call.placedOn("worker " + call.attempt());
      }
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      CompletableFuture<Object> result = new CompletableFuture<>();
      futures.add(result);
      long delay = call.function().equals("slow") ? 60_000 : 5;
      // A call leaves the count before its future completes: the node's thread, woken by the
      // completion, may start the next call at once, and must not find this one still counted.
      var counted = new java.util.concurrent.atomic.AtomicBoolean(true);
      Runnable leave = () -> {
        if (counted.getAndSet(false)) {
          inFlight.decrementAndGet();
        }
      };
      worker.schedule(() -> {
        leave.run();
        if (failuresLeft.getAndDecrement() > 0) {
          result.completeExceptionally(new IllegalStateException("worker crashed"));
        } else {
          result.complete(switch (call.function()) {
            case "sum" -> call.arguments().stream().mapToLong(a -> ((Number) a).longValue()).sum();
            case "wrongType" -> "a string";
            default -> call.function();
          });
        }
      }, delay, TimeUnit.MILLISECONDS);
      result.whenComplete((v, e) -> leave.run()); // cancelled by the caller
      return result; // the caller's cancel must reach this very future
    }
  }

  private final FakeBackend backend = new FakeBackend();

  @AfterEach
  void stop() {
    backend.worker.shutdownNow();
  }

  @Test
  void aNodeCallsABackendFunctionWithItsInputs() {
    DagBuilder b = Dag.builder("remote");
    Node<Integer> x = b.task("x", () -> 2);
    Node<Integer> y = b.task("y", () -> 3);
    Node<Long> sum = b.call("sum", FunctionRef.of(backend, "sum", long.class), x, y);
    Dag dag = b.build();
    RunReport report = dag.run();

    assertThat(report.result(sum)).isEqualTo(5L);
    assertThat(sum.backend()).isEqualTo("fake");
    assertThat(report.node(sum).backend()).isEqualTo("fake");
    Invocation call = backend.calls.get(0);
    assertThat(call.dag()).isEqualTo("remote");
    assertThat(call.node()).isEqualTo("sum");
    assertThat(call.attempt()).isEqualTo(1);
    assertThat(call.arguments()).containsExactly(2, 3);
    assertThat(call.resultType()).isEqualTo(Long.class);
  }

  @Test
  void whereABackendRunsAnAttemptReachesTheListeners() {
    backend.failuresLeft.set(1);
    List<String> heard = new CopyOnWriteArrayList<>();
    DagBuilder b = Dag.builder("placed");
    b.node("p").withRetry(RetryPolicy.builder().withMaxAttempts(2).withDelay(Duration.ZERO).build())
        .call(FunctionRef.of(backend, "placed", String.class));
    b.task("java", () -> 1);
    DagExecutor.builder().withListener(new ExecutionListener() {
      @Override
      public void onTaskPlaced(TaskEvent event, String where) {
        heard.add(event.node() + "#" + event.attempt() + " on " + where);
      }
    }).build().run(b.build());

    assertThat(heard).containsExactly("p#1 on worker 1", "p#2 on worker 2");
  }

  @Test
  void anInvocationMadeWithoutAListenerCanStillBePlaced() {
    Invocation call = new Invocation("d", "n", 1, "f", List.of(), Object.class);
    call.placedOn("anywhere"); // nobody hears it, nothing breaks
    assertThatThrownBy(() -> call.placedOn(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aTimeoutCancelsTheBackendsFuture() {
    DagBuilder b = Dag.builder("remote-timeout");
    b.node("slow").withTimeout(Duration.ofMillis(50))
        .call(FunctionRef.of(backend, "slow", String.class));
    RunReport report = b.build().run();

    assertThat(report.node("slow").error()).cause().isInstanceOf(TaskTimeoutException.class);
    assertThat(backend.futures).singleElement().satisfies(f -> assertThat(f.isCancelled()).isTrue());
  }

  @Test
  void backendFailuresAreRetriedWithTheAttemptNumber() {
    backend.failuresLeft.set(2);
    DagBuilder b = Dag.builder("remote-retry");
    Node<String> ok = b.node("ok")
        .withRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ZERO).build())
        .call(FunctionRef.of(backend, "ok", String.class));
    RunReport report = b.build().run();

    assertThat(report.result(ok)).isEqualTo("ok");
    assertThat(backend.calls).extracting(Invocation::attempt).containsExactly(1, 2, 3);
  }

  @Test
  void aResultOfTheWrongTypeFailsTheNodeWithBothTypes() {
    DagBuilder b = Dag.builder("remote-type");
    b.call("typed", FunctionRef.of(backend, "wrongType", Integer.class));
    RunReport report = b.build().run();

    assertThat(report.node("typed").error()).cause().isInstanceOf(ClassCastException.class)
        .hasMessage("backend 'fake' returned java.lang.String for fake:wrongType in node 'typed', "
            + "expected java.lang.Integer");
  }

  @Test
  void theBackendNameIsAConcurrencyTag() {
    DagBuilder b = Dag.builder("remote-limit");
    for (int i = 0; i < 30; i++) {
      b.call("c" + i, FunctionRef.of(backend, "c" + i, String.class));
    }
    RunReport report = DagExecutor.builder().withConcurrencyLimit("fake", 2).build().run(b.build());

    assertThat(report.succeeded()).isTrue();
    assertThat(backend.maxInFlight.get()).isBetween(1, 2);
  }
}
