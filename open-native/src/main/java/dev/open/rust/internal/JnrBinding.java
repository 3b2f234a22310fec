package dev.open.rust.internal;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.Pinned;
import jnr.ffi.types.int64_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.u_int32_t;

/**
 * {@link Binding} through JNR-FFI. Heap arrays are {@code @Pinned} (no copy); direct buffers pass
 * their address; errno is never saved ({@code IgnoreError}), since the library does not use it.
 */
final class JnrBinding implements Binding {

  /** The exports of libopen_native, as JNR maps them. Public only for JNR's generated stub. */
  public interface Lib {
    @u_int32_t int on_abi_version();

    void on_noop();

    int on_noop_status(@Pinned @Out byte[] err, @size_t long errCap);

    int on_debug_panic(@Pinned @In byte[] msg, @size_t long len, @Pinned @Out byte[] err,
        @size_t long errCap);

    int on_matmul_f64(@Pinned @In double[] a, @Pinned @In double[] b, @Pinned @Out double[] c,
        @size_t long m, @size_t long k, @size_t long n, @Pinned @Out byte[] err, @size_t long cap);

    int on_matmul_f64(ByteBuffer a, ByteBuffer b, ByteBuffer c, @size_t long m, @size_t long k,
        @size_t long n, @Out byte[] err, @size_t long cap);

    int on_matmul_f32(@Pinned @In float[] a, @Pinned @In float[] b, @Pinned @Out float[] c,
        @size_t long m, @size_t long k, @size_t long n, @Pinned @Out byte[] err, @size_t long cap);

    int on_matmul_f32(ByteBuffer a, ByteBuffer b, ByteBuffer c, @size_t long m, @size_t long k,
        @size_t long n, @Out byte[] err, @size_t long cap);

    int on_sum_f64(@Pinned @In double[] x, @size_t long n, @Pinned @Out double[] out,
        @Pinned @Out byte[] err, @size_t long cap);

    int on_sum_f64(ByteBuffer x, @size_t long n, @Out double[] out, @Out byte[] err,
        @size_t long cap);

    int on_dot_f64(@Pinned @In double[] x, @Pinned @In double[] y, @size_t long n,
        @Pinned @Out double[] out, @Pinned @Out byte[] err, @size_t long cap);

    int on_dot_f64(ByteBuffer x, ByteBuffer y, @size_t long n, @Out double[] out,
        @Out byte[] err, @size_t long cap);

    int on_mean_var_f64(@Pinned @In double[] x, @size_t long n, @Pinned @Out double[] mean,
        @Pinned @Out double[] var, @u_int32_t int ddof, @Pinned @Out byte[] err,
        @size_t long cap);

    int on_mean_var_f64(ByteBuffer x, @size_t long n, @Out double[] mean, @Out double[] var,
        @u_int32_t int ddof, @Out byte[] err, @size_t long cap);

    int on_min_max_f64(@Pinned @In double[] x, @size_t long n, @Pinned @Out double[] min,
        @Pinned @Out double[] max, @Pinned @Out byte[] err, @size_t long cap);

    int on_min_max_f64(ByteBuffer x, @size_t long n, @Out double[] min, @Out double[] max,
        @Out byte[] err, @size_t long cap);

    int on_quantiles_f64(@Pinned @In double[] x, @size_t long n, @Pinned @In double[] qs,
        @size_t long nq, @Pinned @Out double[] out, @Pinned @Out byte[] err, @size_t long cap);

    int on_quantiles_f64(ByteBuffer x, @size_t long n, @In double[] qs, @size_t long nq,
        @Out double[] out, @Out byte[] err, @size_t long cap);

    @size_t long on_zstd_compress_bound(@size_t long n);

    int on_zstd_compress(@Pinned @In byte[] src, @size_t long srcLen, @Pinned @Out byte[] dst,
        @size_t long dstCap, int level, @Pinned @Out long[] outLen, @Pinned @Out byte[] err,
        @size_t long cap);

