package dev.open.bench.rust;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
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
import org.openjdk.jmh.annotations.Warmup;

import dev.open.dag.array.NDArray;
import dev.open.rust.RustKernels;

/**
 * Square float64 matrix multiply, one thread: OPEN's Rust kernel (heap arrays, and off-heap
 * {@link NDArray}s written in place) beside the naive Java triple loop and EJML. NumPy with
 * OpenBLAS on one thread is timed by {@code open-bench/python/numpy_matmul.py} in the same session
 * (make bench-matmul).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class MatmulBenchmark {
  @Param({"64", "256", "512", "1024"})
  public int n;

  private RustKernels rust;
  private double[] a;
  private double[] b;
  private NDArray na;
  private NDArray nb;
  private NDArray nc;
  private DMatrixRMaj ea;
  private DMatrixRMaj eb;
  private DMatrixRMaj ec;

  @Setup
  public void setUp() {
    rust = RustKernels.load();
    Random random = new Random(n);
    a = new double[n * n];
    b = new double[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = random.nextDouble();
      b[i] = random.nextDouble();
    }
    na = NDArray.of(a, n, n);
    nb = NDArray.of(b, n, n);
    nc = NDArray.allocate(na.dtype(), n, n);
    ea = DMatrixRMaj.wrap(n, n, a.clone());
    eb = DMatrixRMaj.wrap(n, n, b.clone());
    ec = new DMatrixRMaj(n, n);
  }

  @Benchmark
  public double[] rustHeapArrays() {
    return rust.matmul(a, b, n, n, n);
  }

  @Benchmark
  public NDArray rustNDArray() {
    rust.matmul(na, nb, nc);
    return nc;
  }

  @Benchmark
  public DMatrixRMaj ejml() {
    CommonOps_DDRM.mult(ea, eb, ec);
    return ec;
  }

  @Benchmark
  public double[] naiveJava() {
    double[] c = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double sum = 0;
        for (int k = 0; k < n; k++) {
          sum += a[i * n + k] * b[k * n + j];
        }
        c[i * n + j] = sum;
      }
    }
    return c;
  }
}
