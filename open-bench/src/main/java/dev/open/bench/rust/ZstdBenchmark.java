package dev.open.bench.rust;

import java.nio.ByteBuffer;
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
import org.openjdk.jmh.annotations.Warmup;

import com.github.luben.zstd.Zstd;

import dev.open.rust.RustKernels;

/**
 * zstd level 3 on a 16 MiB realistic corpus ({@link Corpus}): OPEN's Rust kernel beside zstd-jni,
 * the library a Java user would pick, both on heap arrays and on direct buffers (written into a
 * preallocated buffer by both, so that only the codec is measured).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class ZstdBenchmark {
  private static final int LEVEL = 3;

  private RustKernels rust;
  private byte[] data;
  private byte[] frame;
  private ByteBuffer directData;
  private ByteBuffer directFrame;
  private ByteBuffer jniOut; // destination buffers, shared by both direct variants
  private ByteBuffer jniBack;

  @Setup
  public void setUp() {
    rust = RustKernels.load();
    data = Corpus.of(16 << 20);
    frame = Zstd.compress(data, LEVEL);
    directData = ByteBuffer.allocateDirect(data.length).put(data).flip();
    directFrame = ByteBuffer.allocateDirect(frame.length).put(frame).flip();
    jniOut = ByteBuffer.allocateDirect((int) Zstd.compressBound(data.length));
    jniBack = ByteBuffer.allocateDirect(data.length);
    if (!java.util.Arrays.equals(rust.zstdDecompress(frame), data)
        || !java.util.Arrays.equals(Zstd.decompress(rust.zstdCompress(data, LEVEL), data.length), data)) {
      throw new IllegalStateException("the two implementations do not read each other's frames");
    }
  }

  @Benchmark
  public byte[] rustCompressHeap() {
    return rust.zstdCompress(data, LEVEL);
  }

  @Benchmark
  public byte[] zstdJniCompressHeap() {
    return Zstd.compress(data, LEVEL);
  }

  @Benchmark
  public int rustCompressDirect() {
    jniOut.clear();
    return rust.zstdCompress(directData.duplicate(), jniOut, LEVEL);
  }

  @Benchmark
  public int zstdJniCompressDirect() {
    jniOut.clear();
    return Zstd.compress(jniOut, directData.duplicate(), LEVEL);
  }

  @Benchmark
  public byte[] rustDecompressHeap() {
    return rust.zstdDecompress(frame);
  }

  @Benchmark
  public byte[] zstdJniDecompressHeap() {
    return Zstd.decompress(frame, data.length);
  }

  @Benchmark
  public int rustDecompressDirect() {
    jniBack.clear();
    return rust.zstdDecompress(directFrame.duplicate(), jniBack);
  }

  @Benchmark
  public int zstdJniDecompressDirect() {
    jniBack.clear();
    return Zstd.decompress(jniBack, directFrame.duplicate());
  }
}
