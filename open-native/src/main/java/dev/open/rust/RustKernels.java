package dev.open.rust;

import static dev.open.rust.NativeArguments.allocate;
import static dev.open.rust.NativeArguments.copyBackIfHeap;
import static dev.open.rust.NativeArguments.directView;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;
import dev.open.rust.ScratchBuffers.Scratch;
import dev.open.rust.internal.Binding;
import dev.open.rust.internal.NativeLibrary;

/**
 * OPEN's Rust kernels: matrix multiply, statistics, zstd, BLAKE3 and SHA-256, tokenization.
 *
 * <pre>{@code
 * RustKernels k = RustKernels.load();           // loads once, thread-safe
 * double[] c = k.matmul(a, b, m, kDim, n);      // row-major, c = a·b
 * byte[] z = k.zstdCompress(data, 3);           // standard zstd frames
 * byte[] h = k.blake3(data);                    // 32 bytes
 * }</pre>
 *
 * <p><b>Memory.</b> {@link NDArray} and direct {@link ByteBuffer} arguments are read and written
 * in place, whatever their size: that is the zero-copy path for large data. Heap arrays are
 * passed in place only while their total size stays under the pin limit (default 1 MiB,
 * system property {@value #PIN_LIMIT_PROPERTY}), because the garbage collector may wait while a
 * call holds them; larger heap arrays are copied to reused off-heap buffers around the call.
 * Methods returning a {@link ByteBuffer} allocate it; the zstd methods taking a source and a
 * destination buffer allocate nothing.
 *
 * <p><b>Errors.</b> Arguments are checked before the call: null, negative sizes, dimensions that
 * do not match, buffers that are too short throw {@link IllegalArgumentException} (or {@link
 * NullPointerException}) naming the argument. An error of the Rust side (corrupt input, a caught
 * panic) throws {@link NativeException} with Rust's message; the library stays usable.
 *
 * <p><b>Threads.</b> Thread-safe, and no kernel keeps state between calls. A native call pins
 * the carrier of a virtual thread for its duration: long calls from many virtual threads belong
 * on a small platform-thread pool, which {@link NativeBackend} does for DAG nodes.
 */
public final class RustKernels {
  /** System property: largest total size, in bytes, of heap arrays passed in place. */
  public static final String PIN_LIMIT_PROPERTY = "open.native.pinLimit";
  private static final int ERR_CAPACITY = 512;
  private static final int DIGEST_LENGTH = 32;
  private static final int DEFAULT_MAX_DECOMPRESSED = Integer.MAX_VALUE - 8;

  private static volatile RustKernels instance;
  private static NativeLoadException loadFailure;

  private final Binding binding;
  private final Path library;
  /** Decides, for every kernel, which arguments go in place and which are copied. */
  private final NativeArguments arguments;

  private RustKernels(Binding binding, Path library, long pinLimit) {
    this.binding = binding;
    this.library = library;
    this.arguments = new NativeArguments(pinLimit);
  }

  /**
   * Returns the kernels, loading the native library on first use (once per JVM).
   *
   * @return the kernels
   * @throws NativeLoadException if the library cannot be found or loaded; every later call
   *     throws it again, with the same message
   */
  public static RustKernels load() {
    RustKernels k = instance;
    if (k != null) {
      return k;
    }
    synchronized (RustKernels.class) {
      if (instance == null) {
        if (loadFailure != null) {
          throw new NativeLoadException(loadFailure.getMessage(), loadFailure);
        }
        try {
          NativeLibrary.Loaded loaded = NativeLibrary.load();
          instance = new RustKernels(loaded.binding(), loaded.file(), pinLimit());
        } catch (NativeLoadException e) {
          loadFailure = e;
          throw e;
        }
      }
      return instance;
    }
  }

  private static long pinLimit() {
    String value = System.getProperty(PIN_LIMIT_PROPERTY);
    if (value == null) {
      return 1 << 20;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new NativeLoadException(PIN_LIMIT_PROPERTY + " must be a number of bytes, was '"
          + value + "'", e);
    }
  }

