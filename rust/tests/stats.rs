//! The statistics kernels against straightforward formulas and NumPy's
//! answers.

mod common;

use std::ptr::null;

use common::{assert_error, call, Rng};
use open_native::*;

/// Lengths around the lane (8) and block (128) boundaries, and one with
/// several levels of pairwise combination.
const LENGTHS: [usize; 10] = [1, 7, 8, 9, 127, 128, 129, 1000, 4099, 100_003];

fn sum(x: &[f64]) -> f64 {
    let mut out = f64::NAN;
    assert_eq!(call(|err, cap| unsafe { on_sum_f64(x.as_ptr(), x.len(), &mut out, err, cap) }).0, OK);
    out
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut out = f64::NAN;
    assert_eq!(call(|err, cap| unsafe { on_dot_f64(x.as_ptr(), y.as_ptr(), x.len(), &mut out, err, cap) }).0, OK);
    out
}

fn mean_var(x: &[f64], ddof: u32) -> Result<(f64, f64), (i32, String)> {
    let (mut mean, mut var) = (f64::NAN, f64::NAN);
    let result = call(|err, cap| unsafe { on_mean_var_f64(x.as_ptr(), x.len(), &mut mean, &mut var, ddof, err, cap) });
    if result.0 == OK {
        Ok((mean, var))
    } else {
        Err(result)
    }
}

fn min_max(x: &[f64]) -> Result<(f64, f64), (i32, String)> {
    let (mut min, mut max) = (0.0, 0.0);
    let result = call(|err, cap| unsafe { on_min_max_f64(x.as_ptr(), x.len(), &mut min, &mut max, err, cap) });
    if result.0 == OK {
        Ok((min, max))
    } else {
        Err(result)
    }
}

fn quantiles(x: &[f64], qs: &[f64]) -> Result<Vec<f64>, (i32, String)> {
    let mut out = vec![f64::NAN; qs.len()];
    let result = call(|err, cap| unsafe {
        on_quantiles_f64(x.as_ptr(), x.len(), qs.as_ptr(), qs.len(), out.as_mut_ptr(), err, cap)
    });
    if result.0 == OK {
        Ok(out)
    } else {
        Err(result)
    }
}

#[track_caller]
fn assert_close(got: f64, want: f64, tolerance: f64) {
    assert!((got - want).abs() <= tolerance, "{got} vs {want} (tolerance {tolerance})");
}

#[test]
fn sum_and_dot_match_the_plain_loop() {
    let mut rng = Rng::new(0x5EED_0101);
    for n in LENGTHS {
        let x = rng.vec_f64(n);
        let y = rng.vec_f64(n);
        let plain_sum: f64 = x.iter().sum();
        let plain_dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        assert_close(sum(&x), plain_sum, 1e-12 * n as f64);
        assert_close(dot(&x, &y), plain_dot, 1e-12 * n as f64);
    }
    assert_eq!(sum(&[]), 0.0);
    assert_eq!(dot(&[], &[]), 0.0);
}

#[test]
fn sum_is_pairwise_accurate() {
    // A plain loop is off by 1.3e-6 here; NumPy's pairwise sum by 3e-11.
    let x = vec![0.1; 1_000_000];
    assert_close(sum(&x), 100_000.0, 1e-9);
    assert_close(dot(&x, &vec![1.0; x.len()]), 100_000.0, 1e-9);
}

#[test]
fn mean_var_matches_the_definition() {
    let mut rng = Rng::new(0x5EED_0102);
    for n in LENGTHS {
        let x = rng.vec_f64(n);
        let mean = x.iter().sum::<f64>() / n as f64;
        let squares: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
        let (got_mean, got_var) = mean_var(&x, 0).unwrap();
        assert_close(got_mean, mean, 1e-14);
        assert_close(got_var, squares / n as f64, 1e-13);
        if n > 1 {
            assert_close(mean_var(&x, 1).unwrap().1, squares / (n - 1) as f64, 1e-13);
        }
    }
}

#[test]
fn variance_survives_a_large_offset() {
    // NumPy: mean 1000000010.0, var 22.5, var(ddof=1) 30.0.
    let x = [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0];
    assert_eq!(mean_var(&x, 0).unwrap(), (1_000_000_010.0, 22.5));
    assert_eq!(mean_var(&x, 1).unwrap(), (1_000_000_010.0, 30.0));
}

#[test]
fn variance_needs_more_elements_than_ddof() {
    assert_error(mean_var(&[1.0, 2.0], 2).unwrap_err(), INVALID_ARGUMENT, "n = 2 must be greater than ddof = 2");
    assert_error(mean_var(&[], 0).unwrap_err(), INVALID_ARGUMENT, "n = 0");
    assert_eq!(mean_var(&[5.0], 0).unwrap(), (5.0, 0.0));
}

