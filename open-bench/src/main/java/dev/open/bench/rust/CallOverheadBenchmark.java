package dev.open.bench.rust;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.open.rust.internal.Binding;
import dev.open.rust.internal.NativeLibrary;

/**
 * The cost of an empty native call ({@code on_noop}, no arguments) through JNR-FFI and through
 * FFM, beside a Java method that the JIT may not inline: the floor any kernel call pays.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class CallOverheadBenchmark {
  private Binding jnr;
  private Binding ffm;

  @Setup
  public void setUp() {
    jnr = NativeLibrary.load("jnr").binding();
    ffm = NativeLibrary.load("ffm").binding();
  }

  @Benchmark
  public void jnrNoop() {
    jnr.noop();
  }

  @Benchmark
  public void ffmNoop() {
    ffm.noop();
  }

  @Benchmark
  public void javaMethod() {
    emptyJavaMethod();
  }

  @CompilerControl(CompilerControl.Mode.DONT_INLINE)
  private static void emptyJavaMethod() {}
}
