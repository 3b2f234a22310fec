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
 * Throughput = 64 MiB / score (each direction carries 64 MiB).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 2, jvmArgsAppend = {"-Xmx6g"})
public class PortArrayBenchmark {
  private WorkerPool pool;
  private NDArray array;
  private List<Double> list;

  @Setup
  public void setUp() {
    pool = Pools.python(1);
    Random random = new Random(64);
    double[] values = new double[8 << 20];
    list = new ArrayList<>(values.length);
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextDouble();
      list.add(values[i]);
    }
    array = NDArray.of(values);
  }

  @TearDown
  public void tearDown() {
    pool.close();
  }

  @Benchmark
  public Object ndarrayBuffers() {
    return pool.call("open_test_tasks:identity", array).join();
  }

  @Benchmark
  public Object jsonList() {
    return pool.call("open_test_tasks:identity", list).join();
  }
}
