package dev.open.dag.metrics;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.RunStartedEvent;
import dev.open.dag.event.TaskEvent;

/**
 * Binds the events of runs to Micrometer meters. Register it as a listener:
 *
 * <pre>{@code
 * DagExecutor executor = DagExecutor.builder()
 *     .withListener(new DagMetrics(registry))
 *     .build();
 * }</pre>
 *
 * <p>Meters, tagged {@code dag}, {@code node} and {@code backend}:
 *
 * <ul>
 *   <li>{@code open.dag.tasks.started}, {@code .succeeded}, {@code .failed}, {@code .skipped},
 *       {@code .cancelled}, {@code .cached} (counters of tasks; a cached task did not run, and
 *       only a cached map node counted as started) and {@code open.dag.tasks.retried} (counter of
 *       attempts that are tried again);
 *   <li>{@code open.dag.task.duration} (timer of tasks that ran, with an {@code outcome} tag:
 *       {@code succeeded}, {@code failed} or {@code cancelled});
 *   <li>{@code open.dag.tasks.running} (gauge of running tasks, tagged {@code dag} only).
 * </ul>
 *
 * <p>and for whole runs, tagged {@code dag}: {@code open.dag.runs.started} (counter), {@code
 * open.dag.runs.finished} and {@code open.dag.run.duration} (counter and timer of finished runs,
 * with a {@code status} tag: {@code SUCCEEDED}, {@code FAILED} or {@code CANCELLED}), {@code
 * open.dag.runs.active} (gauge of runs started and not finished).
 *
 * <p>A DAG of many thousands of nodes makes as many meters per name; {@link #DagMetrics(
 * MeterRegistry, boolean)} with {@code nodeTag = false} leaves the {@code node} tag out. Meters are
 * looked up once per node and cached. Thread-safe.
 */
public final class DagMetrics implements ExecutionListener {
  private final MeterRegistry registry;
  private final boolean nodeTag;
  private final ConcurrentMap<Key, Meters> meters = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, AtomicInteger> running = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, AtomicInteger> active = new ConcurrentHashMap<>();

  /**
   * Creates a binder that tags meters with the node name.
   *
   * @param registry where meters are registered
   */
  public DagMetrics(MeterRegistry registry) {
    this(registry, true);
  }

  /**
   * Creates a binder.
   *
   * @param registry where meters are registered
   * @param nodeTag whether meters carry a {@code node} tag (one meter per node and name)
   */
  public DagMetrics(MeterRegistry registry, boolean nodeTag) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.nodeTag = nodeTag;
  }

  @Override
  public void onRunStarted(RunStartedEvent event) {
    Counter.builder("open.dag.runs.started").description("runs started")
        .tag("dag", event.dag()).register(registry).increment();
    activeOf(event.dag()).incrementAndGet();
  }

  @Override
  public void onRunFinished(RunReport report) {
    String dag = report.dag().name();
    activeOf(dag).decrementAndGet(); // first: a registry refusing a meter below must not keep it
    String status = report.status().name();
    Counter.builder("open.dag.runs.finished").description("runs finished")
        .tags("dag", dag, "status", status).register(registry).increment();
    Timer.builder("open.dag.run.duration").description("how long runs took")
        .tags("dag", dag, "status", status).register(registry).record(report.duration());
  }

  @Override
  public void onTaskStarted(TaskEvent event) {
    meters(event).started.increment();
    runningOf(event.dag()).incrementAndGet();
  }

  @Override
  public void onTaskRetrying(TaskEvent event, Duration delay) {
    meters(event).retried.increment();
  }

  @Override
  public void onTaskSucceeded(TaskEvent event) {
    Meters m = meters(event);
    m.succeeded.increment();
    m.succeededTime.record(event.duration());
    runningOf(event.dag()).decrementAndGet();
  }

  @Override
  public void onTaskFailed(TaskEvent event) {
    Meters m = meters(event);
    m.failed.increment();
    m.failedTime.record(event.duration());
    runningOf(event.dag()).decrementAndGet();
  }

  @Override
  public void onTaskSkipped(TaskEvent event) {
    meters(event).skipped.increment();
  }

  @Override
  public void onTaskCached(TaskEvent event) {
    meters(event).cached.increment();
    if (event.started()) { // a map node, counted as running when it started
      runningOf(event.dag()).decrementAndGet();
    }
  }

  @Override
  public void onTaskCancelled(TaskEvent event) {
    Meters m = meters(event);
    m.cancelled.increment();
    if (event.started()) {
      m.cancelledTime.record(event.duration());
      runningOf(event.dag()).decrementAndGet();
    }
  }

  private Meters meters(TaskEvent event) {
    Key key = new Key(event.dag(), nodeTag ? event.node() : "", event.backend());
    Meters m = meters.get(key);
    return m != null ? m : meters.computeIfAbsent(key, this::register);
  }

  private AtomicInteger activeOf(String dag) {
    return gaugeOf(active, dag, "open.dag.runs.active", "runs started and not finished");
  }

  private AtomicInteger runningOf(String dag) {
    return gaugeOf(running, dag, "open.dag.tasks.running", "tasks running now");
  }

  /** The count behind the gauge {@code name} of {@code dag}, registered on first use. */
  private AtomicInteger gaugeOf(ConcurrentMap<String, AtomicInteger> counts, String dag,
      String name, String description) {
    AtomicInteger count = counts.get(dag);
    return count != null ? count : counts.computeIfAbsent(dag, d -> {
      AtomicInteger gauge = new AtomicInteger();
      Gauge.builder(name, gauge, AtomicInteger::get).description(description).tag("dag", d)
          .register(registry);
      return gauge;
    });
  }

  private Meters register(Key key) {
    Tags tags = Tags.of("dag", key.dag, "backend", key.backend);
    if (nodeTag) {
      tags = tags.and("node", key.node);
    }
    return new Meters(registry, tags);
  }

  private record Key(String dag, String node, String backend) {}

  private static final class Meters {
    final Counter started;
    final Counter succeeded;
    final Counter failed;
    final Counter retried;
    final Counter skipped;
    final Counter cancelled;
    final Counter cached;
    final Timer succeededTime;
    final Timer failedTime;
    final Timer cancelledTime;

    Meters(MeterRegistry registry, Tags tags) {
      started = counter(registry, "open.dag.tasks.started", "tasks started", tags);
      succeeded = counter(registry, "open.dag.tasks.succeeded", "tasks succeeded", tags);
      failed = counter(registry, "open.dag.tasks.failed", "tasks failed for good", tags);
      retried = counter(registry, "open.dag.tasks.retried", "attempts tried again", tags);
      skipped = counter(registry, "open.dag.tasks.skipped", "tasks skipped", tags);
      cancelled = counter(registry, "open.dag.tasks.cancelled", "tasks cancelled", tags);
      cached = counter(registry, "open.dag.tasks.cached", "tasks loaded from the result store",
          tags);
      succeededTime = timer(registry, tags, "succeeded");
      failedTime = timer(registry, tags, "failed");
      cancelledTime = timer(registry, tags, "cancelled");
    }

    private static Counter counter(MeterRegistry r, String name, String what, Tags tags) {
      return Counter.builder(name).description(what).tags(tags).register(r);
    }

    private static Timer timer(MeterRegistry r, Tags tags, String outcome) {
      return Timer.builder("open.dag.task.duration")
          .description("how long tasks ran, all attempts included")
          .tags(tags)
          .tag("outcome", outcome)
          .register(r);
    }
  }
}
