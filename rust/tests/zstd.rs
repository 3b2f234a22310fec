//! zstd round trips, interoperability with streamed frames, and the error
//! paths the Java side relies on.

mod common;

use std::io::Write;
use std::ptr::{null, null_mut};

use common::{assert_error, call, Rng};
use open_native::*;

/// Compressible but not trivial: words drawn at random from a small vocabulary.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 8] = ["alpha ", "beta ", "gamma ", "delta ", "zstd ", "frame ", "block ", "\n"];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(WORDS[(rng.next_u64() % 8) as usize].as_bytes());
    }
    out.truncate(len);
    out
}

/// Status, message, `*out_len` and the bytes written.
fn compress(src: &[u8], dst_cap: usize, level: i32) -> (i32, String, usize, Vec<u8>) {
    let mut dst = vec![0u8; dst_cap];
    let mut out_len = usize::MAX;
    let (status, message) = call(|err, cap| unsafe {
        on_zstd_compress(src.as_ptr(), src.len(), dst.as_mut_ptr(), dst.len(), level, &mut out_len, err, cap)
    });
    dst.truncate(if status == OK { out_len } else { 0 });
    (status, message, out_len, dst)
}

fn compress_ok(src: &[u8], level: i32) -> Vec<u8> {
    let (status, message, _, frame) = compress(src, on_zstd_compress_bound(src.len()), level);
    assert_eq!(status, OK, "{message}");
    frame
}

/// Status, message, `*out_len` and the bytes written.
fn decompress(src: &[u8], dst_cap: usize) -> (i32, String, usize, Vec<u8>) {
    let mut dst = vec![0u8; dst_cap];
    let mut out_len = usize::MAX;
    let (status, message) = call(|err, cap| unsafe {
        on_zstd_decompress(src.as_ptr(), src.len(), dst.as_mut_ptr(), dst.len(), &mut out_len, err, cap)
    });
    dst.truncate(if status == OK { out_len } else { 0 });
    (status, message, out_len, dst)
}

fn frame_content_size(src: &[u8]) -> i64 {
    unsafe { on_zstd_frame_content_size(src.as_ptr(), src.len()) }
}

