/**
 * {@link dev.open.dag.array.NDArray}, the n-dimensional array every backend shares (Java, the
 * Rust kernels, Python and Julia workers), with its element types {@link
 * dev.open.dag.array.DType}: one buffer, a shape and an order (C or F), passed without copies
 * where the receiver allows it.
 */
package dev.open.dag.array;