  /** {@return the binding in use: {@code "jnr"} (JNR-FFI) or {@code "ffm"} (Java 22+ FFM)} */
  public String binding() {
    return binding.name();
  }

  /** {@return the library file that was loaded} */
  public Path libraryFile() {
    return library;
  }

  /** {@return the library's ABI version (checked at load time)} */
  public int abiVersion() {
    return binding.abiVersion();
  }

  /** Calls a native function that does nothing: the bare cost of a call, for benchmarks. */
  public void noop() {
    binding.noop();
  }

  // ---------------------------------------------------------------------------------------------
  // Matrix multiply

  /**
   * Multiplies row-major matrices: {@code c = a·b}.
   *
   * @param a m×k elements, row-major
   * @param b k×n elements, row-major
   * @param m rows of a and c
   * @param k columns of a, rows of b
   * @param n columns of b and c
   * @return c, m×n elements, row-major
   */
  public double[] matmul(double[] a, double[] b, int m, int k, int n) {
    checkMatmul(a == null ? -1 : a.length, b == null ? -1 : b.length, m, k, n);
    double[] c = new double[m * n];
    byte[] err = err();
    if (arguments.inPlace(8L * (a.length + b.length + c.length))) {
      check("matmul", binding.matmulF64(a, b, c, m, k, n, err), err);
      return c;
    }
    try (Scratch sa = arguments.copyOf(a); Scratch sb = arguments.copyOf(b);
        Scratch sc = arguments.scratch(8L * c.length)) {
      check("matmul", binding.matmulF64(sa.buffer(), sb.buffer(), sc.buffer(), m, k, n, err), err);
      sc.buffer().asDoubleBuffer().get(c);
    }
    return c;
  }

  /**
   * Multiplies row-major float32 matrices: {@code c = a·b}.
   *
   * @param a m×k elements, row-major
   * @param b k×n elements, row-major
   * @param m rows of a and c
   * @param k columns of a, rows of b
   * @param n columns of b and c
   * @return c, m×n elements, row-major
   */
  public float[] matmul(float[] a, float[] b, int m, int k, int n) {
    checkMatmul(a == null ? -1 : a.length, b == null ? -1 : b.length, m, k, n);
    float[] c = new float[m * n];
    byte[] err = err();
    if (arguments.inPlace(4L * (a.length + b.length + c.length))) {
      check("matmul", binding.matmulF32(a, b, c, m, k, n, err), err);
      return c;
    }
    try (Scratch sa = arguments.copyOf(a); Scratch sb = arguments.copyOf(b);
        Scratch sc = arguments.scratch(4L * c.length)) {
      check("matmul", binding.matmulF32(sa.buffer(), sb.buffer(), sc.buffer(), m, k, n, err), err);
      sc.buffer().asFloatBuffer().get(c);
    }
    return c;
  }

  /**
   * Multiplies 2-D arrays (float64 or float32, C order): returns a new off-heap {@code a·b}.
   *
   * @param a an m×k array
   * @param b a k×n array of the same type
   * @return the m×n product
   */
  public NDArray matmul(NDArray a, NDArray b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    NDArray c = NDArray.allocate(a.dtype(), a.ndim() == 2 ? a.dim(0) : 0,
        b.ndim() == 2 ? b.dim(1) : 0);
    matmul(a, b, c);
    return c;
  }