/// A frame as the `zstd` CLI writes it from a pipe: streamed, so its header
/// records no content size.
fn streamed_frame(data: &[u8]) -> Vec<u8> {
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn round_trips_at_every_kind_of_level() {
    for len in [0, 1, 100, 200_000] {
        let data = sample(len, len as u64);
        for level in [1, 3, 19, -5, 0] {
            let frame = compress_ok(&data, level);
            assert_eq!(frame_content_size(&frame), len as i64, "len {len}, level {level}");
            let (status, message, out_len, out) = decompress(&frame, len);
            assert_eq!((status, out_len), (OK, len), "{message}");
            assert_eq!(out, data, "len {len}, level {level}");
        }
    }
}

#[test]
fn frames_are_standard_zstd() {
    let data = sample(10_000, 7);
    assert_eq!(zstd::decode_all(&compress_ok(&data, 3)[..]).unwrap(), data);
    let theirs = zstd::encode_all(&data[..], 5).unwrap();
    assert_eq!(decompress(&theirs, data.len()).3, data);
}

#[test]
fn concatenated_frames_decompress_to_the_concatenation() {
    let (a, b) = (sample(5_000, 1), sample(70_000, 2));
    let mut both = compress_ok(&a, 3);
    both.extend(compress_ok(&b, 19));
    both.extend(streamed_frame(&a));
    let expected = [&a[..], &b, &a].concat();
    let (status, message, out_len, out) = decompress(&both, expected.len() + 10);
    assert_eq!((status, out_len), (OK, expected.len()), "{message}");
    assert_eq!(out, expected);
}

#[test]
fn a_frame_without_content_size_decompresses() {
    let data = sample(300_000, 3);
    let frame = streamed_frame(&data);
    assert_eq!(frame_content_size(&frame), -1);
    let (status, message, out_len, out) = decompress(&frame, data.len());
    assert_eq!((status, out_len), (OK, data.len()), "{message}");
    assert_eq!(out, data);
}

#[test]
fn a_small_dst_reports_the_exact_size_needed_for_decompression() {
    let (a, b) = (sample(1_000, 4), sample(9_000, 5));
    let known = [compress_ok(&a, 3), compress_ok(&b, 3)].concat();
    let unknown = [streamed_frame(&a), streamed_frame(&b)].concat();
    let mixed = [compress_ok(&a, 3), streamed_frame(&b)].concat();
    for src in [known, unknown, mixed] {
        for dst_cap in [0, 999, 9_999] {
            let (status, message, needed, _) = decompress(&src, dst_cap);
            assert_eq!((status, needed), (BUFFER_TOO_SMALL, 10_000), "{message}");
            assert!(message.contains("10000"), "{message}");
        }
        assert_eq!(decompress(&src, 10_000).0, OK);
    }
}

#[test]
fn a_small_dst_reports_a_sufficient_size_for_compression() {
    let data = sample(50_000, 6);
    let (status, message, needed, _) = compress(&data, 16, 3);
    assert_error((status, message), BUFFER_TOO_SMALL, "dst holds 16 bytes");
    assert_eq!(needed, on_zstd_compress_bound(data.len()));
    assert_eq!(compress(&data, needed, 3).0, OK);
}

#[test]
fn corrupt_input_is_a_kernel_error_with_zstds_message() {
    let data = sample(20_000, 8);
    let frame = compress_ok(&data, 3);

    let (status, message, ..) = decompress(b"definitely not zstd", 1_000);
    assert_error((status, message), KERNEL_ERROR, "zstd decompression failed: Unknown frame descriptor");

    let (status, message, ..) = decompress(&frame[..frame.len() / 2], data.len());
    assert_error((status, message), KERNEL_ERROR, "zstd decompression failed");

    let mut damaged = frame.clone();
    damaged[8..frame.len() - 4].fill(0xFF);
    let (status, message, ..) = decompress(&damaged, data.len());
    assert_error((status, message), KERNEL_ERROR, "zstd decompression failed");
}

#[test]
fn empty_input_decompresses_to_nothing() {
    let mut out_len = usize::MAX;
    let result = call(|err, cap| unsafe { on_zstd_decompress(null(), 0, null_mut(), 0, &mut out_len, err, cap) });
    assert_eq!((result.0, out_len), (OK, 0));
}

#[test]
fn levels_outside_zstds_range_are_rejected() {
    for level in [23, 1000, i32::MIN] {
        let (status, message, ..) = compress(b"data", 100, level);
        assert_error((status, message), INVALID_ARGUMENT, &format!("level {level} is outside zstd's range"));
    }
}

#[test]
fn frame_content_size_distinguishes_unknown_from_invalid() {
    assert_eq!(frame_content_size(&compress_ok(b"hello", 3)), 5);
    assert_eq!(frame_content_size(&compress_ok(b"", 3)), 0);
    assert_eq!(frame_content_size(&streamed_frame(b"hello")), -1);
    assert_eq!(frame_content_size(b"not a frame"), -2);
    assert_eq!(frame_content_size(&compress_ok(b"hello", 3)[..3]), -2);
    assert_eq!(unsafe { on_zstd_frame_content_size(null(), 10) }, -2);
}

#[test]
fn compress_bound_covers_incompressible_data_and_rejects_impossible_sizes() {
    let mut rng = Rng::new(9);
    let noise: Vec<u8> = (0..100_000).map(|_| rng.next_u64() as u8).collect();
    assert_eq!(compress(&noise, on_zstd_compress_bound(noise.len()), 19).0, OK);
    assert!(on_zstd_compress_bound(0) > 0);
    assert_eq!(on_zstd_compress_bound(usize::MAX), 0);
}

#[test]
fn a_null_out_len_is_rejected() {
    let mut dst = [0u8; 64];
    let result =
        call(|err, cap| unsafe { on_zstd_compress(b"x".as_ptr(), 1, dst.as_mut_ptr(), 64, 3, null_mut(), err, cap) });
    assert_error(result, INVALID_ARGUMENT, "out_len is null");
}
