package dev.open.bench.ports;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.open.dag.array.NDArray;
import dev.open.ports.WorkerPool;

/**
 * A 64 MiB float64 array to Python and back (NumPy {@code identity}): as a binary buffer, the
 * protocol's way, beside the same 8 M numbers as a JSON list, what a naive protocol does.
 * Throughput = 64 MiB / score (each direction carries 64 MiB). These run with a pre-touched 6 GiB
 * heap, to measure the transport; {@link #ndarrayDoubledDefaultFlags} is the user's case: default
 * JVM flags and a task that returns a new array ({@code a * 2}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 4)
@Fork(value = 2, jvmArgsAppend = {"-Xms6g", "-Xmx6g", "-XX:+AlwaysPreTouch"})
public class PortArrayBenchmark {
  static final int ELEMENTS = 8 << 20; // 64 MiB of float64

  /** A pool and the array, as an off-heap NDArray. */
  @State(Scope.Benchmark)
  public static class Buffers {
    WorkerPool pool;
    NDArray array;

    @Setup
    public void setUp() {
      pool = Pools.python(1, false); // the pipes: SharedMemoryBenchmark has shared memory
      Random random = new Random(64);
      double[] values = new double[ELEMENTS];
      for (int i = 0; i < values.length; i++) {
        values[i] = random.nextDouble();
      }
      array = NDArray.of(values);
    }

    @TearDown
    public void tearDown() {
      pool.close();
    }
  }

  /** A pool and the same numbers as a list, which the protocol sends as JSON. */
  @State(Scope.Benchmark)
  public static class Json {
    WorkerPool pool;
    List<Double> list;

    @Setup
    public void setUp() {
      pool = Pools.python(1);
      Random random = new Random(64);
      list = new ArrayList<>(ELEMENTS);
      for (int i = 0; i < ELEMENTS; i++) {
        list.add(random.nextDouble());
      }
    }

    @TearDown
    public void tearDown() {
      pool.close();
    }
  }

  @Benchmark
  public Object ndarrayBuffers(Buffers state) {
    return state.pool.call("open_test_tasks:identity", state.array).join();
  }

  @Benchmark
  @Fork(value = 2)
  public Object ndarrayDoubledDefaultFlags(Buffers state) {
    return state.pool.call("open_test_tasks:array_double", state.array).join();
  }

  @Benchmark
  public Object jsonList(Json state) {
    return state.pool.call("open_test_tasks:identity", state.list).join();
  }
}
