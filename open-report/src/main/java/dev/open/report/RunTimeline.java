package dev.open.report;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.RunStartedEvent;
import dev.open.dag.event.TaskEvent;

/**
 * Records what a {@link RunReport} leaves out and a timeline shows: when each failed attempt
 * ended and why, before it was tried again; and where backends ran each task (which worker
 * process of a pool), so that the timeline has a lane per worker. Register it with {@link
 * dev.open.dag.DagExecutor.Builder#withListener} and pass it to {@link HtmlReport#write(RunReport,
 * RunTimeline, java.nio.file.Path)}.
 *
 * <p>It keeps the retries of the runs it saw, by run id, until {@link #forget(long)}: one entry per
 * retried attempt and one per node a backend placed, so its memory grows with retries and
 * worker calls, not with Java tasks. Thread-safe.
 */
public final class RunTimeline implements ExecutionListener {

  /**
   * An attempt that failed and was tried again.
   *
   * @param node the node's name
   * @param attempt the attempt that failed, from 1 (for a {@code map} node, an element's attempt)
   * @param failedAt when the attempt ended
   * @param ran how long the attempt ran
   * @param delay the backoff before the next attempt
   * @param error the attempt's failure, as {@code Class: message}
   */
  public record Retry(String node, int attempt, Instant failedAt, Duration ran, Duration delay,
      String error) {}

  private final InstantSource clock;
  /** What {@link #placements} says of a node whose attempts or elements ran in several places. */
  public static final String SEVERAL = "several";

  private final Map<Long, List<Retry>> retries = new ConcurrentHashMap<>();
  private final Map<Long, Map<String, String>> placements = new ConcurrentHashMap<>();

  /** Creates a timeline on the system clock. */
  public RunTimeline() {
    this(InstantSource.system());
  }

  /**
   * Creates a timeline on {@code clock}, the clock of the executor it listens to.
   *
   * @param clock the clock
   */
  public RunTimeline(InstantSource clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void onRunStarted(RunStartedEvent event) {
    retries.putIfAbsent(event.runId(), new ArrayList<>());
  }

  @Override
  public void onTaskRetrying(TaskEvent event, Duration delay) {
    Throwable error = event.error();
    Retry retry = new Retry(event.node(), event.attempt(), clock.instant(), event.duration(),
        delay, error == null ? "" : describe(error));
    List<Retry> list = retries.computeIfAbsent(event.runId(), id -> new ArrayList<>());
    synchronized (list) {
      list.add(retry);
    }
  }

  @Override
  public void onTaskPlaced(TaskEvent event, String where) {
    placements.computeIfAbsent(event.runId(), id -> new ConcurrentHashMap<>())
        .merge(event.node(), where, (before, now) -> before.equals(now) ? before : SEVERAL);
  }

  /**
   * Returns where backends ran the nodes of a run: the place a backend named ({@code "pid 4711"}
   * for a worker pool), or {@link #SEVERAL} for a node whose attempts or elements ran in more
   * than one. Nodes no backend placed (Java tasks, Rust kernels) are absent.
   *
   * @param runId the run's id
   * @return node name to place; empty for a run this timeline did not see
   */
  public Map<String, String> placements(long runId) {
    Map<String, String> map = placements.get(runId);
    return map == null ? Map.of() : Map.copyOf(map);
  }

  /**
   * Returns the retries of a run, in the order they happened.
   *
   * @param runId the run's id ({@link RunReport#runId()})
   * @return its retries; empty for a run this timeline did not see
   */
  public List<Retry> retries(long runId) {
    List<Retry> list = retries.get(runId);
    if (list == null) {
      return List.of();
    }
    synchronized (list) {
      return List.copyOf(list);
    }
  }

  /**
   * Lets go of what was recorded for a run.
   *
   * @param runId the run's id
   */
  public void forget(long runId) {
    retries.remove(runId);
    placements.remove(runId);
  }

  static String describe(Throwable error) {
    String message = error.getMessage();
    return error.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
