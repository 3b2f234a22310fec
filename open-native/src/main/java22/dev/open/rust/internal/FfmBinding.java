package dev.open.rust.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * {@link Binding} through the Foreign Function &amp; Memory API (Java 22+; shipped in the jar's
 * {@code META-INF/versions/22}). Each export has two downcall handles: a <i>critical</i> one,
 * which may read heap arrays in place and skips the thread-state transition (for the short,
 * heap-array calls), and a regular one for direct buffers, whose small out-parameters live in a
 * confined arena for the duration of the call.
 */
final class FfmBinding implements Binding {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final Linker.Option CRITICAL = Linker.Option.critical(true);

  private final MethodHandle abiVersion;
  private final MethodHandle noop;
  private final MethodHandle noopStatus;
  private final MethodHandle debugPanic;
  private final Pair matmulF64;
  private final Pair matmulF32;
  private final Pair sumF64;
  private final Pair dotF64;
  private final Pair meanVarF64;
  private final Pair minMaxF64;
  private final Pair quantilesF64;
  private final MethodHandle zstdCompressBound;
  private final Pair zstdCompress;
  private final Pair zstdFrameContentSize;
  private final Pair zstdDecompress;
  private final Pair blake3;
  private final Pair sha256;
  private final Pair tokenCounts;

  /** The critical (heap) and regular (direct buffer) handle of one export. */
  private record Pair(MethodHandle heap, MethodHandle direct) {}

