//! Dense row-major matrix product, delegated to the `gemm` crate.
//!
//! `gemm` was chosen by measurement (`examples/gemm_compare.rs`): on an
//! AVX-512 machine it matched faer and beat matrixmultiply and single-thread
//! OpenBLAS, with a far smaller dependency tree than faer. Its kernels are
//! picked at run time (AVX-512, else FMA, else scalar), so the library needs
//! no `target-cpu` flag.

use crate::error::Error;

/// The element types `gemm` has kernels for that we export.
pub trait Element: Copy + 'static {
    const ZERO: Self;
    const ONE: Self;
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// Element counts of A (m×k), B (k×n) and C (m×n), or the product that
/// overflows `usize`.
pub fn operand_lens(m: usize, k: usize, n: usize) -> Result<[usize; 3], Error> {
    let product = |x: usize, y: usize, what: &str| {
        x.checked_mul(y).ok_or_else(|| Error::InvalidArgument(format!("{what} = {x}*{y} overflows")))
    };
    Ok([product(m, k, "m*k")?, product(k, n, "k*n")?, product(m, n, "m*n")?])
}

/// Overwrites `c` with `a·b`, all row-major, single-threaded: callers
/// parallelise across calls.
///
/// With `k == 0` the product is the zero matrix.
pub fn matmul<T: Element>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    assert_eq!(operand_lens(m, k, n).ok(), Some([a.len(), b.len(), c.len()]), "operand lengths");
    // Slices of at most isize::MAX bytes make every stride fit in isize.
    let (k_stride, n_stride) = (k as isize, n as isize);
    // SAFETY: the lengths were just checked, so every element that the
    // strides below address lies inside its slice; `c` is exclusively ours.
    // gemm computes dst = alpha·dst + beta·lhs·rhs and, with
    // read_dst == false, never reads dst.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n_stride,
            false,
            a.as_ptr(),
            1,
            k_stride,
            b.as_ptr(),
            1,
            n_stride,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
