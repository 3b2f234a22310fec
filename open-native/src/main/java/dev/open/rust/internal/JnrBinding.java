package dev.open.rust.internal;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;

import dev.open.rust.internal.jnr.NativeFunctions;

/**
 * {@link Binding} through JNR-FFI. Heap arrays are {@code @Pinned} (no copy); direct buffers pass
 * their address; errno is never saved ({@code IgnoreError}), since the library does not use it.
 */
final class JnrBinding implements Binding {

  private final NativeFunctions lib;

  JnrBinding(Path library) {
    this.lib = LibraryLoader.create(NativeFunctions.class)
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
