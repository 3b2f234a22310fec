package dev.open.rust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

/**
 * The kernels against plain-Java references and official vectors. Maven runs this class twice:
 * with the JNR-FFI binding (surefire) and with the FFM binding against the packaged jar
 * (failsafe, on a JDK >= 22).
 */
class RustKernelsTest {
  private static final RustKernels K = RustKernels.load();
  private static final HexFormat HEX = HexFormat.of();

  @TempDir
  Path dir;

  @Test
  void loadsOnceWithTheRequestedBinding() {
    assertThat(RustKernels.load()).isSameAs(K);
    assertThat(K.abiVersion()).isEqualTo(1);
    // Maven names the binding (surefire jnr, failsafe ffm); run without it (from an IDE), the
    // default applies: FFM on Java 22+ when the jar carries its classes, JNR-FFI otherwise.
    String requested = System.getProperty("open.native.binding", "");
    String expected = !requested.isEmpty() ? requested
        : Runtime.version().feature() >= 22 && ffmClassesPresent() ? "ffm" : "jnr";
    assertThat(K.binding()).as("binding, with open.native.binding='%s'", requested)
        .isEqualTo(expected);
    assertThat(K.libraryFile()).exists();
    K.noop();
  }

  private static boolean ffmClassesPresent() {
    try {
      Class.forName("dev.open.rust.internal.FfmBinding");
      return true;
    } catch (ClassNotFoundException e) {
      return false; // the classes directory: META-INF/versions/22 is only in the jar
    }
  }

  // ---------------------------------------------------------------------------------------------
  // matmul

