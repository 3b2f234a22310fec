package dev.open.rust.internal;

import java.nio.ByteBuffer;

/**
 * The C ABI of {@code libopen_native} (see {@code rust/include/open_native.h}) as Java methods.
 * Internal: use {@link dev.open.rust.RustKernels}, which validates arguments first.
 *
 * <p>Two flavours per kernel. Methods taking heap arrays pass them in place (pinned by JNR,
 * "critical" for FFM) and are for <b>short</b> calls only: while they run the GC may be held up.
 * Methods taking {@link ByteBuffer}s need <b>direct</b> buffers (read from their position 0) and
 * suit calls of any length; their small {@code out}/{@code err} arrays are copied.
 *
 * <p>Every {@code int} return is a status code ({@link #OK} …); on a non-zero status a
 * NUL-terminated UTF-8 message is in {@code err}. Implementations are thread-safe.
 */
public interface Binding {
  int OK = 0;
  int INVALID_ARGUMENT = 1;
  int KERNEL_ERROR = 2;
  int BUFFER_TOO_SMALL = 3;
  int PANIC = 4;

  /** Returns {@code "jnr"} or {@code "ffm"}. */
  String name();

  int abiVersion();

  void noop();

  int noopStatus(byte[] err);

  int debugPanic(byte[] msg, byte[] err);

  int matmulF64(double[] a, double[] b, double[] c, long m, long k, long n, byte[] err);

  int matmulF64(ByteBuffer a, ByteBuffer b, ByteBuffer c, long m, long k, long n, byte[] err);

  int matmulF32(float[] a, float[] b, float[] c, long m, long k, long n, byte[] err);

  int matmulF32(ByteBuffer a, ByteBuffer b, ByteBuffer c, long m, long k, long n, byte[] err);

  int sumF64(double[] x, long n, double[] out, byte[] err);

  int sumF64(ByteBuffer x, long n, double[] out, byte[] err);

  int dotF64(double[] x, double[] y, long n, double[] out, byte[] err);

  int dotF64(ByteBuffer x, ByteBuffer y, long n, double[] out, byte[] err);

  int meanVarF64(double[] x, long n, double[] mean, double[] var, int ddof, byte[] err);

  int meanVarF64(ByteBuffer x, long n, double[] mean, double[] var, int ddof, byte[] err);

  int minMaxF64(double[] x, long n, double[] min, double[] max, byte[] err);

  int minMaxF64(ByteBuffer x, long n, double[] min, double[] max, byte[] err);

  int quantilesF64(double[] x, long n, double[] qs, long nq, double[] out, byte[] err);

  int quantilesF64(ByteBuffer x, long n, double[] qs, long nq, double[] out, byte[] err);

  long zstdCompressBound(long n);

  int zstdCompress(byte[] src, long srcLen, byte[] dst, long dstCap, int level, long[] outLen,
      byte[] err);

  int zstdCompress(ByteBuffer src, long srcLen, ByteBuffer dst, long dstCap, int level,
      long[] outLen, byte[] err);

  long zstdFrameContentSize(byte[] src, long len);

  long zstdFrameContentSize(ByteBuffer src, long len);

  int zstdDecompress(byte[] src, long srcLen, byte[] dst, long dstCap, long[] outLen, byte[] err);

  int zstdDecompress(ByteBuffer src, long srcLen, ByteBuffer dst, long dstCap, long[] outLen,
      byte[] err);

  int blake3(byte[] data, long len, byte[] out32, byte[] err);

  int blake3(ByteBuffer data, long len, byte[] out32, byte[] err);

  int sha256(byte[] data, long len, byte[] out32, byte[] err);

  int sha256(ByteBuffer data, long len, byte[] out32, byte[] err);

  int tokenCounts(byte[] text, long len, byte[] out, long outCap, long[] outLen, byte[] err);

  int tokenCounts(ByteBuffer text, long len, ByteBuffer out, long outCap, long[] outLen,
      byte[] err);
}
