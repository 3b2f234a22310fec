//! Performance kernels for OPEN, exported through a C ABI for the Java side
//! (JNR-FFI and the FFM API). `include/open_native.h` declares every export.
//!
//! # Calling convention
//!
//! * Every export is named `on_*`. All but [`on_abi_version`], [`on_noop`],
//!   [`on_zstd_compress_bound`] and [`on_zstd_frame_content_size`] return an
//!   `i32` status and take as their last two parameters `err: *mut u8,
//!   err_cap: usize`: on a non-zero status, a NUL-terminated UTF-8 message is
//!   written there, cut at a character boundary to fit `err_cap - 1` bytes.
//!   Nothing is written if `err` is null or `err_cap` is 0.
//! * Lengths are `usize` counts of elements (bytes for byte buffers).
//!   A pointer may be null only when its length is 0. Typed pointers must be
//!   aligned for their type, and an output array must not overlap an input.
//! * All memory is the caller's: inputs and outputs are caller-owned
//!   buffers, and no pointer is kept after a call returns. Scratch space
//!   allocated inside a call is freed before it returns.
//! * After a non-zero status the contents of output buffers are unspecified,
//!   except for the length reported with [`BUFFER_TOO_SMALL`].
//! * Panics never cross the boundary: every export catches them and returns
//!   [`PANIC`] with the panic message. Rust's default panic hook still prints
//!   the panic to stderr; it is process-wide, so a library has no business
//!   replacing it.
//! * Thread safety: the crate has no global mutable state and no
//!   thread-locals of its own, so any export may be called concurrently from
//!   any thread, and a Java virtual thread may move between carrier threads
//!   between two calls.
//! * Everything runs on the calling thread; parallelism is the caller's.
//!
//! # Status codes
//!
//! | code | constant             | meaning |
//! |------|----------------------|---------|
//! | 0    | [`OK`]               | success |
//! | 1    | [`INVALID_ARGUMENT`] | bad size, null or misaligned pointer, parameter out of range, invalid UTF-8; retrying cannot help |
//! | 2    | [`KERNEL_ERROR`]     | well-formed arguments the kernel could not process, e.g. corrupt zstd data |
//! | 3    | [`BUFFER_TOO_SMALL`] | the output buffer is too small; the size that suffices is written to the call's `out_len` |
//! | 4    | [`PANIC`]            | a bug: a Rust panic was caught; the message is the panic's |

mod error;
mod ffi;
mod hash;
mod matmul;
mod stats;
mod text;
mod zstd_codec;

use error::Error;
use ffi::{input, output, span, Out};

/// Version of this ABI; changes whenever an export's signature or contract does.
pub const ABI_VERSION: u32 = 1;

pub const OK: i32 = 0;
pub const INVALID_ARGUMENT: i32 = 1;
pub const KERNEL_ERROR: i32 = 2;
pub const BUFFER_TOO_SMALL: i32 = 3;
pub const PANIC: i32 = 4;

// ---------------------------------------------------------------------------
// Housekeeping
// ---------------------------------------------------------------------------

/// The ABI version ([`ABI_VERSION`]); callers check it before anything else.
#[no_mangle]
pub extern "C" fn on_abi_version() -> u32 {
    ffi::guard(0, || ABI_VERSION)
}

/// Does nothing, to measure the bare cost of a call from Java.
#[no_mangle]
pub extern "C" fn on_noop() {
    ffi::guard((), || ())
}

/// Does nothing and returns [`OK`], to measure the cost of a call through
/// the status-returning path.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_noop_status(err: *mut u8, err_cap: usize) -> i32 {
    ffi::call(err, err_cap, || Ok(()))
}

/// Test hook for the panic path: panics with the UTF-8 message `msg[..len]`,
/// so the call returns [`PANIC`] with that message in `err`.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_debug_panic(msg: *const u8, len: usize, err: *mut u8, err_cap: usize) -> i32 {
    ffi::call(err, err_cap, || {
        let msg = ffi::utf8(input(msg, len, "msg")?, "msg")?;
        panic!("{msg}")
    })
}

// ---------------------------------------------------------------------------
// Matrix multiply
// ---------------------------------------------------------------------------

/// `C = A·B` for row-major `f64` matrices: `a` is m×k, `b` is k×n, and `c`
/// (m×n) is overwritten. Single-threaded. [`INVALID_ARGUMENT`] if an element
/// count overflows.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_matmul_f64(
    a: *const f64,
    b: *const f64,
    c: *mut f64,
    m: usize,
    k: usize,
    n: usize,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || matmul_export(a, b, c, m, k, n))
}