  static double[] naive(double[] a, double[] b, int m, int k, int n) {
    double[] c = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int p = 0; p < k; p++) {
        for (int j = 0; j < n; j++) {
          c[i * n + j] += a[i * k + p] * b[p * n + j];
        }
      }
    }
    return c;
  }

  static double[] random(Random r, int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = r.nextGaussian();
    }
    return x;
  }

  static void assertClose(double[] actual, double[] expected, double relative) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      double tolerance = relative * Math.max(1.0, Math.abs(expected[i]));
      assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i],
          org.assertj.core.data.Offset.offset(tolerance));
    }
  }

  @ParameterizedTest(name = "{0}x{1} · {1}x{2}")
  @CsvSource({"1,1,1", "3,7,5", "65,33,129", "0,4,3", "4,0,3", "300,300,300"})
  void matmulMatchesThePlainJavaReference(int m, int k, int n) {
    Random r = new Random(31L * m + 7L * k + n);
    double[] a = random(r, m * k);
    double[] b = random(r, k * n);
    double[] expected = naive(a, b, m, k, n);

    assertClose(K.matmul(a, b, m, k, n), expected, 1e-9);
    NDArray c = K.matmul(NDArray.of(a, m, k), NDArray.of(b, k, n));
    assertThat(c.shape()).containsExactly(m, n);
    assertClose(c.toDoubleArray(), expected, 1e-9);
  }

  @Test
  void matmulInFloat32() {
    Random r = new Random(5);
    float[] a = new float[6 * 4];
    float[] b = new float[4 * 3];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) r.nextGaussian();
    }
    float[] c = K.matmul(a, b, 6, 4, 3);
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 3; j++) {
        double expected = 0;
        for (int p = 0; p < 4; p++) {
          expected += (double) a[i * 4 + p] * b[p * 3 + j];
        }
        assertThat((double) c[i * 3 + j]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4));
      }
    }
    NDArray nd = K.matmul(NDArray.of(a, 6, 4), NDArray.of(b, 4, 3));
    assertThat(nd.dtype()).isEqualTo(DType.FLOAT32);
    assertThat(nd.toFloatArray()).containsExactly(c);
  }

  @Test
  void matmulWritesIntoAGivenArrayWithoutCopies() {
    NDArray a = NDArray.of(new double[] {1, 2, 3, 4}, 2, 2);
    NDArray b = NDArray.of(new double[] {5, 6, 7, 8}, 2, 2);
    NDArray c = NDArray.allocate(DType.FLOAT64, 2, 2);
    ByteBuffer cBytes = c.buffer();

    K.matmul(a, b, c);

    assertThat(cBytes.getDouble(0)).isEqualTo(19.0);
    assertThat(c.toDoubleArray()).containsExactly(19, 22, 43, 50);
  }

  @Test
  void matmulRefusesBadArgumentsNamingThem() {
    double[] two = new double[2];
    assertThatThrownBy(() -> K.matmul(two, two, 1, 3, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a has 2 elements, m×k = 1×3 needs 3");
    assertThatThrownBy(() -> K.matmul(two, new double[3], 1, 2, 1))
        .hasMessage("b has 3 elements, k×n = 2×1 needs 2");
    assertThatThrownBy(() -> K.matmul(two, two, -1, 2, 1)).hasMessage("m must be >= 0, was -1");
    assertThatThrownBy(() -> K.matmul(null, two, 1, 2, 1))
        .isInstanceOf(NullPointerException.class).hasMessage("a");
    NDArray m23 = NDArray.allocate(DType.FLOAT64, 2, 3);
    assertThatThrownBy(() -> K.matmul(m23, m23)).hasMessage("b has 2 rows, a has 3 columns");
    assertThatThrownBy(() -> K.matmul(m23, NDArray.allocate(DType.FLOAT32, 3, 2)))
        .hasMessage("b is FLOAT32, a is FLOAT64");
    assertThatThrownBy(() -> K.matmul(NDArray.allocate(DType.FLOAT64, 6), m23))
        .hasMessage("a must be 2-D, has shape [6]");
    assertThatThrownBy(() -> K.matmul(m23, NDArray.allocate(DType.FLOAT64, 3, 2),
        NDArray.allocate(DType.FLOAT64, 3, 3))).hasMessage("c is 3×3, a·b is 2×2");
    assertThatThrownBy(() -> K.matmul(NDArray.allocate(DType.INT32, 2, 2), m23))
        .hasMessage("a must be float64 or float32, was INT32");
  }

  // ---------------------------------------------------------------------------------------------
  // statistics

  @Test
  void statisticsMatchPlainJava() {
    Random r = new Random(11);
    for (int n : new int[] {1, 2, 17, 1000, 200_000}) {
      double[] x = random(r, n);
      double[] y = random(r, n);
      double sum = 0;
      double dot = 0;
      for (int i = 0; i < n; i++) {
        sum += x[i];
        dot += x[i] * y[i];
      }
      double mean = sum / n;
      double ss = 0;
      for (double v : x) {
        ss += (v - mean) * (v - mean);
      }
      assertThat(K.sum(x)).isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-9 * n));
      assertThat(K.sum(NDArray.of(x))).isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-9 * n));
      assertThat(K.dot(x, y)).isCloseTo(dot, org.assertj.core.data.Offset.offset(1e-9 * n));
      assertThat(K.dot(NDArray.of(x), NDArray.of(y)))
          .isCloseTo(dot, org.assertj.core.data.Offset.offset(1e-9 * n));
      MeanVariance mv = K.meanVariance(x, 0);
      assertThat(mv.mean()).isCloseTo(mean, org.assertj.core.data.Offset.offset(1e-12));
      assertThat(mv.variance()).isCloseTo(ss / n, org.assertj.core.data.Offset.offset(1e-9));
      if (n > 1) {
        assertThat(K.meanVariance(NDArray.of(x), 1).variance())
            .isCloseTo(ss / (n - 1), org.assertj.core.data.Offset.offset(1e-9));
      }
      double[] sorted = x.clone();
      Arrays.sort(sorted);
      assertThat(K.minMax(x)).isEqualTo(new MinMax(sorted[0], sorted[n - 1]));
      assertThat(K.minMax(NDArray.of(x))).isEqualTo(new MinMax(sorted[0], sorted[n - 1]));
      double[] q = K.quantiles(x, 0, 0.25, 0.5, 1);
      assertThat(q[0]).isEqualTo(sorted[0]);
      assertThat(q[3]).isEqualTo(sorted[n - 1]);
      assertThat(q[1]).isCloseTo(linear(sorted, 0.25), org.assertj.core.data.Offset.offset(1e-12));
      assertThat(q[2]).isCloseTo(linear(sorted, 0.5), org.assertj.core.data.Offset.offset(1e-12));
      assertThat(K.quantiles(NDArray.of(x), 0.5)).containsExactly(q[2]);
    }
  }

  /** NumPy's default ('linear') quantile of sorted data. */
  static double linear(double[] sorted, double q) {
    double position = q * (sorted.length - 1);
    int lo = (int) Math.floor(position);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
  }

  @Test
  void statisticsFollowNumpyOnKnownValues() {
    double[] x = {1, 2, 3, 4};
    assertThat(K.quantiles(x, 0.5, 0.1)).containsExactly(2.5, 1.3);
    assertThat(K.meanVariance(x, 1)).isEqualTo(new MeanVariance(2.5, 1.6666666666666667));
    assertThat(K.minMax(new double[] {1, Double.NaN})).isEqualTo(new MinMax(Double.NaN, Double.NaN));
    assertThat(K.sum(new double[0])).isZero();
  }

  @Test
  void statisticsRefuseBadArgumentsNamingThem() {
    assertThatThrownBy(() -> K.dot(new double[2], new double[3]))
        .hasMessage("x has 2 elements, y has 3");
    assertThatThrownBy(() -> K.meanVariance(new double[] {1}, 1))
        .hasMessage("x has 1 values, needs more than ddof = 1");
    assertThatThrownBy(() -> K.minMax(new double[0])).hasMessage("x must not be empty");
    assertThatThrownBy(() -> K.quantiles(new double[] {1}, 1.5))
        .hasMessage("qs[0] must be in [0, 1], was 1.5");
    assertThatThrownBy(() -> K.sum(NDArray.of(new int[] {1})))
        .hasMessage("x must be float64, was INT32");
    NativeException nan = catchThrowableOfType(NativeException.class,
        () -> K.quantiles(new double[] {1, Double.NaN}, 0.5));
    assertThat(nan.status()).isEqualTo(NativeException.Status.INVALID_ARGUMENT);
    assertThat(nan).hasMessageContaining("NaN");
  }

  // ---------------------------------------------------------------------------------------------
  // zstd

  static byte[] corpus(int size, long seed) {
    Random r = new Random(seed);
    String[] words = {"matrix", "kernel", "worker", "virtual", "thread", "graph", "zstd", "frame"};
    StringBuilder sb = new StringBuilder(size + 16);
    while (sb.length() < size) {
      sb.append(words[r.nextInt(words.length)]).append(r.nextInt(10) == 0 ? '\n' : ' ');
    }
    return sb.substring(0, size).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void zstdRoundTripsAtEveryKindOfSize() {
    for (int size : new int[] {0, 1, 1000, 300_000, 3_000_000}) {
      byte[] data = corpus(size, size);
      for (int level : new int[] {-5, 1, 3, 19}) {
        byte[] frame = K.zstdCompress(data, level);
        assertThat(K.zstdDecompress(frame)).as("size %d level %d", size, level).isEqualTo(data);
      }
    }
    byte[] data = corpus(100_000, 1);
    ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
    ByteBuffer frame = K.zstdCompress(direct, 3);
    assertThat(direct.position()).isZero();
    ByteBuffer back = K.zstdDecompress(frame, data.length);
    byte[] out = new byte[back.remaining()];
    back.get(out);
    assertThat(out).isEqualTo(data);
    assertThat(K.zstdDecompress(K.zstdCompress(ByteBuffer.wrap(data), 3), data.length).remaining())
        .isEqualTo(data.length);
  }

  @Test
  void zstdIntoGivenDirectBuffersAllocatesNothingAndMovesPositions() {
    byte[] data = corpus(200_000, 4);
    ByteBuffer src = ByteBuffer.allocateDirect(data.length).put(data).flip();
    ByteBuffer frame = ByteBuffer.allocateDirect((int) K.zstdCompressBound(data.length));
    frame.position(3); // writes start at the position

    int written = K.zstdCompress(src, frame, 3);

    assertThat(src.hasRemaining()).isFalse();
    assertThat(frame.position()).isEqualTo(3 + written);
    frame.flip().position(3);
    ByteBuffer back = ByteBuffer.allocateDirect(data.length);
    assertThat(K.zstdDecompress(frame, back)).isEqualTo(data.length);
    byte[] out = new byte[data.length];
    back.flip().get(out);
    assertThat(out).isEqualTo(data);

    ByteBuffer tiny = ByteBuffer.allocateDirect(10);
    NativeException e = catchThrowableOfType(NativeException.class,
        () -> K.zstdDecompress(ByteBuffer.allocateDirect(written).put(0, frame, 3, written), tiny));
    assertThat(e.status()).isEqualTo(NativeException.Status.BUFFER_TOO_SMALL);
    assertThatThrownBy(() -> K.zstdCompress(ByteBuffer.wrap(data), frame, 3))
        .hasMessageStartingWith("src must be a direct buffer");
  }

  @Test
  void zstdDecompressesConcatenatedFrames() {
    byte[] a = corpus(5000, 1);
    byte[] b = corpus(7000, 2);
    byte[] fa = K.zstdCompress(a, 3);
    byte[] fb = K.zstdCompress(b, 9);
    byte[] both = Arrays.copyOf(fa, fa.length + fb.length);
    System.arraycopy(fb, 0, both, fa.length, fb.length);
    byte[] expected = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, expected, a.length, b.length);

    assertThat(K.zstdDecompress(both)).isEqualTo(expected);
  }

  @Test
  void corruptZstdInputIsANativeExceptionAndTheLibraryGoesOn() {
    byte[] frame = K.zstdCompress(corpus(10_000, 3), 3);
    byte[] corrupt = frame.clone();
    for (int i = 20; i < corrupt.length; i += 7) {
      corrupt[i] ^= 0x5a;
    }
    NativeException e = catchThrowableOfType(NativeException.class, () -> K.zstdDecompress(corrupt));
    assertThat(e.status()).isEqualTo(NativeException.Status.KERNEL_ERROR);
    assertThat(e.function()).isEqualTo("zstdDecompress");
    assertThat(e.getMessage()).startsWith("zstdDecompress failed (KERNEL_ERROR): ").hasSizeGreaterThan(40);

    NativeException truncated = catchThrowableOfType(NativeException.class,
        () -> K.zstdDecompress(Arrays.copyOf(frame, frame.length / 2)));
    assertThat(truncated).isNotNull();
    assertThat(catchThrowableOfType(NativeException.class,
        () -> K.zstdDecompress("not zstd at all".getBytes(StandardCharsets.UTF_8)))).isNotNull();
    assertThat(K.zstdDecompress(frame)).hasSize(10_000);
  }

  @Test
  void zstdRefusesOutputBeyondMaxSize() {
    byte[] bomb = K.zstdCompress(new byte[5_000_000], 19);
    NativeException e = catchThrowableOfType(NativeException.class, () -> K.zstdDecompress(bomb, 1000));
    assertThat(e.status()).isEqualTo(NativeException.Status.BUFFER_TOO_SMALL);
    assertThat(e).hasMessageContaining("5000000 bytes, more than maxSize 1000");
    assertThatThrownBy(() -> K.zstdCompress(new byte[1], 23))
        .hasMessage("level must be in [-131072, 22], was 23");
  }

  @Test
  void zstdFramesInteroperateWithTheZstdTool() throws Exception {
    assumeThat(zstdTool()).as("the zstd command-line tool is installed").isTrue();
    byte[] data = corpus(1_000_000, 42);
    Path ours = Files.write(dir.resolve("ours.zst"), K.zstdCompress(data, 3));
    Path plain = dir.resolve("plain.txt");
    run("zstd", "-q", "-d", "-f", ours.toString(), "-o", plain.toString());
    assertThat(Files.readAllBytes(plain)).isEqualTo(data);

    // The tool reading from a pipe writes frames without a content size.
    Path theirs = dir.resolve("theirs.zst");
    ProcessBuilder pb = new ProcessBuilder("zstd", "-q", "-c", "-19")
        .redirectInput(plain.toFile()).redirectOutput(theirs.toFile());
    assertThat(pb.start().waitFor()).isZero();
    Files.write(plain, data);
    byte[] frames = Files.readAllBytes(theirs);
    assertThat(K.zstdDecompress(frames)).isEqualTo(data);
  }

  private static boolean zstdTool() {
    try {
      return new ProcessBuilder("zstd", "--version").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(output).isZero();
  }

  // ---------------------------------------------------------------------------------------------
  // hashing

  @Test
  void sha256MatchesTheFipsVectors() {
    assertThat(hex(K.sha256("abc".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(hex(K.sha256(
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    byte[] million = new byte[1_000_000];
    Arrays.fill(million, (byte) 'a');
    assertThat(hex(K.sha256(million)))
        .isEqualTo("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assertThat(hex(K.sha256(new byte[0])))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }

  @Test
  void blake3MatchesTheOfficialVectors() throws IOException {
    Path vectors = Path.of(System.getProperty("open.rust.dir", "../rust"),
        "tests/data/blake3_hash_vectors.txt");
    int checked = 0;
    for (String line : Files.readAllLines(vectors)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.trim().split("\\s+");
      int length = Integer.parseInt(parts[0]);
      byte[] input = new byte[length];
      for (int i = 0; i < length; i++) {
        input[i] = (byte) (i % 251);
      }
      assertThat(hex(K.blake3(input))).as("input length %d", length).isEqualTo(parts[1]);
      ByteBuffer direct = ByteBuffer.allocateDirect(length).put(input).flip();
      assertThat(hex(K.blake3(direct))).isEqualTo(parts[1]);
      checked++;
    }
    assertThat(checked).isGreaterThan(30);
  }

  @Test
  void largeInputsTakeTheOffHeapPathAndAgreeWithTheJdk() throws Exception {
    byte[] big = corpus(5_000_000, 9); // over the pin limit: copied off-heap for the call
    assertThat(K.sha256(big)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(big));
    assertThat(K.sha256(ByteBuffer.wrap(big))).isEqualTo(K.sha256(big));
  }

  static String hex(byte[] bytes) {
    return HEX.formatHex(bytes);
  }

  // ---------------------------------------------------------------------------------------------
  // text, panics, concurrency

  @Test
  void countsUnicodeWordsMostFrequentFirst() {
    Map<String, Long> counts = K.tokenCounts("Straße STRASSE naïve café, CAFÉ! 東京 123 don't the THE the");

    assertThat(counts).containsEntry("café", 2L).containsEntry("the", 3L)
        .containsEntry("straße", 1L).containsEntry("strasse", 1L).containsEntry("don't", 1L)
        .containsEntry("123", 1L).containsEntry("naïve", 1L);
    assertThat(counts.keySet()).startsWith("the", "café");
    assertThat(K.tokenCounts("")).isEmpty();
    assertThat(K.tokenCounts("  ,.;  ")).isEmpty();
    String large = "word ".repeat(400_000) + "rare";
    assertThat(K.tokenCounts(large)).containsExactly(Map.entry("word", 400_000L), Map.entry("rare", 1L));
  }

  @Test
  void aRustPanicBecomesANativeExceptionAndLaterCallsWork() {
    NativeException e = catchThrowableOfType(NativeException.class,
        () -> K.debugPanic("kernel bug: index 7 out of range"));

    assertThat(e.status()).isEqualTo(NativeException.Status.PANIC);
    assertThat(e).hasMessage("debugPanic failed (PANIC): kernel bug: index 7 out of range");
    assertThat(K.sum(new double[] {1, 2})).isEqualTo(3.0);
    String long1 = "x".repeat(5000);
    NativeException truncated = catchThrowableOfType(NativeException.class, () -> K.debugPanic(long1));
    assertThat(truncated.getMessage()).hasSizeLessThan(600);
  }

  @Test
  void manyVirtualThreadsCallAtOnce() throws Exception {
    byte[] data = corpus(50_000, 77);
    byte[] expectedHash = MessageDigest.getInstance("SHA-256").digest(data);
    Random r = new Random(1);
    double[] a = random(r, 20 * 30);
    double[] b = random(r, 30 * 10);
    double[] product = naive(a, b, 20, 30, 10);
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        int kind = i % 3;
        results.add(threads.submit(() -> switch (kind) {
          case 0 -> Arrays.equals(K.sha256(data), expectedHash);
          case 1 -> Arrays.equals(K.zstdDecompress(K.zstdCompress(data, 1)), data);
          default -> {
            double[] c = K.matmul(a, b, 20, 30, 10);
            double worst = 0;
            for (int j = 0; j < c.length; j++) {
              worst = Math.max(worst, Math.abs(c[j] - product[j]));
            }
            yield worst < 1e-9;
          }
        }));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get()).isTrue();
      }
    }
  }
}
