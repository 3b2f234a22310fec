/**
 * Rust kernels for the JVM: {@link dev.open.rust.RustKernels#load()} gives matrix multiply,
 * statistics, zstd, BLAKE3/SHA-256 and Unicode word counts over arrays, {@code NDArray}s and
 * direct buffers, through FFM on Java 22+ or JNR-FFI on 21; {@link dev.open.rust.NativeBackend}
 * runs them as DAG nodes. Errors are {@link dev.open.rust.NativeException} (with the kernel's
 * status) and {@link dev.open.rust.NativeLoadException}. Guide: docs/native.md.
 */
package dev.open.rust;