  /**
   * Multiplies 2-D arrays into {@code c}, without copying any of them when they are off-heap.
   *
   * @param a an m×k array, float64 or float32, C order
   * @param b a k×n array of the same type, C order
   * @param c an m×n array of the same type, C order, overwritten
   */
  public void matmul(NDArray a, NDArray b, NDArray c) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    Objects.requireNonNull(c, "c");
    DType type = a.dtype();
    if (type != DType.FLOAT64 && type != DType.FLOAT32) {
      throw new IllegalArgumentException("a must be float64 or float32, was " + type);
    }
    requireMatrix(a, "a", type);
    requireMatrix(b, "b", type);
    requireMatrix(c, "c", type);
    int m = a.dim(0);
    int k = a.dim(1);
    int n = b.dim(1);
    if (b.dim(0) != k) {
      throw new IllegalArgumentException("b has " + b.dim(0) + " rows, a has " + k + " columns");
    }
    if (c.dim(0) != m || c.dim(1) != n) {
      throw new IllegalArgumentException("c is " + c.dim(0) + "×" + c.dim(1) + ", a·b is "
          + m + "×" + n);
    }
    ByteBuffer cb = directView(c);
    byte[] err = err();
    int status = type == DType.FLOAT64
        ? binding.matmulF64(directView(a), directView(b), cb, m, k, n, err)
        : binding.matmulF32(directView(a), directView(b), cb, m, k, n, err);
    check("matmul", status, err);
    copyBackIfHeap(c, cb);
  }

  private static void checkMatmul(int aLength, int bLength, int m, int k, int n) {
    if (aLength < 0) {
      throw new NullPointerException("a");
    }
    if (bLength < 0) {
      throw new NullPointerException("b");
    }
    requireNonNegative(m, "m");
    requireNonNegative(k, "k");
    requireNonNegative(n, "n");
    if ((long) m * k != aLength) {
      throw new IllegalArgumentException("a has " + aLength + " elements, m×k = " + m + "×" + k
          + " needs " + (long) m * k);
    }
    if ((long) k * n != bLength) {
      throw new IllegalArgumentException("b has " + bLength + " elements, k×n = " + k + "×" + n
          + " needs " + (long) k * n);
    }
    if ((long) m * n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("c = m×n = " + m + "×" + n + " is too large for an array");
    }
  }

  private static void requireMatrix(NDArray x, String name, DType type) {
    if (x.ndim() != 2) {
      throw new IllegalArgumentException(name + " must be 2-D, has shape "
          + Arrays.toString(x.shape()));
    }
    if (x.dtype() != type) {
      throw new IllegalArgumentException(name + " is " + x.dtype() + ", a is " + type);
    }
    if (x.order() != NDArray.Order.C) {
      throw new IllegalArgumentException(name + " must be in C (row-major) order");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Statistics

  /**
   * Sums {@code x} pairwise (error growing like log n, as NumPy's sum).
   *
   * @param x the values
   * @return their sum; 0 for none
   */
  public double sum(double[] x) {
    Objects.requireNonNull(x, "x");
    double[] out = new double[1];
    byte[] err = err();
    if (arguments.inPlace(8L * x.length)) {
      check("sum", binding.sumF64(x, x.length, out, err), err);
    } else {
      try (Scratch sx = arguments.copyOf(x)) {
        check("sum", binding.sumF64(sx.buffer(), x.length, out, err), err);
      }
    }
    return out[0];
  }

  /**
   * Sums all elements of a float64 array.
   *
   * @param x any shape
   * @return their sum
   */
  public double sum(NDArray x) {
    requireFloat64(x, "x");
    double[] out = new double[1];
    byte[] err = err();
    check("sum", binding.sumF64(directView(x), x.size(), out, err), err);
    return out[0];
  }

  /**
   * Returns the dot product of two vectors.
   *
   * @param x the first vector
   * @param y the second, as long as {@code x}
   * @return {@code Σ x[i]·y[i]}
   */
  public double dot(double[] x, double[] y) {
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    requireSameLength(x.length, y.length);
    double[] out = new double[1];
    byte[] err = err();
    if (arguments.inPlace(16L * x.length)) {
      check("dot", binding.dotF64(x, y, x.length, out, err), err);
    } else {
      try (Scratch sx = arguments.copyOf(x); Scratch sy = arguments.copyOf(y)) {
        check("dot", binding.dotF64(sx.buffer(), sy.buffer(), x.length, out, err), err);
      }
    }
    return out[0];
  }

  /**
   * Returns the dot product of two float64 arrays of the same size, read in storage order.
   *
   * @param x the first array
   * @param y the second
   * @return {@code Σ x[i]·y[i]}
   */
  public double dot(NDArray x, NDArray y) {
    requireFloat64(x, "x");
    requireFloat64(y, "y");
    requireSameLength(x.size(), y.size());
    double[] out = new double[1];
    byte[] err = err();
    check("dot", binding.dotF64(directView(x), directView(y), x.size(), out, err), err);
    return out[0];
  }

  /**
   * Returns the mean and variance (two-pass), as NumPy's {@code mean(x)} and {@code var(x,
   * ddof=ddof)}.
   *
   * @param x the sample, more than {@code ddof} values
   * @param ddof delta degrees of freedom: 0 for the population variance, 1 for the sample's
   * @return mean and variance
   */
  public MeanVariance meanVariance(double[] x, int ddof) {
    Objects.requireNonNull(x, "x");
    requireDdof(x.length, ddof);
    double[] mean = new double[1];
    double[] var = new double[1];
    byte[] err = err();
    if (arguments.inPlace(8L * x.length)) {
      check("meanVariance", binding.meanVarF64(x, x.length, mean, var, ddof, err), err);
    } else {
      try (Scratch sx = arguments.copyOf(x)) {
        check("meanVariance", binding.meanVarF64(sx.buffer(), x.length, mean, var, ddof, err), err);
      }
    }
    return new MeanVariance(mean[0], var[0]);
  }

  /**
   * Returns the mean and variance of all elements of a float64 array.
   *
   * @param x the sample
   * @param ddof delta degrees of freedom
   * @return mean and variance
   */
  public MeanVariance meanVariance(NDArray x, int ddof) {
    requireFloat64(x, "x");
    requireDdof(x.size(), ddof);
    double[] mean = new double[1];
    double[] var = new double[1];
    byte[] err = err();
    check("meanVariance", binding.meanVarF64(directView(x), x.size(), mean, var, ddof, err), err);
    return new MeanVariance(mean[0], var[0]);
  }

  /**
   * Returns the smallest and largest value (both NaN if any value is NaN).
   *
   * @param x at least one value
   * @return min and max
   */
  public MinMax minMax(double[] x) {
    Objects.requireNonNull(x, "x");
    requireNotEmpty(x.length);
    double[] min = new double[1];
    double[] max = new double[1];
    byte[] err = err();
    if (arguments.inPlace(8L * x.length)) {
      check("minMax", binding.minMaxF64(x, x.length, min, max, err), err);
    } else {
      try (Scratch sx = arguments.copyOf(x)) {
        check("minMax", binding.minMaxF64(sx.buffer(), x.length, min, max, err), err);
      }
    }
    return new MinMax(min[0], max[0]);
  }

  /**
   * Returns the smallest and largest element of a float64 array.
   *
   * @param x at least one element
   * @return min and max
   */
  public MinMax minMax(NDArray x) {
    requireFloat64(x, "x");
    requireNotEmpty(x.size());
    double[] min = new double[1];
    double[] max = new double[1];
    byte[] err = err();
    check("minMax", binding.minMaxF64(directView(x), x.size(), min, max, err), err);
    return new MinMax(min[0], max[0]);
  }

  /**
   * Returns quantiles with linear interpolation (NumPy's default method). {@code x} is not
   * modified.
   *
   * @param x at least one value, none NaN
   * @param qs quantiles, each in [0, 1]
   * @return one value per quantile
   */
  public double[] quantiles(double[] x, double... qs) {
    Objects.requireNonNull(x, "x");
    checkQuantiles(x.length, qs);
    double[] out = new double[qs.length];
    byte[] err = err();
    if (arguments.inPlace(8L * (x.length + qs.length))) {
      check("quantiles", binding.quantilesF64(x, x.length, qs, qs.length, out, err), err);
    } else {
      try (Scratch sx = arguments.copyOf(x)) {
        check("quantiles", binding.quantilesF64(sx.buffer(), x.length, qs, qs.length, out, err),
            err);
      }
    }
    return out;
  }

  /**
   * Returns quantiles of all elements of a float64 array.
   *
   * @param x at least one element, none NaN
   * @param qs quantiles, each in [0, 1]
   * @return one value per quantile
   */
  public double[] quantiles(NDArray x, double... qs) {
    requireFloat64(x, "x");
    checkQuantiles(x.size(), qs);
    double[] out = new double[qs.length];
    byte[] err = err();
    check("quantiles", binding.quantilesF64(directView(x), x.size(), qs, qs.length, out, err),
        err);
    return out;
  }

  private static void checkQuantiles(long n, double[] qs) {
    Objects.requireNonNull(qs, "qs");
    requireNotEmpty(n);
    for (int i = 0; i < qs.length; i++) {
      if (!(qs[i] >= 0 && qs[i] <= 1)) {
        throw new IllegalArgumentException("qs[" + i + "] must be in [0, 1], was " + qs[i]);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // zstd

  /**
   * Compresses {@code data} into one standard zstd frame (with its content size), readable by
   * the {@code zstd} tool and every zstd library.
   *
   * @param data the bytes to compress
   * @param level zstd level, from {@link #zstdMinLevel()} (fastest) to 22 (smallest); 3 is zstd's
   *     default
   * @return the frame
   */
  public byte[] zstdCompress(byte[] data, int level) {
    Objects.requireNonNull(data, "data");
    requireLevel(level);
    long bound = binding.zstdCompressBound(data.length);
    long[] outLen = new long[1];
    byte[] err = err();
    if (arguments.inPlace(data.length + bound)) {
      byte[] dst = new byte[(int) bound];
      check("zstdCompress", binding.zstdCompress(data, data.length, dst, bound, level, outLen,
          err), err);
      return Arrays.copyOf(dst, (int) outLen[0]);
    }
    try (Scratch src = arguments.copyOf(data); Scratch dst = arguments.scratch(bound)) {
      check("zstdCompress", binding.zstdCompress(src.buffer(), data.length, dst.buffer(), bound,
          level, outLen, err), err);
      byte[] out = new byte[(int) outLen[0]];
      dst.buffer().get(0, out);
      return out;
    }
  }

  /**
   * Compresses the remaining bytes of {@code data} (read in place when direct) into a new direct
   * buffer holding one zstd frame, positioned at 0 with its limit at the frame's end.
   *
   * @param data the bytes to compress; its position is not changed
   * @param level zstd level
   * @return the frame
   */
  public ByteBuffer zstdCompress(ByteBuffer data, int level) {
    Objects.requireNonNull(data, "data");
    requireLevel(level);
    ByteBuffer src = directView(data);
    long bound = binding.zstdCompressBound(src.remaining());
    ByteBuffer dst = allocate(bound);
    long[] outLen = new long[1];
    byte[] err = err();
    check("zstdCompress", binding.zstdCompress(src, src.remaining(), dst, bound, level, outLen,
        err), err);
    return dst.limit((int) outLen[0]);
  }

  /**
   * Decompresses one or more zstd frames (also frames without a recorded size, as the {@code zstd}
   * tool writes from a pipe).
   *
   * @param frames the compressed bytes
   * @return the original bytes
   * @throws NativeException for corrupt or truncated input
   */
  public byte[] zstdDecompress(byte[] frames) {
    return zstdDecompress(frames, DEFAULT_MAX_DECOMPRESSED);
  }

  /**
   * Decompresses zstd frames, refusing output larger than {@code maxSize} (a guard against
   * decompression bombs).
   *
   * @param frames the compressed bytes
   * @param maxSize the largest acceptable output, in bytes
   * @return the original bytes
   * @throws NativeException for corrupt input, or with status {@code BUFFER_TOO_SMALL} when the
   *     output would exceed {@code maxSize}
   */
  public byte[] zstdDecompress(byte[] frames, int maxSize) {
    Objects.requireNonNull(frames, "frames");
    requireNonNegative(maxSize, "maxSize");
    long known = binding.zstdFrameContentSize(frames, frames.length);
    int capacity = (int) Math.min(maxSize, known >= 0 ? known
        : Math.max(64 << 10, Math.min(4L * frames.length, Integer.MAX_VALUE - 8)));
    long[] outLen = new long[1];
    byte[] err = err();
    while (true) {
      int status;
      if (arguments.inPlace(frames.length + (long) capacity)) {
        byte[] out = new byte[capacity];
        status = binding.zstdDecompress(frames, frames.length, out, capacity, outLen, err);
        if (status == Binding.OK) {
          return outLen[0] == capacity ? out : Arrays.copyOf(out, (int) outLen[0]);
        }
      } else {
        try (Scratch src = arguments.copyOf(frames); Scratch dst = arguments.scratch(capacity)) {
          status = binding.zstdDecompress(src.buffer(), frames.length, dst.buffer(), capacity,
              outLen, err);
          if (status == Binding.OK) {
            byte[] out = new byte[(int) outLen[0]];
            dst.buffer().get(0, out);
            return out;
          }
        }
      }
      capacity = retryCapacity(status, capacity, outLen[0], maxSize, err);
    }
  }

  /** After a failed decompression: the exact capacity to retry with, or the error to throw. */
  private static int retryCapacity(int status, int capacity, long needed, int maxSize, byte[] err) {
    if (status != Binding.BUFFER_TOO_SMALL) {
      check("zstdDecompress", status, err);
    }
    if (needed > maxSize || needed <= capacity) {
      throw new NativeException("zstdDecompress", NativeException.Status.BUFFER_TOO_SMALL,
          "the frames decompress to " + needed + " bytes, more than maxSize " + maxSize);
    }
    return (int) needed;
  }

  /**
   * Decompresses the remaining bytes of {@code frames} into a new direct buffer (position 0,
   * limit at the end of the data).
   *
   * @param frames the compressed bytes; its position is not changed
   * @param maxSize the largest acceptable output, in bytes
   * @return the original bytes
   */
  public ByteBuffer zstdDecompress(ByteBuffer frames, int maxSize) {
    Objects.requireNonNull(frames, "frames");
    requireNonNegative(maxSize, "maxSize");
    ByteBuffer src = directView(frames);
    long known = binding.zstdFrameContentSize(src, src.remaining());
    int capacity = (int) Math.min(maxSize, known >= 0 ? known
        : Math.max(64 << 10, Math.min(4L * src.remaining(), Integer.MAX_VALUE - 8)));
    long[] outLen = new long[1];
    byte[] err = err();
    while (true) {
      ByteBuffer dst = allocate(capacity);
      int status = binding.zstdDecompress(src, src.remaining(), dst, capacity, outLen, err);
      if (status == Binding.OK) {
        return dst.limit((int) outLen[0]);
      }
      capacity = retryCapacity(status, capacity, outLen[0], maxSize, err);
    }
  }

  /**
   * Compresses the remaining bytes of direct buffer {@code src} into direct buffer {@code dst} at
   * its position, without allocating: the zero-copy, zero-allocation path. On success {@code
   * src}'s position moves to its limit and {@code dst}'s past the frame.
   *
   * @param src the bytes to compress, a direct buffer
   * @param dst where the frame goes, a direct buffer; {@link #zstdCompressBound(long)} of the
   *     input always suffices
   * @param level zstd level
   * @return the length of the frame
   * @throws NativeException with status {@code BUFFER_TOO_SMALL} when {@code dst} is too small
   */
  public int zstdCompress(ByteBuffer src, ByteBuffer dst, int level) {
    requireDirect(src, "src");
    requireDirect(dst, "dst");
    requireLevel(level);
    long[] outLen = new long[1];
    byte[] err = err();
    check("zstdCompress", binding.zstdCompress(src.slice(), src.remaining(), dst.slice(),
        dst.remaining(), level, outLen, err), err);
    src.position(src.limit());
    dst.position(dst.position() + (int) outLen[0]);
    return (int) outLen[0];
  }

  /**
   * Decompresses the remaining bytes of direct buffer {@code src} into direct buffer {@code dst}
   * at its position, without allocating. On success {@code src}'s position moves to its limit and
   * {@code dst}'s past the data.
   *
   * @param src zstd frames, a direct buffer
   * @param dst where the data goes, a direct buffer
   * @return the length of the data
   * @throws NativeException for corrupt input, or with status {@code BUFFER_TOO_SMALL} (its
   *     message giving the size needed) when {@code dst} is too small
   */
  public int zstdDecompress(ByteBuffer src, ByteBuffer dst) {
    requireDirect(src, "src");
    requireDirect(dst, "dst");
    long[] outLen = new long[1];
    byte[] err = err();
    check("zstdDecompress", binding.zstdDecompress(src.slice(), src.remaining(), dst.slice(),
        dst.remaining(), outLen, err), err);
    src.position(src.limit());
    dst.position(dst.position() + (int) outLen[0]);
    return (int) outLen[0];
  }

  /**
   * Returns the largest size a zstd frame of {@code size} input bytes can have.
   *
   * @param size the input size in bytes
   * @return the bound, in bytes
   */
  public long zstdCompressBound(long size) {
    if (size < 0) {
      throw new IllegalArgumentException("size must be >= 0, was " + size);
    }
    return binding.zstdCompressBound(size);
  }

  private static void requireDirect(ByteBuffer buffer, String name) {
    Objects.requireNonNull(buffer, name);
    if (!buffer.isDirect()) {
      throw new IllegalArgumentException(name + " must be a direct buffer; the byte[] methods "
          + "take heap data");
    }
  }

  /** {@return the lowest (fastest) zstd level accepted: negative levels trade ratio for speed} */
  public int zstdMinLevel() {
    return -131072;
  }

  private void requireLevel(int level) {
    if (level < zstdMinLevel() || level > 22) {
      throw new IllegalArgumentException("level must be in [" + zstdMinLevel() + ", 22], was "
          + level);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Hashing

  /**
   * Returns the BLAKE3 digest of {@code data}.
   *
   * @param data the bytes to hash
   * @return 32 bytes
   */
  public byte[] blake3(byte[] data) {
    return hash("blake3", data, true);
  }

  /**
   * Returns the BLAKE3 digest of the remaining bytes of {@code data}, read in place when direct.
   *
   * @param data the bytes to hash; its position is not changed
   * @return 32 bytes
   */
  public byte[] blake3(ByteBuffer data) {
    return hash("blake3", data, true);
  }

  /**
   * Returns the SHA-256 digest of {@code data}.
   *
   * @param data the bytes to hash
   * @return 32 bytes
   */
  public byte[] sha256(byte[] data) {
    return hash("sha256", data, false);
  }

  /**
   * Returns the SHA-256 digest of the remaining bytes of {@code data}, read in place when direct.
   *
   * @param data the bytes to hash; its position is not changed
   * @return 32 bytes
   */
  public byte[] sha256(ByteBuffer data) {
    return hash("sha256", data, false);
  }

  private byte[] hash(String function, byte[] data, boolean blake3) {
    Objects.requireNonNull(data, "data");
    byte[] out = new byte[DIGEST_LENGTH];
    byte[] err = err();
    int status;
    if (arguments.inPlace(data.length)) {
      status = blake3 ? binding.blake3(data, data.length, out, err)
          : binding.sha256(data, data.length, out, err);
    } else {
      try (Scratch d = arguments.copyOf(data)) {
        status = blake3 ? binding.blake3(d.buffer(), data.length, out, err)
            : binding.sha256(d.buffer(), data.length, out, err);
      }
    }
    check(function, status, err);
    return out;
  }

  private byte[] hash(String function, ByteBuffer data, boolean blake3) {
    Objects.requireNonNull(data, "data");
    ByteBuffer d = directView(data);
    byte[] out = new byte[DIGEST_LENGTH];
    byte[] err = err();
    int status = blake3 ? binding.blake3(d, d.remaining(), out, err)
        : binding.sha256(d, d.remaining(), out, err);
    check(function, status, err);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Text

  /**
   * Counts the words of {@code text}: Unicode (UAX #29) word boundaries, segments with at least
   * one letter or digit, lowercased (full Unicode lowercase).
   *
   * @param text any text
   * @return each word with its count, most frequent first (ties in byte order of the word)
   */
  public Map<String, Long> tokenCounts(String text) {
    Objects.requireNonNull(text, "text");
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    long[] outLen = new long[1];
    byte[] err = err();
    long capacity = Math.max(256, 2L * utf8.length + 64);
    while (true) {
      int status;
      if (arguments.inPlace(utf8.length + capacity)) {
        byte[] out = new byte[(int) capacity];
        status = binding.tokenCounts(utf8, utf8.length, out, capacity, outLen, err);
        if (status == Binding.OK) {
          return decodeTokenCounts(ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN));
        }
      } else {
        try (Scratch text1 = arguments.copyOf(utf8); Scratch out = arguments.scratch(capacity)) {
          status = binding.tokenCounts(text1.buffer(), utf8.length, out.buffer(), capacity, outLen,
              err);
          if (status == Binding.OK) {
            return decodeTokenCounts(out.buffer());
          }
        }
      }
      if (status != Binding.BUFFER_TOO_SMALL || outLen[0] <= capacity) {
        check("tokenCounts", status, err);
      }
      capacity = outLen[0];
    }
  }

  /** Reads {@code u32 count, then per term: u32 length, UTF-8 bytes, u64 count} (little-endian). */
  private static Map<String, Long> decodeTokenCounts(ByteBuffer in) {
    int terms = in.getInt(0);
    Map<String, Long> counts = new LinkedHashMap<>(Math.max(16, terms * 2));
    int at = 4;
    for (int i = 0; i < terms; i++) {
      int length = in.getInt(at);
      byte[] word = new byte[length];
      in.get(at + 4, word);
      at += 4 + length;
      counts.put(new String(word, StandardCharsets.UTF_8), in.getLong(at));
      at += 8;
    }
    return counts;
  }

  /** Runs the library's panic test hook: always throws {@link NativeException} (PANIC). */
  void debugPanic(String message) {
    byte[] err = err();
    check("debugPanic", binding.debugPanic(message.getBytes(StandardCharsets.UTF_8), err), err);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static byte[] err() {
    return new byte[ERR_CAPACITY];
  }

  private static void check(String function, int status, byte[] err) {
    if (status != Binding.OK) {
      int end = 0;
      while (end < err.length && err[end] != 0) {
        end++;
      }
      throw new NativeException(function, NativeException.Status.of(status),
          new String(err, 0, end, StandardCharsets.UTF_8));
    }
  }

  private static void requireFloat64(NDArray x, String name) {
    Objects.requireNonNull(x, name);
    if (x.dtype() != DType.FLOAT64) {
      throw new IllegalArgumentException(name + " must be float64, was " + x.dtype());
    }
  }

  private static void requireNonNegative(int value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0, was " + value);
    }
  }

  private static void requireSameLength(long x, long y) {
    if (x != y) {
      throw new IllegalArgumentException("x has " + x + " elements, y has " + y);
    }
  }

  private static void requireNotEmpty(long n) {
    if (n == 0) {
      throw new IllegalArgumentException("x must not be empty");
    }
  }

  private static void requireDdof(long n, int ddof) {
    if (ddof < 0) {
      throw new IllegalArgumentException("ddof must be >= 0, was " + ddof);
    }
    if (n <= ddof) {
      throw new IllegalArgumentException("x has " + n + " values, needs more than ddof = " + ddof);
    }
  }

  @Override
  public String toString() {
    return "RustKernels[" + binding.name() + ", " + library + "]";
  }
}
