package dev.open.bench.rust;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Random;
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
import org.openjdk.jmh.annotations.Warmup;

import dev.open.rust.RustKernels;

/**
 * Hashing throughput: OPEN's BLAKE3 (Rust) beside the JDK's {@code MessageDigest} SHA-256, what
 * a Java user has at hand; OPEN's own SHA-256 for reference. Divide the size by the time for the
 * throughput.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class HashBenchmark {
  @Param({"4096", "1048576", "16777216"})
  public int size;

  private RustKernels rust;
  private byte[] data;
  private ByteBuffer direct;
  private MessageDigest sha256;

  @Setup
  public void setUp() throws NoSuchAlgorithmException {
    rust = RustKernels.load();
    data = new byte[size];
    new Random(size).nextBytes(data);
    direct = ByteBuffer.allocateDirect(size).put(data).flip();
    sha256 = MessageDigest.getInstance("SHA-256");
  }

  @Benchmark
  public byte[] rustBlake3Heap() {
    return rust.blake3(data);
  }

  @Benchmark
  public byte[] rustBlake3Direct() {
    return rust.blake3(direct);
  }

  @Benchmark
  public byte[] jdkSha256() {
    return sha256.digest(data);
  }

  @Benchmark
  public byte[] rustSha256Heap() {
    return rust.sha256(data);
  }
}
