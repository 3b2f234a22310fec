/**
 * The JNR-FFI signature of the native library (internal).
 *
 * <p>The module {@code dev.open.rust} exports this package, and only for one reason: JNR-FFI
 * generates the implementation of {@link dev.open.rust.internal.jnr.NativeFunctions} at run time
 * in a class loader of its own, whose unnamed module a qualified export cannot name. It holds the
 * raw C signatures and nothing else; it is not an API and may change in any release. Use {@link
 * dev.open.rust.RustKernels}.
 */
package dev.open.rust.internal.jnr;
