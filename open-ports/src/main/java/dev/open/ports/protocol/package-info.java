/**
 * The worker protocol's codec (docs/protocol.md): frames ({@link
 * dev.open.ports.protocol.FrameCodec}, {@link dev.open.ports.protocol.Frame}) and values
 * ({@link dev.open.ports.protocol.Values}), within the protocol's limits, with the error codes of
 * the shared conformance vectors ({@link dev.open.ports.protocol.ProtocolException}). Used by
 * {@link dev.open.ports.WorkerPool}; public for tests and tools that speak the protocol, not an
 * API a pool's user needs.
 */
package dev.open.ports.protocol;
