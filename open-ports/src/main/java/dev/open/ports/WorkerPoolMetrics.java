package dev.open.ports;

import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Binds a {@link WorkerPool}'s health to Micrometer meters, tagged {@code pool} with the pool's
 * name:
 *
 * <ul>
 *   <li>{@code open.workers.size} (gauge): the workers the pool keeps, as configured;
 *   <li>{@code open.workers.alive} (gauge): live workers — fewer than {@code size} while
 *       replacements start;
 *   <li>{@code open.workers.busy} (gauge): live workers with at least one call in flight;
 *   <li>{@code open.workers.calls.inflight} (gauge): calls sent and not answered;
 *   <li>{@code open.workers.rss} (gauge, bytes): resident memory of the live workers, summed;
 *   <li>{@code open.workers.restarts} (counter): workers started to replace dead or recycled
 *       ones;
 *   <li>{@code open.workers.calls} (counter): calls started on a worker (one run again counts
 *       again).
 * </ul>
 *
 * <pre>{@code
 * new WorkerPoolMetrics(pool).bindTo(registry);
 * }</pre>
 *
 * <p>Gauges are read when the registry is scraped: each read of the busy, in-flight and memory
 * gauges asks the pool for its workers' {@linkplain WorkerPool#status() status}, which reads
 * {@code /proc} for memory. The meters hold the pool weakly, as Micrometer's gauges do, and read
 * 0 once it is closed and collected.
 */
public final class WorkerPoolMetrics implements MeterBinder {
  private final WorkerPool pool;
  private final Tags tags;

  /**
   * Creates a binder for {@code pool}.
   *
   * @param pool the pool
   */
  public WorkerPoolMetrics(WorkerPool pool) {
    this(pool, Tags.empty());
  }

  /**
   * Creates a binder for {@code pool} whose meters carry {@code tags} besides {@code pool}. Two
   * pools of one language share a name: give each a tag of its own (say {@code role}), or the
   * registry keeps the first pool's meters for both.
   *
   * @param pool the pool
   * @param tags more tags for every meter
   */
  public WorkerPoolMetrics(WorkerPool pool, Iterable<Tag> tags) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.tags = Tags.of("pool", pool.name()).and(Objects.requireNonNull(tags, "tags"));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    gauge(registry, "open.workers.size", "workers the pool keeps", null,
        WorkerPool::configuredSize);
    gauge(registry, "open.workers.alive", "live workers", null, WorkerPool::size);
    gauge(registry, "open.workers.busy", "live workers with a call in flight", null,
        p -> sum(p.status(), s -> s.inFlight() > 0 ? 1 : 0));
    gauge(registry, "open.workers.calls.inflight", "calls sent to workers and not answered",
        null, p -> sum(p.status(), WorkerStatus::inFlight));
    gauge(registry, "open.workers.rss", "resident memory of the live workers", "bytes",
        p -> sum(p.status(), s -> Math.max(0, s.rssBytes())));
    FunctionCounter.builder("open.workers.restarts", pool, WorkerPool::restarts)
        .description("workers started to replace dead or recycled ones")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder("open.workers.calls", pool, WorkerPool::callsStarted)
        .description("calls started on a worker")
        .tags(tags)
        .register(registry);
  }

  private void gauge(MeterRegistry registry, String name, String description, String unit,
      ToDoubleFunction<WorkerPool> value) {
    Gauge.builder(name, pool, value).description(description).baseUnit(unit).tags(tags)
        .register(registry);
  }

  private static double sum(List<WorkerStatus> workers, ToDoubleFunction<WorkerStatus> value) {
    double total = 0;
    for (WorkerStatus worker : workers) {
      total += value.applyAsDouble(worker);
    }
    return total;
  }
}
