//! Helpers shared by the integration tests, which call the exports through
//! raw pointers exactly as a C caller would.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::ffi::CStr;

/// Room for any message the library writes.
const ERR_CAP: usize = 512;

/// Runs an export with an error buffer of [`ERR_CAP`] bytes and returns its
/// status and message (empty when the status is OK).
pub fn call(f: impl FnOnce(*mut u8, usize) -> i32) -> (i32, String) {
    let mut err = [0xA5u8; ERR_CAP];
    let status = f(err.as_mut_ptr(), err.len());
    if status == open_native::OK {
        assert_eq!(err, [0xA5; ERR_CAP], "err must be left alone on success");
        return (status, String::new());
    }
    let message = CStr::from_bytes_until_nul(&err).expect("NUL-terminated");
    (status, message.to_str().expect("UTF-8").to_owned())
}

/// Asserts that `(status, message)` is the expected status with a message
/// containing `fragment`.
#[track_caller]
pub fn assert_error((status, message): (i32, String), expected: i32, fragment: &str) {
    assert_eq!(status, expected, "status (message: {message:?})");
    assert!(message.contains(fragment), "{message:?} should contain {fragment:?}");
}

/// A small seeded generator (SplitMix64), so failures reproduce exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    pub fn vec_f64(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.next_f64()).collect()
    }
}
