package dev.open.bench.ports;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import dev.open.ports.WorkerPool;

/**
 * Calls into Python: the round trip of an empty call (sampled, for p50/p99), the throughput of a
 * pool of 2 workers fed by 8 threads for several prefetch bounds (calls a worker holds besides
 * the running one; the default is 1), and, beside them, what a user would otherwise write: a
 * fresh {@code python3 -c} process per call.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2)
public class PortCallBenchmark {
  private WorkerPool pool;

  @Setup
  public void setUp() {
    pool = Pools.python(2);
  }

  @TearDown
  public void tearDown() {
    pool.close();
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Object emptyCallRoundTrip() {
    return pool.call("open_test_tasks:echo", (Object) null).join();
  }

  /** A pool of 2 workers with a given prefetch bound. */
  @State(Scope.Benchmark)
  public static class PrefetchPool {
    @Param({"0", "1", "4"})
    public int prefetch;
    WorkerPool pool;

    @Setup
    public void setUp() {
      pool = Pools.python(2, prefetch);
    }

    @TearDown
    public void tearDown() {
      pool.close();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(8)
  public Object callsPerSecondTwoWorkers(PrefetchPool state) {
    return state.pool.call("open_test_tasks:echo", (Object) null).join();
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 1, time = 2)
  @Measurement(iterations = 3, time = 3)
  public int freshPythonProcessPerCall() throws Exception {
    Process p = new ProcessBuilder(Pools.interpreter(), "-c", "print(None)")
        .redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }
}
