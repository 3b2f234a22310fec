/**
 * Supervised pools of Python and Julia worker processes, as DAG backends.
 *
 * <p>Entry points: {@link dev.open.ports.WorkerPool#python()} and {@link
 * dev.open.ports.WorkerPool#julia()} return a builder; a built pool calls functions ({@code
 * call}, {@code stream}, or {@code function(...)} for DAG nodes). A fault costs exactly the call
 * that was running: {@link dev.open.ports.WorkerCrashedException} and its subclasses {@link
 * dev.open.ports.WorkerTimeoutException} and {@link dev.open.ports.WorkerProtocolException} fail
 * only that call, while the calls a dead worker held run elsewhere; {@link
 * dev.open.ports.RemoteException} carries the function's own error. Guide: docs/ports.md.
 */
package dev.open.ports;