#[test]
fn nan_propagates_through_mean_and_variance() {
    let (mean, var) = mean_var(&[1.0, f64::NAN, 3.0], 0).unwrap();
    assert!(mean.is_nan() && var.is_nan());
}

#[test]
fn min_max_matches_iteration() {
    let mut rng = Rng::new(0x5EED_0103);
    for n in LENGTHS {
        let x = rng.vec_f64(n);
        let min = x.iter().copied().fold(f64::INFINITY, f64::min);
        let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(min_max(&x).unwrap(), (min, max), "n = {n}");
    }
    assert_eq!(min_max(&[f64::INFINITY, -2.0, f64::NEG_INFINITY]).unwrap(), (f64::NEG_INFINITY, f64::INFINITY));
    assert_eq!(min_max(&[4.0]).unwrap(), (4.0, 4.0));
}

#[test]
fn min_max_propagates_nan_like_numpy() {
    for position in [0, 5, 8, 20] {
        let mut x = vec![1.0; 21];
        x[position] = f64::NAN;
        let (min, max) = min_max(&x).unwrap();
        assert!(min.is_nan() && max.is_nan(), "NaN at {position}");
    }
}

#[test]
fn min_max_of_nothing_is_an_error() {
    assert_error(min_max(&[]).unwrap_err(), INVALID_ARGUMENT, "x is empty");
}

/// The 'linear' method on a fully sorted copy.
fn reference_quantile(x: &[f64], q: f64) -> f64 {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (sorted[above] - sorted[below]) * (h - below as f64)
}

#[test]
fn quantiles_match_numpy() {
    let qs = [0.0, 0.25, 0.5, 0.9, 1.0];
    assert_eq!(quantiles(&[1.0, 2.0, 3.0, 4.0], &qs).unwrap(), [1.0, 1.75, 2.5, 3.7, 4.0]);
    let x = [3.0, -1.0, 10.0, 2.5, 0.0];
    assert_eq!(quantiles(&x, &[0.1, 0.33, 0.5, 0.75]).unwrap(), [-0.6, 0.8000000000000002, 2.5, 3.0]);
    assert_eq!(quantiles(&[7.0], &[0.0, 0.3, 1.0]).unwrap(), [7.0, 7.0, 7.0]);
}

#[test]
fn quantiles_match_a_sorted_reference_for_few_and_many_qs() {
    let mut rng = Rng::new(0x5EED_0104);
    // Few quantiles are selected one by one; many sort the scratch copy.
    let few = [0.0, 0.5, 1.0, 0.999];
    let many: Vec<f64> = (0..=40).map(|i| i as f64 / 40.0).collect();
    for n in LENGTHS {
        let mut x = rng.vec_f64(n);
        x.iter_mut().step_by(3).for_each(|v| *v = v.round()); // ties
        let original = x.clone();
        for qs in [&few[..], &many] {
            let got = quantiles(&x, qs).unwrap();
            for (&q, g) in qs.iter().zip(got) {
                assert_close(g, reference_quantile(&x, q), 1e-15);
            }
        }
        assert_eq!(x, original, "x must not be modified");
        let (min, max) = min_max(&x).unwrap();
        assert_eq!(quantiles(&x, &[0.0, 1.0]).unwrap(), [min, max]);
    }
}

#[test]
fn no_quantiles_is_fine() {
    assert_eq!(quantiles(&[1.0], &[]).unwrap(), Vec::<f64>::new());
}

#[test]
fn quantile_arguments_are_checked() {
    assert_error(quantiles(&[], &[0.5]).unwrap_err(), INVALID_ARGUMENT, "x is empty");
    assert_error(quantiles(&[1.0], &[0.5, 1.5]).unwrap_err(), INVALID_ARGUMENT, "qs[1] = 1.5 is outside [0, 1]");
    assert_error(quantiles(&[1.0], &[-0.1]).unwrap_err(), INVALID_ARGUMENT, "qs[0] = -0.1");
    assert_error(quantiles(&[1.0], &[f64::NAN]).unwrap_err(), INVALID_ARGUMENT, "qs[0] = NaN");
    assert_error(quantiles(&[1.0, f64::NAN], &[0.5]).unwrap_err(), INVALID_ARGUMENT, "x contains NaN (x[1])");

    let x = [1.0];
    let mut out = [0.0];
    let result = call(|err, cap| unsafe { on_quantiles_f64(x.as_ptr(), 1, null(), 1, out.as_mut_ptr(), err, cap) });
    assert_error(result, INVALID_ARGUMENT, "qs is null");
}
