package dev.open.examples;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import dev.open.dag.Dag;
import dev.open.dag.DagExecutor;
import dev.open.dag.RunReport;
import dev.open.ports.WorkerPool;
import dev.open.report.ConsoleProgress;
import dev.open.report.HtmlReport;
import dev.open.report.RunTimeline;

/**
 * What the examples share: the repository they run in, their pool of Python workers, a call to
 * a worker made from inside a Java task (a {@code map} element), where a DAG's {@code call} node
 * cannot be used, and a run shown while it goes and reported after.
 */
final class ExampleWorkers {
  private ExampleWorkers() {}

  /**
   * A finished run and its HTML report.
   *
   * @param report the run's report
   * @param html the HTML report's absolute path
   */
  record Observed(RunReport report, Path html) {}

  /**
   * Runs {@code dag} with its progress on the console, then writes its HTML report, retries and
   * workers included, to {@code target/<name>-report.html}.
   *
   * @param executor the executor's settings; the progress and the timeline are added to them
   * @param dag the DAG
   * @param name the report's name
   * @return the run and its report; the run may have failed
   */
  static Observed runObserved(DagExecutor.Builder executor, Dag dag, String name) {
    RunTimeline timeline = new RunTimeline();
    RunReport report;
    try (ConsoleProgress progress = ConsoleProgress.create()) {
      report = executor.withListener(timeline).withListener(progress).build().run(dag);
    }
    return new Observed(report,
        HtmlReport.write(report, timeline, Path.of("target", name + "-report.html")));
  }

  /** The repository root: {@code -Dopen.repo}, else the working directory. */
  static Path repo() {
    return Path.of(System.getProperty("open.repo", ".")).toAbsolutePath();
  }

  /** How many Python workers the examples start: one per processor, 2 to 4. */
  static int workers() {
    return Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  /**
   * Starts Python workers for the {@code open_examples} task modules, with the interpreter of
   * {@link Flagship#pythonInterpreter(Path)} ({@code -Dopen.python}, else the repository's
   * {@code .venv}, else {@code python3}).
   */
  static WorkerPool python(Path repo) {
    return WorkerPool.python()
        .withInterpreter(Flagship.pythonInterpreter(repo))
        .withModulePath(repo.resolve("python-worker/examples"))
        .withAllowedModules("open_examples.*")
        .withWorkers(workers())
        .build();
  }

  /**
   * Waits for a worker call as a DAG's {@code call} node does: an interrupt (the node's timeout,
   * the run's cancellation) cancels the call in the worker, and the call's own failure ({@code
   * RemoteException}, {@code WorkerCrashedException}, ...) is thrown as it is, so that a retry
   * policy sees its type.
   *
   * @param call the pending call
   * @param type the expected type of the result
   * @param <T> the result type
   * @return the result
   * @throws Exception the call's failure, or {@link InterruptedException}
   */
  static <T> T await(CompletableFuture<Object> call, Class<T> type) throws Exception {
    Object value;
    try {
      value = call.get();
    } catch (InterruptedException e) {
      call.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
    if (!type.isInstance(value)) {
      throw new ClassCastException("a worker returned "
          + (value == null ? "null" : value.getClass().getName()) + ", expected "
          + type.getName());
    }
    return type.cast(value);
  }
}
