package dev.open.rust;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reusable direct buffers for the heap arrays too large to pin, which are copied off-heap around a
 * native call. Allocating a fresh direct buffer per call would make the JDK's direct-memory
 * accounting call {@code System.gc()} and sleep once enough of them wait for collection; reusing
 * a few keeps large calls at the cost of the copy alone.
 *
 * <p>Buffers come in power-of-two sizes from 1 MiB; at most {@value #MAX_POOLED_BYTES} bytes are
 * kept for reuse, the rest is left to the garbage collector. Thread-safe.
 */
final class ScratchBuffers {
  static final long MAX_POOLED_BYTES = 64L << 20;
  private static final int MIN_CLASS = 20;

  private final ConcurrentLinkedDeque<ByteBuffer>[] free;
  private final AtomicLong pooled = new AtomicLong();

  @SuppressWarnings("unchecked")
  ScratchBuffers() {
    free = new ConcurrentLinkedDeque[32];
    for (int i = 0; i < free.length; i++) {
      free[i] = new ConcurrentLinkedDeque<>();
    }
  }

  /** A scratch buffer of at least {@code bytes}, limited to exactly {@code bytes}. */
  final class Scratch implements AutoCloseable {
    private final ByteBuffer buffer;

    private Scratch(ByteBuffer buffer) {
      this.buffer = buffer;
    }

    ByteBuffer buffer() {
      return buffer;
    }

    @Override
    public void close() {
      give(buffer);
    }
  }

  Scratch take(long bytes) {
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("a buffer of " + bytes + " bytes is too large");
    }
    int sizeClass = Math.max(MIN_CLASS, 64 - Long.numberOfLeadingZeros(Math.max(bytes, 1) - 1));
    ByteBuffer buffer = sizeClass < 31 ? free[sizeClass].pollFirst() : null;
    if (buffer != null) {
      pooled.addAndGet(-buffer.capacity());
    } else {
      int capacity = sizeClass < 31 ? 1 << sizeClass : (int) bytes;
      buffer = ByteBuffer.allocateDirect(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }
    buffer.clear().limit((int) bytes);
    return new Scratch(buffer);
  }

  private void give(ByteBuffer buffer) {
    int capacity = buffer.capacity();
    if (Integer.bitCount(capacity) != 1 || capacity < 1 << MIN_CLASS) {
      return;
    }
    if (pooled.addAndGet(capacity) <= MAX_POOLED_BYTES) {
      free[Integer.numberOfTrailingZeros(capacity)].offerFirst(buffer);
    } else {
      pooled.addAndGet(-capacity);
    }
  }
}
