package dev.open.cluster;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryUpdatedListener;

import dev.open.dag.RunReport;

/**
 * A run across the cluster, as seen from one member: returned by {@link ClusterExecutor#start} on
 * the member that started it and by {@link ClusterExecutor#find} on any member. Waiting works from
 * every member and across takeovers: the final report is recorded in the cluster, and whichever
 * member finishes the run records it. Thread-safe.
 */
public final class ClusterRun {
  private final ClusterExecutor cluster;
  private final long id;
  private final String dag;
  private volatile ReportCodec.Decoded decoded;

  ClusterRun(ClusterExecutor cluster, long id, String dag) {
    this.cluster = cluster;
    this.id = id;
    this.dag = dag;
  }

  /** {@return the run's id, unique in the cluster: give it to {@link ClusterExecutor#find}} */
  public long id() {
    return id;
  }

  /** {@return the name of the DAG being run} */
  public String dag() {
    return dag;
  }

  /** {@return whether the run has finished} */
  public boolean isDone() {
    if (decoded != null) {
      return true;
    }
    RunRecord record = cluster.runs().get(id);
    return record == null || record.finished();
  }

  /**
   * {@return how many times the run changed coordinator: 0 while the member that started it
   * coordinates it, one more for every takeover}
   */
  public int takeovers() {
    RunRecord record = cluster.runs().get(id);
    return record == null ? 0 : record.epoch();
  }

  /**
   * Returns the member coordinating the run now, or that finished it.
   *
   * @return the member's UUID
   */
  public UUID coordinator() {
    RunRecord record = cluster.runs().get(id);
    if (record == null) {
      throw new IllegalStateException("the cluster no longer knows run " + id);
    }
    return record.coordinator();
  }

  /**
   * Returns how often each node (or element, as {@code node[i]}) was placed again because the
   * member running it left the cluster, as far as known here: complete once the run has finished
   * ({@link #await()}), and during the run on its coordinator.
   *
   * @return node label to relocations; empty when none
   */
  public Map<String, Integer> relocations() {
    ReportCodec.Decoded done = decoded;
    if (done != null) {
      return done.relocations();
    }
    ClusterExecutor.Coordinated local = cluster.coordinated(id);
    return local == null ? Map.of() : Map.copyOf(local.relocations());
  }

  /**
   * Blocks until the run has finished, wherever it is coordinated.
   *
   * @return the final report, its {@link RunReport#runId()} equal to {@link #id()}
   * @throws InterruptedException if the calling thread is interrupted while waiting (the run goes
   *     on)
   * @throws IllegalStateException if the cluster lost or forgot the run, no member is left that
   *     could finish it, or this member does not serve its DAG (a report is rebuilt against the
   *     member's own copy of the DAG)
   */
  public RunReport await() throws InterruptedException {
    try {
      return await(null);
    } catch (TimeoutException e) {
      throw new IllegalStateException("no timeout was set", e);
    }
  }

  /**
   * Blocks until the run has finished or {@code timeout} has passed.
   *
   * @param timeout how long to wait at most
   * @return the final report
   * @throws InterruptedException if the calling thread is interrupted while waiting
   * @throws TimeoutException if the run has not finished in time (it goes on)
   */
  public RunReport await(Duration timeout) throws InterruptedException, TimeoutException {
    ReportCodec.Decoded done = decoded;
    if (done != null) {
      return done.report();
    }
    ClusterExecutor.Coordinated local = cluster.coordinated(id);
    if (local != null) {
      RunReport report = get(local.done(), timeout);
      decoded = new ReportCodec.Decoded(report, Map.copyOf(local.relocations()));
      return report;
    }
    return awaitRecord(timeout).report();
  }

  private ReportCodec.Decoded awaitRecord(Duration timeout)
      throws InterruptedException, TimeoutException {
    if (!cluster.dags().contains(dag)) {
      throw new IllegalStateException("this member does not serve DAG '" + dag + "', against "
          + "which the report of run " + id + " is rebuilt");
    }
    IMap<Long, RunRecord> runs = cluster.runs();
    CompletableFuture<RunRecord> finished = new CompletableFuture<>();
    UUID listener = runs.addEntryListener((EntryUpdatedListener<Long, RunRecord>) event -> {
      if (event.getValue().finished()) {
        finished.complete(event.getValue());
      }
    }, id, true);
    try {
      long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
      boolean strandedBefore = false;
      while (!finished.isDone()) {
        // After the listener: an update in between is not missed. Looked at again every second,
        // so that a run nobody can finish fails here instead of hanging.
        RunRecord now = runs.get(id);
        if (now == null) {
          throw new IllegalStateException("the cluster lost run " + id + " (its record is gone: "
              + "both copies lost, or forgotten after its retention)");
        }
        if (now.finished()) {
          finished.complete(now);
          break;
        }
        boolean stranded = cluster.stranded(now);
        if (stranded && strandedBefore) {
          throw new IllegalStateException("run " + id + " of DAG '" + dag + "' lost its "
              + "coordinator and no member serving that DAG is left to take it over");
        }
        strandedBefore = stranded;
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException("run " + id + " has not finished in " + timeout);
        }
        try {
          finished.get(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          // look again
        } catch (ExecutionException e) {
          throw new IllegalStateException(e.getCause());
        }
      }
      RunRecord record = finished.join();
      byte[] report = cluster.reports().get(record.reportKey());
      if (report == null) {
        throw new IllegalStateException("the report of run " + id + " is gone (both copies "
            + "lost, or forgotten after its retention)");
      }
      ReportCodec.Decoded result = ReportCodec.decode(report, cluster.dagNamed(record.dag()),
          cluster.codecs());
      decoded = result;
      return result;
    } finally {
      runs.removeEntryListener(listener);
    }
  }

  private static <T> T get(CompletableFuture<T> future, Duration timeout)
      throws InterruptedException, TimeoutException {
    try {
      return timeout == null ? future.get()
          : future.get(Objects.requireNonNull(timeout).toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public String toString() {
    return "ClusterRun[" + id + ", " + dag + "]";
  }
}
