package dev.open.rust.internal.jnr;

import java.nio.ByteBuffer;

import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.Pinned;
import jnr.ffi.types.int64_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.u_int32_t;

/**
 * The exports of libopen_native (rust/src/ffi.rs) as JNR-FFI maps them: one method per symbol,
 * with heap-array and direct-buffer overloads. Public only for the stub JNR-FFI generates.
 */
public interface NativeFunctions {
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
