/**
 * Rust kernels as a DAG backend ({@link dev.open.rust.RustKernels}, {@link
 * dev.open.rust.NativeBackend}), bound with JNR-FFI, or with the Foreign Function and Memory API
 * on Java 22 and later. The bindings are internal and not exported.
 */
module dev.open.rust {
  requires transitive dev.open.dag;
  requires org.jnrproject.ffi;

  exports dev.open.rust;
  // Only for the implementation JNR-FFI generates at run time in an unnamed module of its own,
  // which a qualified export cannot name; it holds the C signatures and nothing else.
  exports dev.open.rust.internal.jnr;
}
