//! The digests against the official BLAKE3 and FIPS 180-2 test vectors.

mod common;

use std::ptr::{null, null_mut};

use common::{assert_error, call};
use open_native::*;

type HashFn = unsafe extern "C" fn(*const u8, usize, *mut u8, *mut u8, usize) -> i32;

fn digest(hash: HashFn, data: &[u8]) -> String {
    let mut out = [0u8; 32];
    let (status, message) = call(|err, cap| unsafe { hash(data.as_ptr(), data.len(), out.as_mut_ptr(), err, cap) });
    assert_eq!(status, OK, "{message}");
    out.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn blake3_matches_the_official_vectors() {
    let vectors = include_str!("data/blake3_hash_vectors.txt");
    let mut checked = 0;
    for line in vectors.lines().filter(|l| !l.starts_with('#')) {
        let (len, expected) = line.split_once(' ').expect("input_len digest");
        let input: Vec<u8> = (0..len.parse::<usize>().unwrap()).map(|i| (i % 251) as u8).collect();
        assert_eq!(digest(on_blake3, &input), expected, "input_len {len}");
        checked += 1;
    }
    assert_eq!(checked, 35);
}

#[test]
fn sha256_matches_fips_180_2() {
    assert_eq!(digest(on_sha256, b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(
        digest(on_sha256, b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    assert_eq!(
        digest(on_sha256, &vec![b'a'; 1_000_000]),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
    assert_eq!(digest(on_sha256, b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

#[test]
fn empty_data_may_be_null() {
    for hash in [on_blake3 as HashFn, on_sha256] {
        let mut out = [0u8; 32];
        assert_eq!(call(|err, cap| unsafe { hash(null(), 0, out.as_mut_ptr(), err, cap) }).0, OK);
        assert_eq!(out.iter().map(|b| format!("{b:02x}")).collect::<String>(), digest(hash, b""));
    }
}

#[test]
fn a_null_digest_buffer_is_rejected() {
    for hash in [on_blake3 as HashFn, on_sha256] {
        let result = call(|err, cap| unsafe { hash(b"abc".as_ptr(), 3, null_mut(), err, cap) });
        assert_error(result, INVALID_ARGUMENT, "out32 is null");
    }
}