/// As [`on_matmul_f64`], for `f32`.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_matmul_f32(
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    m: usize,
    k: usize,
    n: usize,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || matmul_export(a, b, c, m, k, n))
}

unsafe fn matmul_export<T: matmul::Element>(
    a: *const T,
    b: *const T,
    c: *mut T,
    m: usize,
    k: usize,
    n: usize,
) -> Result<(), Error> {
    let [a_len, b_len, c_len] = matmul::operand_lens(m, k, n)?;
    let a = input(a, a_len, "a")?;
    let b = input(b, b_len, "b")?;
    let c = output(c, c_len, "c", &[("a", span(a)), ("b", span(b))])?;
    matmul::matmul(a, b, c, m, k, n);
    Ok(())
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/// `*out = Σ x[i]`, summed pairwise (error O(ε·log n), like NumPy). 0 for
/// `n == 0`.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_sum_f64(x: *const f64, n: usize, out: *mut f64, err: *mut u8, err_cap: usize) -> i32 {
    ffi::call(err, err_cap, || {
        let x = input(x, n, "x")?;
        let out = Out::new(out, "out")?;
        out.write(stats::sum(x));
        Ok(())
    })
}

/// `*out = Σ x[i]·y[i]`, summed pairwise like [`on_sum_f64`].
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_dot_f64(
    x: *const f64,
    y: *const f64,
    n: usize,
    out: *mut f64,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || {
        let x = input(x, n, "x")?;
        let y = input(y, n, "y")?;
        let out = Out::new(out, "out")?;
        out.write(stats::dot(x, y));
        Ok(())
    })
}

/// Mean and variance of `x`, the variance divided by `n - ddof` as in
/// NumPy's `var(x, ddof=ddof)`; computed in two passes for accuracy.
/// [`INVALID_ARGUMENT`] if `n <= ddof`. NaN in `x` propagates to both.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_mean_var_f64(
    x: *const f64,
    n: usize,
    out_mean: *mut f64,
    out_var: *mut f64,
    ddof: u32,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || {
        let x = input(x, n, "x")?;
        let out_mean = Out::new(out_mean, "out_mean")?;
        let out_var = Out::new(out_var, "out_var")?;
        let (mean, var) = stats::mean_var(x, ddof)?;
        out_mean.write(mean);
        out_var.write(var);
        Ok(())
    })
}

/// Smallest and largest element of `x`. Like NumPy's `min`/`max`, NaN
/// propagates: if any element is NaN both results are NaN.
/// [`INVALID_ARGUMENT`] if `n == 0`.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_min_max_f64(
    x: *const f64,
    n: usize,
    out_min: *mut f64,
    out_max: *mut f64,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || {
        let x = input(x, n, "x")?;
        let out_min = Out::new(out_min, "out_min")?;
        let out_max = Out::new(out_max, "out_max")?;
        let (min, max) = stats::min_max(x)?;
        out_min.write(min);
        out_max.write(max);
        Ok(())
    })
}

/// `out[i]` = the `qs[i]` quantile of `x` (`out` holds `nq` values), with
/// NumPy's default 'linear' interpolation. `x` is not modified (the kernel
/// selects in a scratch copy).
///
/// [`INVALID_ARGUMENT`] if `n == 0`, if `x` contains NaN (NumPy would return
/// NaN for every quantile; here it is reported as the likely bug it is), or
/// if a `q` is outside `[0, 1]` or NaN.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_quantiles_f64(
    x: *const f64,
    n: usize,
    qs: *const f64,
    nq: usize,
    out: *mut f64,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || {
        let x = input(x, n, "x")?;
        let qs = input(qs, nq, "qs")?;
        let out = output(out, nq, "out", &[("x", span(x)), ("qs", span(qs))])?;
        stats::quantiles(x, qs, out)
    })
}

// ---------------------------------------------------------------------------
// zstd
// ---------------------------------------------------------------------------

/// The largest compressed size of `n` input bytes: a `dst_cap` of this size
/// never yields [`BUFFER_TOO_SMALL`]. 0 if `n` is too large for one call.
#[no_mangle]
pub extern "C" fn on_zstd_compress_bound(n: usize) -> usize {
    ffi::guard(0, || zstd_codec::compress_bound(n))
}

