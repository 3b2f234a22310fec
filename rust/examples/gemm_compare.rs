//! Single-threaded GEMM throughput of the candidate crates, so the choice of
//! the kernel behind `on_matmul_*` can be re-checked on any machine:
//!
//! ```text
//! cargo run --release --example gemm_compare --features compare
//! ```
//!
//! Every candidate computes the same row-major `C = A·B` on square `n×n`
//! operands. The figure printed is the best of several timed rounds, in
//! GFLOP/s (`2·n³` flops per product). The `open_native` row goes through
//! the exported C function, so it includes the FFI layer's checks.

use std::hint::black_box;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use faer::{Accum, MatMut, MatRef, Par};

const SIZES: [usize; 4] = [64, 256, 512, 1024];
/// Minimum duration of one timed round: long enough to hide timer noise.
const ROUND: Duration = Duration::from_millis(200);
const ROUNDS: usize = 5;

/// `c = a·b` with `a: m×k`, `b: k×n`, all row-major.
type Product<T> = fn(&[T], &[T], &mut [T], usize, usize, usize);

type MatrixMultiplyFn<T> =
    unsafe fn(usize, usize, usize, T, *const T, isize, isize, *const T, isize, isize, T, *mut T, isize, isize);
type ExportFn<T> = unsafe extern "C" fn(*const T, *const T, *mut T, usize, usize, usize, *mut u8, usize) -> i32;

/// What differs between `f32` and `f64` across the candidates.
trait Element: faer::traits::ComplexField + Copy + From<f32> + 'static {
    const NAME: &'static str;
    const ONE: Self;
    const MATRIXMULTIPLY: MatrixMultiplyFn<Self>;
    const OPEN_NATIVE: ExportFn<Self>;
}

impl Element for f64 {
    const NAME: &'static str = "f64";
    const ONE: Self = 1.0;
    const MATRIXMULTIPLY: MatrixMultiplyFn<Self> = matrixmultiply::dgemm;
    const OPEN_NATIVE: ExportFn<Self> = open_native::on_matmul_f64;
}

impl Element for f32 {
    const NAME: &'static str = "f32";
    const ONE: Self = 1.0;
    const MATRIXMULTIPLY: MatrixMultiplyFn<Self> = matrixmultiply::sgemm;
    const OPEN_NATIVE: ExportFn<Self> = open_native::on_matmul_f32;
}

fn via_gemm<T: Element>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    let (k_stride, n_stride) = (k as isize, n as isize);
    // SAFETY: the slices hold m×k, k×n and m×n elements with these strides.
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
            T::from(0.0), // alpha scales the old C, which read_dst = false ignores
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

fn via_matrixmultiply<T: Element>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    let (k_stride, n_stride) = (k as isize, n as isize);
    let zero = T::from(0.0);
    // SAFETY: as for `via_gemm`.
    unsafe {
        T::MATRIXMULTIPLY(
            m,
            k,
            n,
            T::ONE,
            a.as_ptr(),
            k_stride,
            1,
            b.as_ptr(),
            n_stride,
            1,
            zero,
            c.as_mut_ptr(),
            n_stride,
            1,
        )
    }
}

fn via_faer<T: Element>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    faer::linalg::matmul::matmul(
        MatMut::from_row_major_slice_mut(c, m, n),
        Accum::Replace,
        MatRef::from_row_major_slice(a, m, k),
        MatRef::from_row_major_slice(b, k, n),
        T::ONE,
        Par::Seq,
    );
}

fn via_open_native<T: Element>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    // SAFETY: valid slices of the right lengths; no error buffer.
    let status = unsafe { T::OPEN_NATIVE(a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), m, k, n, null_mut(), 0) };
    assert_eq!(status, open_native::OK);
}

/// Best GFLOP/s over [`ROUNDS`] rounds of repeated `n×n` products.
fn measure<T: Element>(product: Product<T>, n: usize) -> f64 {
    let a: Vec<T> = (0..n * n).map(|i| T::from((i % 17) as f32 * 0.25 - 2.0)).collect();
    let b: Vec<T> = (0..n * n).map(|i| T::from((i % 13) as f32 * 0.5 - 3.0)).collect();
    let mut c = vec![T::from(0.0); n * n];
    product(&a, &b, &mut c, n, n, n); // warm-up: page faults, packing buffers, dispatch
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut calls = 0;
        while start.elapsed() < ROUND {
            product(black_box(&a), black_box(&b), black_box(&mut c), n, n, n);
            calls += 1;
        }
        best = best.min(start.elapsed() / calls);
    }
    2.0 * (n as f64).powi(3) / best.as_secs_f64() / 1e9
}

fn table<T: Element>() {
    let candidates: [(&str, Product<T>); 4] = [
        ("gemm", via_gemm),
        ("matrixmultiply", via_matrixmultiply),
        ("faer", via_faer),
        ("open_native", via_open_native),
    ];
    println!("\n{}, single-threaded, GFLOP/s (best of {ROUNDS} rounds)", T::NAME);
    print!("{:<16}", "n");
    SIZES.iter().for_each(|n| print!("{n:>9}"));
    println!();
    for (name, product) in candidates {
        print!("{name:<16}");
        SIZES.iter().for_each(|&n| print!("{:>9.1}", measure(product, n)));
        println!();
    }
}

fn main() {
    table::<f64>();
    table::<f32>();
}
