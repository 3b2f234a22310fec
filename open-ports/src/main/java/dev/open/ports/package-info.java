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
 *
 * <h2 id="values">Values</h2>
 *
 * Arguments and results cross the worker protocol (docs/protocol.md section 4) as these types:
 *
 * <table>
 *   <caption>Java ↔ protocol</caption>
 *   <tr><th>Java, sent</th><th>protocol</th><th>Java, received</th></tr>
 *   <tr><td>null, Boolean, String (and Character, enum names)</td><td>JSON</td>
 *       <td>null, Boolean, String</td></tr>
 *   <tr><td>Integer, Long, Short, Byte, BigInteger</td><td>JSON integer</td>
 *       <td>Long, or BigInteger beyond 64 bits</td></tr>
 *   <tr><td>Double, Float, BigDecimal</td><td>JSON number, or {@code $float} for NaN and
 *       infinities</td><td>Double</td></tr>
 *   <tr><td>List, Set, other Collection, Object[]</td><td>JSON array</td><td>List</td></tr>
 *   <tr><td>Map with String keys</td><td>JSON object</td><td>Map (insertion-ordered)</td></tr>
 *   <tr><td>byte[], ByteBuffer</td><td>{@code $bytes}</td><td>byte[]</td></tr>
 *   <tr><td>NDArray; double[], float[], long[], int[], short[], boolean[] (1-D)</td>
 *       <td>{@code $nd}</td><td>NDArray viewing the frame (no copy; big-endian data is
 *       converted)</td></tr>
 * </table>
 *
 * <p>Anything else is refused by {@code call} with an {@link IllegalArgumentException} naming its
 * type, and so is a value beyond the protocol's limits: nesting deeper than 512 levels (a cyclic
 * collection included), an integer of more than 4,300 digits, a {@code BigDecimal} that is not a
 * finite binary64. A typed reference ({@code function(name, type)}) converts a result further:
 * numbers to any boxed numeric type when the value fits, an {@code NDArray} to a primitive array
 * of its element type (a copy), a list of numbers to {@code double[]}, {@code long[]} or {@code
 * int[]}; anything else fails the call with a {@link ClassCastException} naming both types.
 *
 * <p>The codec itself ({@code dev.open.ports.internal.protocol}) is not exported.
 */
package dev.open.ports;
