/**
 * Internal: the bindings to the native library (JNR-FFI here, FFM in the jar's Java 22 part) and
 * its loader. Public because {@code dev.open.rust} and the call-overhead benchmark reach them
 * from another package; not an API, and it may change in any release.
 */
package dev.open.rust.internal;
