//! Reductions over `f64` slices, with NumPy's semantics where it has one.
//!
//! Sums are pairwise, like NumPy's `sum`: each block of [`BLOCK`] elements is
//! added in [`LANES`] independent accumulators, an order the compiler turns
//! into SIMD adds, and the block sums are combined in a balanced tree. The
//! rounding error then grows like O(log n) rather than the O(n) of a plain
//! loop, at the speed of a plain loop. (Kahan–Neumaier would be more accurate
//! still, but its dependent operations halve the throughput.)

use std::ops::Range;

use crate::error::Error;

/// Independent accumulators per block: enough for two AVX-512 or four AVX
/// registers of `f64`, and to hide the latency of the adds.
const LANES: usize = 8;
/// Elements summed sequentially (per lane) before pairwise combination.
const BLOCK: usize = 128;

pub fn sum(x: &[f64]) -> f64 {
    pairwise(0..x.len(), &|r| lane_sum(&x[r], |v| v))
}

/// `Σ x[i]·y[i]`; the slices have the same length.
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "dot operands");
    pairwise(0..x.len(), &|r: Range<usize>| lane_dot(&x[r.clone()], &y[r]))
}

/// Mean and variance with `ddof` delta degrees of freedom, like NumPy's
/// `var(x, ddof=ddof)`: the divisor is `n - ddof`, which must be positive.
///
/// Two passes (the mean, then the squared deviations from it) keep the
/// result accurate when the mean is large compared with the spread, where
/// the one-pass `Σx² - n·mean²` cancels catastrophically. NaN propagates.
pub fn mean_var(x: &[f64], ddof: u32) -> Result<(f64, f64), Error> {
    let n = x.len();
    if n <= ddof as usize {
        return Err(Error::InvalidArgument(format!("n = {n} must be greater than ddof = {ddof}")));
    }
    let mean = sum(x) / n as f64;
    let squares = pairwise(0..n, &|r| lane_sum(&x[r], |v| (v - mean) * (v - mean)));
    Ok((mean, squares / (n - ddof as usize) as f64))
}

/// Smallest and largest element; both are NaN if any element is NaN, as with
/// NumPy's `min` and `max`.
pub fn min_max(x: &[f64]) -> Result<(f64, f64), Error> {
    if x.is_empty() {
        return Err(Error::InvalidArgument("x is empty".into()));
    }
    // `v < lo` is false for NaN, so NaN never enters lo or hi (and the
    // comparison maps to a single SIMD min/max); it is flagged separately.
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    let mut nan = [false; LANES];
    let (chunks, tail) = x.as_chunks::<LANES>();
    for chunk in chunks {
        for (j, &v) in chunk.iter().enumerate() {
            lo[j] = if v < lo[j] { v } else { lo[j] };
            hi[j] = if v > hi[j] { v } else { hi[j] };
            nan[j] |= v.is_nan();
        }
    }
    for &v in tail {
        lo[0] = if v < lo[0] { v } else { lo[0] };
        hi[0] = if v > hi[0] { v } else { hi[0] };
        nan[0] |= v.is_nan();
    }
    if nan.contains(&true) {
        return Ok((f64::NAN, f64::NAN));
    }
    let min = lo.into_iter().fold(f64::INFINITY, f64::min);
    let max = hi.into_iter().fold(f64::NEG_INFINITY, f64::max);
    Ok((min, max))
}

