/**
 * The backend SPI: how a node's work runs somewhere other than the node's own virtual thread.
 * A {@link dev.open.dag.spi.Backend} (the Rust kernels of open-native, the worker pools of
 * open-ports) receives an {@link dev.open.dag.spi.Invocation} and returns a future; {@link
 * dev.open.dag.FunctionRef} names a backend function for {@link dev.open.dag.DagBuilder#call}.
 */
package dev.open.dag.spi;
