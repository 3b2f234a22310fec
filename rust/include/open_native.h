/*
 * open_native.h — C ABI of libopen_native (the Rust crate in rust/).
 *
 * Hand-written to match src/lib.rs exactly; the Rust docs there are the
 * reference for each function's contract.
 *
 * Conventions
 *   - Every function that returns int32_t returns a status (ON_OK, ...) and
 *     takes `err, err_cap` last: on a non-zero status a NUL-terminated UTF-8
 *     message is written to err, cut at a character boundary to fit
 *     err_cap - 1 bytes; nothing is written if err is NULL or err_cap is 0.
 *   - Lengths are element counts (bytes for byte buffers). A pointer may be
 *     NULL only when its length is 0. Typed pointers must be aligned for
 *     their type; an output array must not overlap an input.
 *   - All buffers are caller-owned; the library keeps no pointer after a
 *     call returns and never hands out memory to free.
 *   - After a non-zero status, output contents are unspecified, except the
 *     length written to *out_len with ON_BUFFER_TOO_SMALL.
 *   - Panics are caught and reported as ON_PANIC; they never unwind into the
 *     caller.
 *   - No global mutable state and no thread-locals: every function may be
 *     called concurrently from any thread. Nothing spawns threads.
 */
#ifndef OPEN_NATIVE_H
#define OPEN_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ON_ABI_VERSION 1u

/* Status codes. */
#define ON_OK               0 /* success */
#define ON_INVALID_ARGUMENT 1 /* bad size, NULL/misaligned pointer, parameter out of range, invalid UTF-8 */
#define ON_KERNEL_ERROR     2 /* well-formed arguments the kernel could not process, e.g. corrupt zstd data */
#define ON_BUFFER_TOO_SMALL 3 /* output buffer too small; a sufficient size is written to *out_len */
#define ON_PANIC            4 /* a Rust panic was caught (a bug); err holds the panic message */

/* ---- Housekeeping ------------------------------------------------------ */

/* Returns ON_ABI_VERSION; check it before any other call. */
uint32_t on_abi_version(void);

/* Does nothing: measures the bare cost of a call. */
void on_noop(void);

/* Does nothing and returns ON_OK: measures the status-returning path. */
int32_t on_noop_status(uint8_t *err, size_t err_cap);

/* Test hook: panics with the UTF-8 message msg[0..len), so it returns
 * ON_PANIC with that message in err. */
int32_t on_debug_panic(const uint8_t *msg, size_t len, uint8_t *err, size_t err_cap);

/* ---- Matrix multiply ---------------------------------------------------- */

/* C = A·B, row-major: a is m×k, b is k×n, c (m×n) is overwritten.
 * Single-threaded. ON_INVALID_ARGUMENT if m*k, k*n or m*n overflows. */
int32_t on_matmul_f64(const double *a, const double *b, double *c,
                      size_t m, size_t k, size_t n,
                      uint8_t *err, size_t err_cap);
int32_t on_matmul_f32(const float *a, const float *b, float *c,
                      size_t m, size_t k, size_t n,
                      uint8_t *err, size_t err_cap);

/* ---- Statistics --------------------------------------------------------- */

/* *out = sum of x, summed pairwise (error O(eps·log n), like NumPy); 0 if n == 0. */
int32_t on_sum_f64(const double *x, size_t n, double *out,
                   uint8_t *err, size_t err_cap);

/* *out = sum of x[i]·y[i], summed pairwise. */
int32_t on_dot_f64(const double *x, const double *y, size_t n, double *out,
                   uint8_t *err, size_t err_cap);

/* Mean, and variance divided by n - ddof (NumPy's var(x, ddof=ddof)), two-pass.
 * ON_INVALID_ARGUMENT if n <= ddof. NaN in x propagates to both results. */
int32_t on_mean_var_f64(const double *x, size_t n, double *out_mean, double *out_var,
                        uint32_t ddof, uint8_t *err, size_t err_cap);

/* Smallest and largest element; both NaN if any element is NaN (as NumPy).
 * ON_INVALID_ARGUMENT if n == 0. */
int32_t on_min_max_f64(const double *x, size_t n, double *out_min, double *out_max,
                       uint8_t *err, size_t err_cap);

/* out[i] = quantile qs[i] of x (out holds nq values), NumPy's default
 * 'linear' method. x is not modified. ON_INVALID_ARGUMENT if n == 0, if x
 * contains NaN, or if some q is outside [0, 1] or NaN. */
int32_t on_quantiles_f64(const double *x, size_t n, const double *qs, size_t nq, double *out,
                         uint8_t *err, size_t err_cap);

/* ---- zstd (standard frames) --------------------------------------------- */

/* Largest compressed size of n bytes: a dst_cap this large never yields
 * ON_BUFFER_TOO_SMALL. 0 if n is too large for a single call. */
size_t on_zstd_compress_bound(size_t n);

/* Compresses src into one frame (content size recorded) in dst; *out_len =
 * frame length. level within zstd's range (-131072..=22 today); 0 = default (3).
 * ON_BUFFER_TOO_SMALL: *out_len = on_zstd_compress_bound(src_len). */
int32_t on_zstd_compress(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_cap,
                         int32_t level, size_t *out_len,
                         uint8_t *err, size_t err_cap);

/* Content size in the header of the first frame of src: >= 0 if recorded,
 * -1 if not recorded (streamed frames) or above INT64_MAX, -2 if src does
 * not start with a valid frame header (including src == NULL). */
int64_t on_zstd_frame_content_size(const uint8_t *src, size_t len);

/* Decompresses all frames in src (concatenated, skippable, and frames without
 * a content size) into dst; *out_len = decompressed length.
 * ON_BUFFER_TOO_SMALL: *out_len = the exact size needed.
 * ON_KERNEL_ERROR: corrupt or truncated input, with zstd's message. */
int32_t on_zstd_decompress(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_cap,
                           size_t *out_len,
                           uint8_t *err, size_t err_cap);

/* ---- Hashing -------------------------------------------------------------- */

/* 32-byte digests of data[0..len) written to out32. */
int32_t on_blake3(const uint8_t *data, size_t len, uint8_t *out32,
                  uint8_t *err, size_t err_cap);
int32_t on_sha256(const uint8_t *data, size_t len, uint8_t *out32,
                  uint8_t *err, size_t err_cap);

/* ---- Text ------------------------------------------------------------------ */

/* Counts the UAX #29 words (segments with at least one alphanumeric char,
 * lowercased with full Unicode case mapping) of the UTF-8 text and encodes
 * them into out; *out_len = encoded length. Format, little-endian:
 *
 *   u32 term_count
 *   term_count times, by count descending, then term bytes ascending:
 *     u32 byte_len; u8 bytes[byte_len] (UTF-8); u64 count
 *
 * ON_BUFFER_TOO_SMALL: *out_len = the exact size needed (out may be NULL
 * with out_cap 0 to ask for it). ON_INVALID_ARGUMENT for invalid UTF-8,
 * naming the byte offset. */
int32_t on_token_counts(const uint8_t *text, size_t len, uint8_t *out, size_t out_cap,
                        size_t *out_len,
                        uint8_t *err, size_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* OPEN_NATIVE_H */
