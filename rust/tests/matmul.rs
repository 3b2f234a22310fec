//! `on_matmul_*` against a naive triple loop.

mod common;

use std::ptr::{null, null_mut};

use common::{assert_error, call, Rng};
use open_native::*;

/// Odd shapes exercise every edge of the kernels' register tiles; the last
/// is large enough for the cache-blocked path.
const SHAPES: [(usize, usize, usize); 7] =
    [(1, 1, 1), (3, 7, 5), (65, 33, 129), (2, 1, 9), (17, 64, 3), (31, 1, 31), (130, 257, 96)];

/// C = A·B by the definition, with `Σ|a_ik·b_kj|` per element: the scale
/// that the rounding error of any summation order is proportional to.
fn reference(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut c = vec![0.0; m * n];
    let mut scale = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            for p in 0..k {
                c[i * n + j] += a[i * k + p] * b[p * n + j];
                scale[i * n + j] += (a[i * k + p] * b[p * n + j]).abs();
            }
        }
    }
    (c, scale)
}

fn matmul_f64(a: &[f64], b: &[f64], c: &mut [f64], m: usize, k: usize, n: usize) -> (i32, String) {
    call(|err, cap| unsafe { on_matmul_f64(a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), m, k, n, err, cap) })
}

fn matmul_f32(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) -> (i32, String) {
    call(|err, cap| unsafe { on_matmul_f32(a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), m, k, n, err, cap) })
}

#[test]
fn f64_matches_the_definition() {
    let mut rng = Rng::new(0x5EED_0001);
    for (m, k, n) in SHAPES {
        let a = rng.vec_f64(m * k);
        let b = rng.vec_f64(k * n);
        let mut c = vec![f64::NAN; m * n];
        assert_eq!(matmul_f64(&a, &b, &mut c, m, k, n).0, OK);
        let (expected, scale) = reference(&a, &b, m, k, n);
        for (idx, ((got, want), s)) in c.iter().zip(&expected).zip(&scale).enumerate() {
            assert!((got - want).abs() <= 1e-9 * s, "{m}x{k}·{k}x{n} at {idx}: {got} vs {want}");
        }
    }
}

#[test]
fn f32_matches_the_definition() {
    let mut rng = Rng::new(0x5EED_0002);
    for (m, k, n) in SHAPES {
        let a = rng.vec_f64(m * k);
        let b = rng.vec_f64(k * n);
        let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        let mut c = vec![f32::NAN; m * n];
        assert_eq!(matmul_f32(&a32, &b32, &mut c, m, k, n).0, OK);
        let a_rounded: Vec<f64> = a32.iter().map(|&v| v.into()).collect();
        let b_rounded: Vec<f64> = b32.iter().map(|&v| v.into()).collect();
        let (expected, scale) = reference(&a_rounded, &b_rounded, m, k, n);
        for (idx, ((&got, want), s)) in c.iter().zip(&expected).zip(&scale).enumerate() {
            assert!((f64::from(got) - want).abs() <= 1e-4 * s, "{m}x{k}·{k}x{n} at {idx}: {got} vs {want}");
        }
    }
}

#[test]
fn an_inner_dimension_of_zero_gives_the_zero_matrix() {
    let mut c = vec![f64::NAN; 6];
    assert_eq!(matmul_f64(&[], &[], &mut c, 2, 0, 3).0, OK);
    assert_eq!(c, [0.0; 6]);

    let mut c = [f32::NAN; 2];
    assert_eq!(matmul_f32(&[], &[], &mut c, 1, 0, 2).0, OK);
    assert_eq!(c, [0.0; 2]);
}

#[test]
fn empty_outputs_accept_null_pointers() {
    let status = call(|err, cap| unsafe { on_matmul_f64(null(), null(), null_mut(), 0, 5, 0, err, cap) });
    assert_eq!(status.0, OK);
}

#[test]
fn a_missing_operand_is_named() {
    let a = [1.0; 6];
    let mut c = [0.0; 4];
    let result = call(|err, cap| unsafe { on_matmul_f64(a.as_ptr(), null(), c.as_mut_ptr(), 2, 3, 2, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "b is null but its length is 6");
}

#[test]
fn element_counts_that_overflow_are_rejected() {
    let x = [1.0f64];
    let mut c = [0.0f64];
    let big = usize::MAX / 2;
    let result = call(|err, cap| unsafe { on_matmul_f64(x.as_ptr(), x.as_ptr(), c.as_mut_ptr(), big, 3, 1, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "m*k");
    let result = call(|err, cap| unsafe { on_matmul_f64(x.as_ptr(), x.as_ptr(), c.as_mut_ptr(), 1, 3, big, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "k*n");
    let result = call(|err, cap| unsafe { on_matmul_f64(x.as_ptr(), x.as_ptr(), c.as_mut_ptr(), big, 0, 3, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "m*n");
}
