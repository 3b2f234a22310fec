package dev.open.bench.ports;

import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
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
import org.openjdk.jmh.annotations.Warmup;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;
import dev.open.ports.WorkerPool;

/**
 * A float64 array to a Python worker and back, in a JVM with default flags, side by side:
 *
 * <ul>
 *   <li>{@code pipe}: shared memory off, the bytes cross the two pipes (what OPEN did before);
 *   <li>{@code shm}: shared memory on (the default), the argument an ordinary {@link NDArray}
 *       that the host copies into a segment;
 *   <li>{@code shared}: shared memory on, the argument made by {@link
 *       WorkerPool#allocateShared}, which travels by name without a copy;
 * </ul>
 *
 * for a task that returns its argument ({@code identity}) and one that computes a new array
 * ({@code array_double}, {@code a * 2} in NumPy). {@link #copyBaseline} is the floor: a copy of
 * the same bytes from one direct buffer to another in the JVM (a {@code memcpy}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(2)
public class SharedMemoryBenchmark {

  /** The array's size in MiB. */
  @State(Scope.Benchmark)
  public static class Size {
    @Param({"64", "1024"})
    public int mib;

    NDArray filled(NDArray array) {
      DoubleBuffer d = array.asDoubleBuffer();
      for (int i = 0; i < d.capacity(); i++) {
        d.put(i, i * 0.5);
      }
      return array;
    }

    int elements() {
      return mib << 17; // 8-byte elements
    }
  }

  /** A pool, the argument, and the transport. */
  @State(Scope.Benchmark)
  public static class RoundTrip {
    @Param({"pipe", "shm", "shared"})
    public String transport;

    @Param({"identity", "array_double"})
    public String task;

    WorkerPool pool;
    NDArray argument;

    @Setup
    public void setUp(Size size) {
      pool = Pools.python(1, !transport.equals("pipe"));
      argument = size.filled(transport.equals("shared")
          ? pool.allocateShared(DType.FLOAT64, size.elements())
          : NDArray.allocate(DType.FLOAT64, size.elements()));
    }

    @TearDown
    public void tearDown() {
      pool.close();
    }
  }

  /** Two direct buffers of the size, for the copy baseline. */
  @State(Scope.Benchmark)
  public static class Copy {
    ByteBuffer from;
    ByteBuffer to;

    @Setup
    public void setUp(Size size) {
      from = size.filled(NDArray.allocate(DType.FLOAT64, size.elements())).buffer();
      to = ByteBuffer.allocateDirect(from.capacity());
    }
  }

  /**
   * Where shared memory starts to pay: arrays from 64 KiB to 4 MiB (ordinary {@code NDArray}s,
   * {@code identity}), pipe against shared memory with the threshold at 1 byte; and the small
   * call ({@code add(1, 2)}), which must cost what it did.
   */
  @State(Scope.Benchmark)
  public static class Crossover {
    @Param({"pipe", "shm"})
    public String transport;

    @Param({"0", "64", "256", "1024", "4096"})
    public int kib;

    WorkerPool pool;
    NDArray argument;

    @Setup
    public void setUp() {
      pool = Pools.python(1, !transport.equals("pipe"), 1);
      argument = NDArray.allocate(DType.FLOAT64, Math.max(kib, 1) << 7);
    }

    @TearDown
    public void tearDown() {
      pool.close();
    }
  }

  @Benchmark
  public Object crossover(Crossover state) {
    return state.kib == 0 ? state.pool.call("open_test_tasks:add", 1, 2).join()
        : state.pool.call("open_test_tasks:identity", state.argument).join();
  }

  @Benchmark
  public Object roundTrip(RoundTrip state) {
    return state.pool.call("open_test_tasks:" + state.task, state.argument).join();
  }

  @Benchmark
  public Object copyBaseline(Copy state) {
    return state.to.clear().put(state.from.duplicate());
  }
}
