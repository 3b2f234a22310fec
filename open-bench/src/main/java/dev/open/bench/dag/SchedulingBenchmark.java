package dev.open.bench.dag;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.open.dag.Dag;
import dev.open.dag.DagExecutor;
import dev.open.dag.RunReport;

/**
 * Scheduling overhead per node: DAGs of no-op tasks, run by OPEN and, on the same executor (a new
 * virtual thread per ready task), by a hand-written {@link java.util.concurrent.CompletableFuture}
 * graph. Each invocation is one whole run; divide by {@code nodes} for the cost per node.
 * The MDC is off, as it is a logging cost, not a scheduling one.
 *
 * <p>{@code open} runs a prebuilt DAG (a DAG is immutable and reusable); {@code completableFuture}
 * builds its graph every time, since a future completes once: that wiring is its scheduling.
 * {@code openBuildAndRun} builds the DAG too, for the like-for-like comparison.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, batchSize = 1)
@Measurement(iterations = 10, batchSize = 1)
@Fork(value = 3, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class SchedulingBenchmark {
  private static final Executor VIRTUAL_THREADS = Thread::startVirtualThread;

  @Param({"WIDE", "CHAIN", "LAYERED"})
  public Shape shape;

  @Param({"100000", "1000000"})
  public int nodes;

  private Dag dag;
  private int[][] parents;
  private DagExecutor executor;

  @Setup(Level.Trial)
  public void setUp() {
    dag = shape.dag(nodes);
    parents = shape.parents(nodes);
    executor = DagExecutor.builder().withExecutor(VIRTUAL_THREADS).withMdc(false).build();
  }

  @Benchmark
  public RunReport open() {
    return executor.run(dag);
  }

  @Benchmark
  public RunReport openBuildAndRun() {
    return executor.run(shape.dag(nodes));
  }

  @Benchmark
  public int completableFuture() {
    return Shape.runCompletableFutures(parents, VIRTUAL_THREADS);
  }
}
