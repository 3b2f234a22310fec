package dev.open.bench.ports;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.FunctionRef;
import dev.open.dag.RunReport;
import dev.open.dag.policy.RetryPolicy;
import dev.open.ports.WorkerCrashedException;
import dev.open.ports.WorkerPool;

/**
 * {@code open-bench.jar recovery [TRIALS]}: how fast a call whose worker is killed gets its
 * result. Each trial runs a one-node DAG calling Python with a retry policy (no backoff,
 * retrying {@link WorkerCrashedException}); the first attempt sleeps, its worker is killed with
 * SIGKILL, and the retry runs on the other worker of a 2-worker pool. Prints the distribution of
 * the time from the kill to the node's result.
 */
public final class RecoveryTiming {
  private RecoveryTiming() {}

  public static int run(String[] args, PrintStream out) throws Exception {
    int trials = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    double[] millis = new double[trials];
    try (WorkerPool python = Pools.python(2)) {
      FunctionRef<Double> sleep = python.function("open_test_tasks:sleep", Double.class);
      DagExecutor executor = DagExecutor.builder()
          .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ZERO)
              .handle(WorkerCrashedException.class).build())
          .withMdc(false)
          .build();
      for (int t = 0; t < trials; t++) {
        waitForWorkers(python, 2);
        AtomicInteger attempt = new AtomicInteger();
        AtomicLong killedAt = new AtomicLong();
        CountDownLatch started = new CountDownLatch(1);
        DagBuilder b = Dag.builder("recovery");
        // The first attempt sleeps (and is killed); the retry returns at once.
        var seconds = b.task("seconds", () -> 10.0);
        b.task("work", seconds, s -> {
          boolean first = attempt.incrementAndGet() == 1;
          var call = python.call(sleep.function(), first ? s : 0.0);
          if (first) {
            started.countDown();
          }
          try {
            return (Double) call.get();
          } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause(); // what the retry policy looks at
          }
        });
        Dag dag = b.build();
        var run = executor.start(dag);
        started.await();
        Thread.sleep(20); // let the call reach the worker
        long victim = busiestWorker(python);
        killedAt.set(System.nanoTime());
        ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
        RunReport report = run.await();
        millis[t] = (System.nanoTime() - killedAt.get()) / 1e6;
        if (!report.succeeded() || attempt.get() != 2) {
          out.println("trial " + t + " did not recover as expected: " + report);
          return 1;
        }
      }
    }
    Arrays.sort(millis);
    out.printf(Locale.ROOT, "{\"trials\":%d,\"p50Millis\":%.1f,\"p90Millis\":%.1f,"
        + "\"p99Millis\":%.1f,\"maxMillis\":%.1f,\"under150\":%d}%n", trials,
        millis[trials / 2], millis[(int) (trials * 0.9)], millis[Math.min(trials - 1,
            (int) (trials * 0.99))], millis[trials - 1],
        Arrays.stream(millis).filter(m -> m <= 150).count());
    return 0;
  }

  private static void waitForWorkers(WorkerPool pool, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (pool.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  private static long busiestWorker(WorkerPool pool) {
    return pool.status().stream().filter(w -> w.inFlight() > 0).findFirst()
        .orElseThrow(() -> new IllegalStateException("no worker is running the call"))
        .pid();
  }
}
