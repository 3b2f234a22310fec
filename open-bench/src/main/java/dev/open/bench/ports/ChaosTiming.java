package dev.open.bench.ports;

import java.io.PrintStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.FunctionRef;
import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.policy.RetryPolicy;
import dev.open.ports.WorkerCrashedException;
import dev.open.ports.WorkerPool;

/**
 * {@code open-bench.jar chaos [CALLS] [KILLS] [SEED]}: what random SIGKILLs cost. A DAG of
 * {@code CALLS} independent Python calls (each sleeps 5 ms) runs on a pool of 2 workers (whose
 * replacements start at once: the default backoff for workers that keep dying young would
 * otherwise stretch the run, as it should for a real crash loop),
 * every node retrying {@link WorkerCrashedException} at once, while a thread kills a random
 * worker every 50–150 ms until it has killed {@code KILLS}. Prints the kills, the failed attempts
 * and their ratio: a pool that fails only the call a dead worker was running loses at most one
 * attempt per kill. Uses only APIs the first release had, so the same class measures both.
 */
public final class ChaosTiming {
  private ChaosTiming() {}

  public static int run(String[] args, PrintStream out) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int maxKills = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    Random random = new Random(args.length > 2 ? Long.parseLong(args[2]) : 1);
    AtomicInteger failedAttempts = new AtomicInteger();
    Set<Long> killed = new HashSet<>();
    try (WorkerPool python = WorkerPool.python()
        .withModulePath(Pools.REPO.resolve("python-worker/test_tasks"))
        .withAllowedModules("open_test_tasks")
        .withWorkers(2)
        .withRestartBackoff(Duration.ofMillis(1), Duration.ofMillis(20))
        .build()) {
      FunctionRef<Double> sleep = python.function("open_test_tasks:sleep", Double.class);
      DagBuilder b = Dag.builder("chaos");
      for (int i = 0; i < calls; i++) {
        b.call("sleep" + i, sleep, b.task("in" + i, () -> 0.005));
      }
      Dag dag = b.build();
      DagExecutor executor = DagExecutor.builder()
          .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(1_000).withDelay(Duration.ZERO)
              .handle(WorkerCrashedException.class).build())
          .withListener(new ExecutionListener() {
            @Override
            public void onTaskRetrying(TaskEvent e, Duration delay) {
              failedAttempts.incrementAndGet();
            }
          })
          .withMdc(false)
          .build();
      AtomicBoolean done = new AtomicBoolean();
      Thread killer = Thread.ofPlatform().start(() -> {
        try {
          while (!done.get() && killed.size() < maxKills) {
            Thread.sleep(50 + random.nextInt(100));
            List<Long> pids = python.pids();
            if (pids.isEmpty()) {
              continue;
            }
            long victim = pids.get(random.nextInt(pids.size()));
            if (!killed.contains(victim) && ProcessHandle.of(victim)
                .map(ProcessHandle::destroyForcibly).orElse(false)) {
              killed.add(victim);
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      long start = System.nanoTime();
      RunReport report = executor.run(dag);
      double seconds = (System.nanoTime() - start) / 1e9;
      done.set(true);
      killer.join();
      out.printf(Locale.ROOT, "{\"calls\":%d,\"status\":\"%s\",\"kills\":%d,"
          + "\"failedAttempts\":%d,\"failedAttemptsPerKill\":%.2f,\"seconds\":%.2f}%n", calls,
          report.status(), killed.size(), failedAttempts.get(),
          killed.isEmpty() ? 0.0 : failedAttempts.get() / (double) killed.size(), seconds);
      return report.succeeded() ? 0 : 1;
    }
  }
}
