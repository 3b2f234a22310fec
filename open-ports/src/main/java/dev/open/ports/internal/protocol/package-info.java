/**
 * The worker protocol's codec (docs/protocol.md): frames ({@link
 * dev.open.ports.internal.protocol.FrameCodec}, {@link dev.open.ports.internal.protocol.Frame})
 * and values ({@link dev.open.ports.internal.protocol.Values}), within the protocol's limits, with
 * the error codes of the shared conformance vectors ({@link
 * dev.open.ports.internal.protocol.ProtocolException}).
 *
 * <p>Internal: the module {@code dev.open.ports} does not export this package; it is the
 * implementation of {@link dev.open.ports.WorkerPool}, and its types (Jackson's among them) may
 * change in any release.
 */
package dev.open.ports.internal.protocol;