/// Compresses `src` into a single standard zstd frame (with its content size
/// recorded) in `dst`, and sets `*out_len` to the frame's length.
///
/// `level` must lie in zstd's range (currently -131072..=22); 0 selects the
/// default level 3. If `dst` is too small: [`BUFFER_TOO_SMALL`] with
/// `*out_len` = [`on_zstd_compress_bound`]`(src_len)`, a size that
/// suffices (the exact size is only known by compressing).
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_zstd_compress(
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    level: i32,
    out_len: *mut usize,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || {
        let src = input(src, src_len, "src")?;
        let dst = output(dst, dst_cap, "dst", &[("src", span(src))])?;
        let out_len = Out::new(out_len, "out_len")?;
        ffi::report_len(out_len, zstd_codec::compress(src, dst, level))
    })
}

/// The content size recorded in the header of the zstd frame at the start of
/// `src`: `>= 0` if recorded, -1 if not recorded (frames written by a
/// streaming encoder, e.g. the `zstd` CLI reading a pipe) or larger than
/// `i64::MAX`, -2 if `src` does not start with a valid frame header
/// (including a null `src`). Only the first frame is looked at.
///
/// # Safety
/// If `len > 0`, `src` must be valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn on_zstd_frame_content_size(src: *const u8, len: usize) -> i64 {
    ffi::guard(-2, || match input(src, len, "src") {
        Ok(src) => zstd_codec::frame_content_size(src),
        Err(_) => -2,
    })
}

/// Decompresses all of `src` into `dst` and sets `*out_len` to the
/// decompressed length. `src` may hold several concatenated frames,
/// skippable frames, and frames that do not record their content size.
///
/// If `dst` is too small: [`BUFFER_TOO_SMALL`] with `*out_len` = the exact
/// decompressed size, so one retry suffices. Corrupt or truncated input:
/// [`KERNEL_ERROR`] with zstd's message.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_zstd_decompress(
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    out_len: *mut usize,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || {
        let src = input(src, src_len, "src")?;
        let dst = output(dst, dst_cap, "dst", &[("src", span(src))])?;
        let out_len = Out::new(out_len, "out_len")?;
        ffi::report_len(out_len, zstd_codec::decompress(src, dst))
    })
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/// Writes the 32-byte BLAKE3 digest of `data` to `out32`.
///
/// # Safety
/// See the crate documentation; `out32` must be valid for 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn on_blake3(data: *const u8, len: usize, out32: *mut u8, err: *mut u8, err_cap: usize) -> i32 {
    ffi::call(err, err_cap, || {
        let data = input(data, len, "data")?;
        let out = Out::new(out32.cast::<[u8; hash::DIGEST_LEN]>(), "out32")?;
        out.write(hash::blake3(data));
        Ok(())
    })
}

/// Writes the 32-byte SHA-256 digest of `data` to `out32`.
///
/// # Safety
/// See the crate documentation; `out32` must be valid for 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn on_sha256(data: *const u8, len: usize, out32: *mut u8, err: *mut u8, err_cap: usize) -> i32 {
    ffi::call(err, err_cap, || {
        let data = input(data, len, "data")?;
        let out = Out::new(out32.cast::<[u8; hash::DIGEST_LEN]>(), "out32")?;
        out.write(hash::sha256(data));
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/// Counts the words of the UTF-8 `text` and encodes the counts into `out`,
/// setting `*out_len` to the encoded length.
///
/// Words are the UAX #29 word segments that contain at least one
/// alphanumeric character, lowercased with full Unicode case mapping
/// (`str::to_lowercase`). UAX #29 keeps `don't` and `3.14` whole, splits
/// `e-mail` in two and, having no dictionary, makes every Han or kana
/// character its own word (`東京` gives `東` and `京`). Lowercasing does not
/// fold `ß` to `ss`, so `Straße` and `STRASSE` stay distinct.
///
/// Output format, all integers little-endian:
///
/// ```text
/// u32 term_count
/// term_count times, by count descending, then term bytes ascending:
///     u32 byte_len
///     u8  bytes[byte_len]   the lowercased term, UTF-8
///     u64 count
/// ```
///
/// If `out_cap` is too small: [`BUFFER_TOO_SMALL`] with `*out_len` = the
/// exact size needed. Invalid UTF-8: [`INVALID_ARGUMENT`] naming the byte
/// offset of the first invalid sequence.
///
/// # Safety
/// See the crate documentation.
#[no_mangle]
pub unsafe extern "C" fn on_token_counts(
    text: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    ffi::call(err, err_cap, || {
        let text = ffi::utf8(input(text, len, "text")?, "text")?;
        let out = output(out, out_cap, "out", &[("text", span(text.as_bytes()))])?;
        let out_len = Out::new(out_len, "out_len")?;
        ffi::report_len(out_len, text::token_counts(text, out))
    })
}
