//! zstd in standard frames (libzstd through the `zstd` crate), so the data
//! interoperates with the `zstd` CLI and every other binding.

use std::io;

use zstd::zstd_safe::{self, zstd_sys, ErrorCode};

use crate::error::Error;

/// The largest compressed size of `src_len` bytes, or 0 if `src_len` is too
/// large for a single zstd call.
pub fn compress_bound(src_len: usize) -> usize {
    let bound = zstd_safe::compress_bound(src_len);
    // SAFETY: ZSTD_isError only inspects the integer.
    if unsafe { zstd_sys::ZSTD_isError(bound) } != 0 {
        0
    } else {
        bound
    }
}

/// Compresses `src` into one frame in `dst` and returns the frame's length.
///
/// Level 0 means zstd's default (3); negative levels trade ratio for speed.
/// When `dst` is too small the size that suffices is [`compress_bound`]:
/// the exact size is only known by compressing.
pub fn compress(src: &[u8], dst: &mut [u8], level: i32) -> Result<usize, Error> {
    let (min, max) = (zstd_safe::min_c_level(), zstd_safe::max_c_level());
    if !(min..=max).contains(&level) {
        return Err(Error::InvalidArgument(format!("level {level} is outside zstd's range {min}..={max}")));
    }
    zstd_safe::compress(dst, src, level).map_err(|code| {
        if is_dst_too_small(code) {
            let needed = compress_bound(src.len());
            Error::BufferTooSmall {
                needed,
                message: format!("dst holds {} bytes; the frame needs more (at most {needed})", dst.len()),
            }
        } else {
            Error::Kernel(format!("zstd compression failed: {}", zstd_safe::get_error_name(code)))
        }
    })
}

/// The content size recorded in the header of the frame starting `src`:
/// `>= 0` if recorded, -1 if the frame does not record it (streamed frames)
/// or it does not fit `i64`, -2 if `src` does not start with a frame header.
pub fn frame_content_size(src: &[u8]) -> i64 {
    match zstd_safe::get_frame_content_size(src) {
        Ok(Some(size)) => i64::try_from(size).unwrap_or(-1),
        Ok(None) => -1,
        Err(_) => -2,
    }
}

/// Decompresses every frame in `src` (concatenated frames, skippable frames
/// and frames without a recorded size included) into `dst`, returning the
/// total length.
///
/// When `dst` is too small the exact size needed is reported, so one retry
/// suffices.
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    match zstd_safe::decompress(dst, src) {
        Ok(len) => Ok(len),
        Err(code) if is_dst_too_small(code) => {
            let needed = decompressed_size(src)?;
            Err(Error::BufferTooSmall {
                needed,
                message: format!("dst holds {} bytes but the data decompresses to {needed}", dst.len()),
            })
        }
        Err(code) => Err(corrupt(zstd_safe::get_error_name(code))),
    }
}

/// The exact decompressed size of `src`: read from the frame headers when
/// every frame records it, else found by decompressing into a sink, which
/// needs no output buffer.
fn decompressed_size(src: &[u8]) -> Result<usize, Error> {
    let size = match zstd_safe::find_decompressed_size(src) {
        Ok(Some(size)) => size,
        _ => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(src).map_err(corrupt)?;
            io::copy(&mut decoder, &mut io::sink()).map_err(corrupt)?
        }
    };
    usize::try_from(size).map_err(|_| corrupt(format!("{size} decompressed bytes exceed the address space")))
}

fn is_dst_too_small(code: ErrorCode) -> bool {
    zstd_safe::is_error_kind(code, zstd_sys::ZSTD_ErrorCode::ZSTD_error_dstSize_tooSmall)
}

fn corrupt(reason: impl std::fmt::Display) -> Error {
    Error::Kernel(format!("zstd decompression failed: {reason}"))
}