    int on_zstd_compress(ByteBuffer src, @size_t long srcLen, ByteBuffer dst,
        @size_t long dstCap, int level, @Out long[] outLen, @Out byte[] err, @size_t long cap);

    @int64_t long on_zstd_frame_content_size(@Pinned @In byte[] src, @size_t long len);

    @int64_t long on_zstd_frame_content_size(ByteBuffer src, @size_t long len);

    int on_zstd_decompress(@Pinned @In byte[] src, @size_t long srcLen, @Pinned @Out byte[] dst,
        @size_t long dstCap, @Pinned @Out long[] outLen, @Pinned @Out byte[] err,
        @size_t long cap);

    int on_zstd_decompress(ByteBuffer src, @size_t long srcLen, ByteBuffer dst,
        @size_t long dstCap, @Out long[] outLen, @Out byte[] err, @size_t long cap);

    int on_blake3(@Pinned @In byte[] data, @size_t long len, @Pinned @Out byte[] out,
        @Pinned @Out byte[] err, @size_t long cap);

    int on_blake3(ByteBuffer data, @size_t long len, @Out byte[] out, @Out byte[] err,
        @size_t long cap);

    int on_sha256(@Pinned @In byte[] data, @size_t long len, @Pinned @Out byte[] out,
        @Pinned @Out byte[] err, @size_t long cap);

    int on_sha256(ByteBuffer data, @size_t long len, @Out byte[] out, @Out byte[] err,
        @size_t long cap);

    int on_token_counts(@Pinned @In byte[] text, @size_t long len, @Pinned @Out byte[] out,
        @size_t long outCap, @Pinned @Out long[] outLen, @Pinned @Out byte[] err,
        @size_t long cap);

    int on_token_counts(ByteBuffer text, @size_t long len, ByteBuffer out, @size_t long outCap,
        @Out long[] outLen, @Out byte[] err, @size_t long cap);
  }

  private final Lib lib;

  JnrBinding(Path library) {
    this.lib = LibraryLoader.create(Lib.class)
        .option(LibraryOption.IgnoreError, true)
        .option(LibraryOption.LoadNow, true)
        .failImmediately()
        .load(library.toString());
  }

  @Override
  public String name() {
    return "jnr";
  }

  @Override
  public int abiVersion() {
    return lib.on_abi_version();
  }

  @Override
  public void noop() {
    lib.on_noop();
  }

  @Override
  public int noopStatus(byte[] err) {
    return lib.on_noop_status(err, err.length);
  }

  @Override
  public int debugPanic(byte[] msg, byte[] err) {
    return lib.on_debug_panic(msg, msg.length, err, err.length);
  }

  @Override
  public int matmulF64(double[] a, double[] b, double[] c, long m, long k, long n, byte[] err) {
    return lib.on_matmul_f64(a, b, c, m, k, n, err, err.length);
  }

  @Override
  public int matmulF64(ByteBuffer a, ByteBuffer b, ByteBuffer c, long m, long k, long n,
      byte[] err) {
    return lib.on_matmul_f64(a, b, c, m, k, n, err, err.length);
  }

  @Override
  public int matmulF32(float[] a, float[] b, float[] c, long m, long k, long n, byte[] err) {
    return lib.on_matmul_f32(a, b, c, m, k, n, err, err.length);
  }

  @Override
  public int matmulF32(ByteBuffer a, ByteBuffer b, ByteBuffer c, long m, long k, long n,
      byte[] err) {
    return lib.on_matmul_f32(a, b, c, m, k, n, err, err.length);
  }

  @Override
  public int sumF64(double[] x, long n, double[] out, byte[] err) {
    return lib.on_sum_f64(x, n, out, err, err.length);
  }

  @Override
  public int sumF64(ByteBuffer x, long n, double[] out, byte[] err) {
    return lib.on_sum_f64(x, n, out, err, err.length);
  }

  @Override
  public int dotF64(double[] x, double[] y, long n, double[] out, byte[] err) {
    return lib.on_dot_f64(x, y, n, out, err, err.length);
  }

