package dev.open.rust;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.open.dag.array.NDArray;
import dev.open.rust.ScratchBuffers.Scratch;

/**
 * How the arguments of a kernel reach native code: in place, or copied off-heap around the call.
 * The one place that decides it, for every kernel of {@link RustKernels}:
 * <ul>
 *   <li>heap arrays go in place (pinned) while the heap arrays of one call total at most the
 *       pin limit, since the garbage collector may wait while a call holds them; larger ones
 *       are copied to reused scratch buffers ({@link #inPlace}, {@link #copyOf}, {@link
 *       #scratch});
 *   <li>direct buffers and off-heap {@link NDArray}s go in place whatever their size; heap ones
 *       are copied to a new direct buffer ({@link #directView}), and an output is copied back
 *       ({@link #copyBackIfHeap}).
 * </ul>
 * Thread-safe.
 */
final class NativeArguments {
  private final long pinLimit;
  private final ScratchBuffers scratch = new ScratchBuffers();

  NativeArguments(long pinLimit) {
    this.pinLimit = pinLimit;
  }

  /**
   * Whether a call's heap arrays, {@code heapBytes} in all, are passed in place; if not, the
   * kernel copies them with {@link #copyOf} and takes its output space with {@link #scratch}.
   */
  boolean inPlace(long heapBytes) {
    return heapBytes <= pinLimit;
  }

  /** A scratch buffer of exactly {@code bytes}, for a kernel's output; close it after the call. */
  Scratch scratch(long bytes) {
    return scratch.take(bytes);
  }

  /** The values copied to a scratch buffer; close it after the call. */
  Scratch copyOf(double[] values) {
    Scratch s = scratch.take(8L * values.length);
    s.buffer().asDoubleBuffer().put(values);
    return s;
  }

  /** The values copied to a scratch buffer; close it after the call. */
  Scratch copyOf(float[] values) {
    Scratch s = scratch.take(4L * values.length);
    s.buffer().asFloatBuffer().put(values);
    return s;
  }

  /** The values copied to a scratch buffer; close it after the call. */
  Scratch copyOf(byte[] values) {
    Scratch s = scratch.take(values.length);
    s.buffer().put(0, values);
    return s;
  }

  /** The array's bytes as a direct buffer: itself when off-heap, else a copy. */
  static ByteBuffer directView(NDArray x) {
    return directView(x.buffer());
  }

  /** The remaining bytes as a direct buffer at position 0: a slice, or a copy of a heap one. */
  static ByteBuffer directView(ByteBuffer buffer) {
    if (buffer.isDirect()) {
      return buffer.slice().order(ByteOrder.LITTLE_ENDIAN);
    }
    ByteBuffer copy = allocate(buffer.remaining());
    copy.put(0, buffer, buffer.position(), buffer.remaining());
    return copy.limit(buffer.remaining());
  }

  /** Copies what a kernel wrote into {@link #directView}'s copy back to an on-heap target. */
  static void copyBackIfHeap(NDArray target, ByteBuffer written) {
    if (!target.isDirect()) {
      target.buffer().put(0, written, 0, target.byteSize());
    }
  }

  /** A new little-endian direct buffer of {@code bytes} (at least 1). */
  static ByteBuffer allocate(long bytes) {
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a buffer of " + bytes + " bytes is too large");
    }
    return ByteBuffer.allocateDirect((int) Math.max(bytes, 1)).order(ByteOrder.LITTLE_ENDIAN);
  }
}
