//! One-shot cryptographic digests. Both crates pick their fastest code path
//! at run time (BLAKE3: SSE4.1/AVX2/AVX-512; SHA-256: the SHA extensions),
//! so the library needs no `target-cpu` flag.

use sha2::Digest;

pub const DIGEST_LEN: usize = 32;

pub fn blake3(data: &[u8]) -> [u8; DIGEST_LEN] {
    *::blake3::hash(data).as_bytes()
}

pub fn sha256(data: &[u8]) -> [u8; DIGEST_LEN] {
    sha2::Sha256::digest(data).into()
}