  FfmBinding(Path library) {
    SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
    Linker.Option[] critical = {CRITICAL};
    abiVersion = handle(lookup, "on_abi_version", FunctionDescriptor.of(JAVA_INT), critical);
    noop = handle(lookup, "on_noop", FunctionDescriptor.ofVoid(), critical);
    noopStatus = handle(lookup, "on_noop_status", status(ADDRESS, JAVA_LONG), critical);
    debugPanic = handle(lookup, "on_debug_panic",
        status(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), critical);
    FunctionDescriptor matmul = status(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG,
        JAVA_LONG, ADDRESS, JAVA_LONG);
    matmulF64 = pair(lookup, "on_matmul_f64", matmul);
    matmulF32 = pair(lookup, "on_matmul_f32", matmul);
    sumF64 = pair(lookup, "on_sum_f64", status(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    dotF64 = pair(lookup, "on_dot_f64",
        status(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    meanVarF64 = pair(lookup, "on_mean_var_f64",
        status(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
    minMaxF64 = pair(lookup, "on_min_max_f64",
        status(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    quantilesF64 = pair(lookup, "on_quantiles_f64",
        status(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    zstdCompressBound = handle(lookup, "on_zstd_compress_bound",
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), critical);
    zstdCompress = pair(lookup, "on_zstd_compress", status(ADDRESS, JAVA_LONG, ADDRESS,
        JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    zstdFrameContentSize = pair(lookup, "on_zstd_frame_content_size",
        FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    zstdDecompress = pair(lookup, "on_zstd_decompress",
        status(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    FunctionDescriptor hash = status(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
    blake3 = pair(lookup, "on_blake3", hash);
    sha256 = pair(lookup, "on_sha256", hash);
    tokenCounts = pair(lookup, "on_token_counts",
        status(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
  }

  private static FunctionDescriptor status(MemoryLayout... args) {
    return FunctionDescriptor.of(JAVA_INT, args);
  }

  private static Pair pair(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
    return new Pair(handle(lookup, name, descriptor, CRITICAL), handle(lookup, name, descriptor));
  }

  private static MethodHandle handle(SymbolLookup lookup, String name,
      FunctionDescriptor descriptor, Linker.Option... options) {
    MemorySegment symbol = lookup.find(name).orElseThrow(() ->
        new UnsatisfiedLinkError("libopen_native has no symbol " + name));
    return LINKER.downcallHandle(symbol, descriptor, options);
  }

  private static MemorySegment of(double[] a) {
    return MemorySegment.ofArray(a);
  }

  private static MemorySegment of(float[] a) {
    return MemorySegment.ofArray(a);
  }

  private static MemorySegment of(byte[] a) {
    return MemorySegment.ofArray(a);
  }

  private static MemorySegment of(long[] a) {
    return MemorySegment.ofArray(a);
  }

  private static MemorySegment of(ByteBuffer b) {
    return MemorySegment.ofBuffer(b);
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException e) {
      return e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("native call failed", t);
  }

  /** Copies the error message out of native memory when the call failed. */
  private static int withErr(int status, MemorySegment errSegment, byte[] err) {
    if (status != OK) {
      MemorySegment.copy(errSegment, 0, MemorySegment.ofArray(err), 0, err.length);
    }
    return status;
  }

  @Override
  public String name() {
    return "ffm";
  }

  @Override
  public int abiVersion() {
    try {
      return (int) abiVersion.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public void noop() {
    try {
      noop.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int noopStatus(byte[] err) {
    try {
      return (int) noopStatus.invokeExact(of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int debugPanic(byte[] msg, byte[] err) {
    try {
      return (int) debugPanic.invokeExact(of(msg), (long) msg.length, of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int matmulF64(double[] a, double[] b, double[] c, long m, long k, long n, byte[] err) {
    try {
      return (int) matmulF64.heap.invokeExact(of(a), of(b), of(c), m, k, n, of(err),
          (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int matmulF64(ByteBuffer a, ByteBuffer b, ByteBuffer c, long m, long k, long n,
      byte[] err) {
    return matmulDirect(matmulF64.direct, a, b, c, m, k, n, err);
  }

  @Override
  public int matmulF32(float[] a, float[] b, float[] c, long m, long k, long n, byte[] err) {
    try {
      return (int) matmulF32.heap.invokeExact(of(a), of(b), of(c), m, k, n, of(err),
          (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int matmulF32(ByteBuffer a, ByteBuffer b, ByteBuffer c, long m, long k, long n,
      byte[] err) {
    return matmulDirect(matmulF32.direct, a, b, c, m, k, n, err);
  }

  private static int matmulDirect(MethodHandle h, ByteBuffer a, ByteBuffer b, ByteBuffer c,
      long m, long k, long n, byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment e = arena.allocate(err.length);
      int status = (int) h.invokeExact(of(a), of(b), of(c), m, k, n, e, (long) err.length);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int sumF64(double[] x, long n, double[] out, byte[] err) {
    try {
      return (int) sumF64.heap.invokeExact(of(x), n, of(out), of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int sumF64(ByteBuffer x, long n, double[] out, byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment o = arena.allocate(JAVA_DOUBLE);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) sumF64.direct.invokeExact(of(x), n, o, e, (long) err.length);
      out[0] = o.get(JAVA_DOUBLE, 0);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int dotF64(double[] x, double[] y, long n, double[] out, byte[] err) {
    try {
      return (int) dotF64.heap.invokeExact(of(x), of(y), n, of(out), of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int dotF64(ByteBuffer x, ByteBuffer y, long n, double[] out, byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment o = arena.allocate(JAVA_DOUBLE);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) dotF64.direct.invokeExact(of(x), of(y), n, o, e, (long) err.length);
      out[0] = o.get(JAVA_DOUBLE, 0);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int meanVarF64(double[] x, long n, double[] mean, double[] var, int ddof, byte[] err) {
    try {
      return (int) meanVarF64.heap.invokeExact(of(x), n, of(mean), of(var), ddof, of(err),
          (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int meanVarF64(ByteBuffer x, long n, double[] mean, double[] var, int ddof,
      byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment m = arena.allocate(JAVA_DOUBLE);
      MemorySegment v = arena.allocate(JAVA_DOUBLE);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) meanVarF64.direct.invokeExact(of(x), n, m, v, ddof, e,
          (long) err.length);
      mean[0] = m.get(JAVA_DOUBLE, 0);
      var[0] = v.get(JAVA_DOUBLE, 0);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int minMaxF64(double[] x, long n, double[] min, double[] max, byte[] err) {
    try {
      return (int) minMaxF64.heap.invokeExact(of(x), n, of(min), of(max), of(err),
          (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int minMaxF64(ByteBuffer x, long n, double[] min, double[] max, byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment lo = arena.allocate(JAVA_DOUBLE);
      MemorySegment hi = arena.allocate(JAVA_DOUBLE);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) minMaxF64.direct.invokeExact(of(x), n, lo, hi, e, (long) err.length);
      min[0] = lo.get(JAVA_DOUBLE, 0);
      max[0] = hi.get(JAVA_DOUBLE, 0);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int quantilesF64(double[] x, long n, double[] qs, long nq, double[] out, byte[] err) {
    try {
      return (int) quantilesF64.heap.invokeExact(of(x), n, of(qs), nq, of(out), of(err),
          (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int quantilesF64(ByteBuffer x, long n, double[] qs, long nq, double[] out,
      byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment q = arena.allocateFrom(JAVA_DOUBLE, qs);
      MemorySegment o = arena.allocate(JAVA_DOUBLE, Math.max(1, nq));
      MemorySegment e = arena.allocate(err.length);
      int status = (int) quantilesF64.direct.invokeExact(of(x), n, q, nq, o, e,
          (long) err.length);
      MemorySegment.copy(o, JAVA_DOUBLE, 0, out, 0, (int) nq);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public long zstdCompressBound(long n) {
    try {
      return (long) zstdCompressBound.invokeExact(n);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int zstdCompress(byte[] src, long srcLen, byte[] dst, long dstCap, int level,
      long[] outLen, byte[] err) {
    try {
      return (int) zstdCompress.heap.invokeExact(of(src), srcLen, of(dst), dstCap, level,
          of(outLen), of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int zstdCompress(ByteBuffer src, long srcLen, ByteBuffer dst, long dstCap, int level,
      long[] outLen, byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment len = arena.allocate(JAVA_LONG);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) zstdCompress.direct.invokeExact(of(src), srcLen, of(dst), dstCap,
          level, len, e, (long) err.length);
      outLen[0] = len.get(JAVA_LONG, 0);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public long zstdFrameContentSize(byte[] src, long len) {
    try {
      return (long) zstdFrameContentSize.heap.invokeExact(of(src), len);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public long zstdFrameContentSize(ByteBuffer src, long len) {
    try {
      return (long) zstdFrameContentSize.direct.invokeExact(of(src), len);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int zstdDecompress(byte[] src, long srcLen, byte[] dst, long dstCap, long[] outLen,
      byte[] err) {
    try {
      return (int) zstdDecompress.heap.invokeExact(of(src), srcLen, of(dst), dstCap, of(outLen),
          of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int zstdDecompress(ByteBuffer src, long srcLen, ByteBuffer dst, long dstCap,
      long[] outLen, byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment len = arena.allocate(JAVA_LONG);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) zstdDecompress.direct.invokeExact(of(src), srcLen, of(dst), dstCap,
          len, e, (long) err.length);
      outLen[0] = len.get(JAVA_LONG, 0);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int blake3(byte[] data, long len, byte[] out32, byte[] err) {
    return hashHeap(blake3.heap, data, len, out32, err);
  }

  @Override
  public int blake3(ByteBuffer data, long len, byte[] out32, byte[] err) {
    return hashDirect(blake3.direct, data, len, out32, err);
  }

  @Override
  public int sha256(byte[] data, long len, byte[] out32, byte[] err) {
    return hashHeap(sha256.heap, data, len, out32, err);
  }

  @Override
  public int sha256(ByteBuffer data, long len, byte[] out32, byte[] err) {
    return hashDirect(sha256.direct, data, len, out32, err);
  }

  private static int hashHeap(MethodHandle h, byte[] data, long len, byte[] out32, byte[] err) {
    try {
      return (int) h.invokeExact(of(data), len, of(out32), of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static int hashDirect(MethodHandle h, ByteBuffer data, long len, byte[] out32,
      byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment o = arena.allocate(out32.length);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) h.invokeExact(of(data), len, o, e, (long) err.length);
      MemorySegment.copy(o, 0, MemorySegment.ofArray(out32), 0, out32.length);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int tokenCounts(byte[] text, long len, byte[] out, long outCap, long[] outLen,
      byte[] err) {
    try {
      return (int) tokenCounts.heap.invokeExact(of(text), len, of(out), outCap, of(outLen),
          of(err), (long) err.length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int tokenCounts(ByteBuffer text, long len, ByteBuffer out, long outCap, long[] outLen,
      byte[] err) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment l = arena.allocate(JAVA_LONG);
      MemorySegment e = arena.allocate(err.length);
      int status = (int) tokenCounts.direct.invokeExact(of(text), len, of(out), outCap, l, e,
          (long) err.length);
      outLen[0] = l.get(JAVA_LONG, 0);
      return withErr(status, e, err);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }
}