/// Writes to `out[i]` the `qs[i]` quantile of `x`, by NumPy's default
/// 'linear' method: the order statistics at `floor(h)` and `floor(h) + 1`
/// interpolated, where `h = (n - 1)·q`.
///
/// `x` must be non-empty and free of NaN (NumPy would answer NaN for every
/// quantile; a NaN here is far more likely a bug upstream worth reporting),
/// and every `q` must lie in `[0, 1]`.
pub fn quantiles(x: &[f64], qs: &[f64], out: &mut [f64]) -> Result<(), Error> {
    assert_eq!(qs.len(), out.len(), "one output per quantile");
    if x.is_empty() {
        return Err(Error::InvalidArgument("x is empty".into()));
    }
    if let Some(i) = x.iter().position(|v| v.is_nan()) {
        return Err(Error::InvalidArgument(format!("x contains NaN (x[{i}])")));
    }
    if let Some((i, q)) = qs.iter().enumerate().find(|(_, q)| !(0.0..=1.0).contains(*q)) {
        return Err(Error::InvalidArgument(format!("qs[{i}] = {q} is outside [0, 1]")));
    }

    let positions: Vec<Position> = qs.iter().map(|&q| Position::new(x.len(), q)).collect();
    let mut ranks: Vec<usize> = positions.iter().flat_map(Position::ranks).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut sorted = x.to_vec();
    place_order_statistics(&mut sorted, &ranks);

    for (o, p) in out.iter_mut().zip(&positions) {
        *o = if p.weight == 0.0 { sorted[p.below] } else { lerp(sorted[p.below], sorted[p.below + 1], p.weight) };
    }
    Ok(())
}

/// Where a quantile falls among the order statistics: `weight` of the way
/// from rank `below` to rank `below + 1`.
struct Position {
    below: usize,
    weight: f64,
}

impl Position {
    fn new(n: usize, q: f64) -> Self {
        let h = (n - 1) as f64 * q;
        let below = (h.floor() as usize).min(n - 1);
        Position { below, weight: h - below as f64 }
    }

    /// The ranks whose values the quantile needs.
    fn ranks(&self) -> impl Iterator<Item = usize> {
        let above = (self.weight > 0.0).then_some(self.below + 1);
        std::iter::once(self.below).chain(above)
    }
}

/// Moves the elements of the ascending, distinct `ranks` to where a full
/// sort would put them.
///
/// A handful of ranks is cheaper to select one after another, each within
/// what the previous selection left above it; beyond about log2(n) ranks a
/// full sort wins.
fn place_order_statistics(values: &mut [f64], ranks: &[usize]) {
    if ranks.len() > values.len().ilog2() as usize {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    let mut settled = 0;
    for &rank in ranks {
        values[settled..].select_nth_unstable_by(rank - settled, f64::total_cmp);
        settled = rank + 1;
    }
}

/// NumPy's `_lerp`: from whichever end is nearer, so the result is exact at
/// both ends and monotone in `t`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t < 0.5 {
        a + diff * t
    } else {
        b - diff * (1.0 - t)
    }
}

/// Sums `leaf` over the blocks of `range`, combining the block sums
/// pairwise.
fn pairwise(range: Range<usize>, leaf: &impl Fn(Range<usize>) -> f64) -> f64 {
    if range.len() <= BLOCK {
        return leaf(range);
    }
    // Split on a block boundary, so only the last leaf is a partial block.
    let mid = range.start + (range.len() / 2).next_multiple_of(BLOCK);
    pairwise(range.start..mid, leaf) + pairwise(mid..range.end, leaf)
}

/// `Σ term(v)` over `x` in [`LANES`] independent accumulators.
fn lane_sum(x: &[f64], term: impl Fn(f64) -> f64) -> f64 {
    let (chunks, tail) = x.as_chunks::<LANES>();
    let mut acc = [0.0; LANES];
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += term(v);
        }
    }
    tail.iter().fold(acc.iter().sum::<f64>(), |s, &v| s + term(v))
}

/// `Σ x[i]·y[i]` in [`LANES`] independent accumulators.
fn lane_dot(x: &[f64], y: &[f64]) -> f64 {
    let (x_chunks, x_tail) = x.as_chunks::<LANES>();
    let (y_chunks, y_tail) = y.as_chunks::<LANES>();
    let mut acc = [0.0; LANES];
    for (xc, yc) in x_chunks.iter().zip(y_chunks) {
        for ((a, &u), &v) in acc.iter_mut().zip(xc).zip(yc) {
            *a += u * v;
        }
    }
    x_tail.iter().zip(y_tail).fold(acc.iter().sum::<f64>(), |s, (&u, &v)| s + u * v)
}