  @Override
  public int dotF64(ByteBuffer x, ByteBuffer y, long n, double[] out, byte[] err) {
    return lib.on_dot_f64(x, y, n, out, err, err.length);
  }

  @Override
  public int meanVarF64(double[] x, long n, double[] mean, double[] var, int ddof, byte[] err) {
    return lib.on_mean_var_f64(x, n, mean, var, ddof, err, err.length);
  }

  @Override
  public int meanVarF64(ByteBuffer x, long n, double[] mean, double[] var, int ddof,
      byte[] err) {
    return lib.on_mean_var_f64(x, n, mean, var, ddof, err, err.length);
  }

  @Override
  public int minMaxF64(double[] x, long n, double[] min, double[] max, byte[] err) {
    return lib.on_min_max_f64(x, n, min, max, err, err.length);
  }

  @Override
  public int minMaxF64(ByteBuffer x, long n, double[] min, double[] max, byte[] err) {
    return lib.on_min_max_f64(x, n, min, max, err, err.length);
  }

  @Override
  public int quantilesF64(double[] x, long n, double[] qs, long nq, double[] out, byte[] err) {
    return lib.on_quantiles_f64(x, n, qs, nq, out, err, err.length);
  }

  @Override
  public int quantilesF64(ByteBuffer x, long n, double[] qs, long nq, double[] out,
      byte[] err) {
    return lib.on_quantiles_f64(x, n, qs, nq, out, err, err.length);
  }

  @Override
  public long zstdCompressBound(long n) {
    return lib.on_zstd_compress_bound(n);
  }

  @Override
  public int zstdCompress(byte[] src, long srcLen, byte[] dst, long dstCap, int level,
      long[] outLen, byte[] err) {
    return lib.on_zstd_compress(src, srcLen, dst, dstCap, level, outLen, err, err.length);
  }

  @Override
  public int zstdCompress(ByteBuffer src, long srcLen, ByteBuffer dst, long dstCap, int level,
      long[] outLen, byte[] err) {
    return lib.on_zstd_compress(src, srcLen, dst, dstCap, level, outLen, err, err.length);
  }

  @Override
  public long zstdFrameContentSize(byte[] src, long len) {
    return lib.on_zstd_frame_content_size(src, len);
  }

  @Override
  public long zstdFrameContentSize(ByteBuffer src, long len) {
    return lib.on_zstd_frame_content_size(src, len);
  }

  @Override
  public int zstdDecompress(byte[] src, long srcLen, byte[] dst, long dstCap, long[] outLen,
      byte[] err) {
    return lib.on_zstd_decompress(src, srcLen, dst, dstCap, outLen, err, err.length);
  }

  @Override
  public int zstdDecompress(ByteBuffer src, long srcLen, ByteBuffer dst, long dstCap,
      long[] outLen, byte[] err) {
    return lib.on_zstd_decompress(src, srcLen, dst, dstCap, outLen, err, err.length);
  }

  @Override
  public int blake3(byte[] data, long len, byte[] out32, byte[] err) {
    return lib.on_blake3(data, len, out32, err, err.length);
  }

  @Override
  public int blake3(ByteBuffer data, long len, byte[] out32, byte[] err) {
    return lib.on_blake3(data, len, out32, err, err.length);
  }

  @Override
  public int sha256(byte[] data, long len, byte[] out32, byte[] err) {
    return lib.on_sha256(data, len, out32, err, err.length);
  }

  @Override
  public int sha256(ByteBuffer data, long len, byte[] out32, byte[] err) {
    return lib.on_sha256(data, len, out32, err, err.length);
  }

  @Override
  public int tokenCounts(byte[] text, long len, byte[] out, long outCap, long[] outLen,
      byte[] err) {
    return lib.on_token_counts(text, len, out, outCap, outLen, err, err.length);
  }

  @Override
  public int tokenCounts(ByteBuffer text, long len, ByteBuffer out, long outCap, long[] outLen,
      byte[] err) {
    return lib.on_token_counts(text, len, out, outCap, outLen, err, err.length);
  }
}
