package dev.open.ports;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The results of a streaming call ({@link WorkerPool#stream}), one per chunk the function
 * yielded, in order, as they arrive. A function that returns instead of yielding gives one
 * element. Iteration blocks until the next chunk arrives; a failure of the call (a remote
 * exception, a crash, a timeout) is thrown from {@link #hasNext()} after the chunks that came
 * before it. {@link #close()} cancels the call if it has not finished. Single consumer.
 *
 * <p><b>Backpressure.</b> At most {@value #MAX_CHUNKS} chunks, or {@value #MAX_BYTES} bytes of
 * their frames (but always one chunk, however large), wait for the consumer. When a consumer lags
 * that far behind, the pool stops reading from the worker until it catches up, and the worker's
 * next write blocks: a generator never runs ahead of its consumer by more than that. A consumer
 * that stops without closing the stream holds its worker (up to the pool's call timeout, if it
 * has one): close it, with try-with-resources, to let the worker go.
 */
public final class CallStream implements Iterator<Object>, AutoCloseable {
  /** The most chunks that wait for the consumer. */
  public static final int MAX_CHUNKS = 1024;
  /** The most bytes of chunk frames that wait for the consumer (16 MiB). */
  public static final long MAX_BYTES = 16L << 20;

  private static final Object END = new Object();

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private final ArrayDeque<Long> sizes = new ArrayDeque<>();
  private long queuedBytes;
  private boolean closed;
  private Call call;
  private Object next;
  private boolean finished;

  CallStream() {}

  void attach(Call call) {
    this.call = call;
  }

  /**
   * Queues a chunk, waiting while the consumer lags (on the worker's reader thread, which thus
   * stops reading). Returns at once, dropping the chunk, once the stream is closed.
   */
  void offer(Object value, long frameBytes) {
    lock.lock();
    try {
      boolean interrupted = false;
      while (!closed && !queue.isEmpty()
          && (queue.size() >= MAX_CHUNKS || queuedBytes + frameBytes > MAX_BYTES)) {
        try {
          changed.await();
        } catch (InterruptedException e) {
          interrupted = true; // the reader is stopped by closing the worker's pipe, not this
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      if (closed) {
        return;
      }
      queue.addLast(value == null ? NullChunk.INSTANCE : value);
      sizes.addLast(frameBytes);
      queuedBytes += frameBytes;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  void end() {
    put(END);
  }

  void fail(Throwable error) {
    put(new Failure(error));
  }

  /** Queues the last item, never waiting: it costs no more than a chunk already counted. */
  private void put(Object last) {
    lock.lock();
    try {
      queue.addLast(last);
      sizes.addLast(0L);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private Object take() throws InterruptedException {
    lock.lock();
    try {
      while (queue.isEmpty()) {
        changed.await();
      }
      queuedBytes -= sizes.removeFirst();
      Object item = queue.removeFirst();
      changed.signalAll();
      return item;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean hasNext() {
    if (next != null) {
      return true;
    }
    if (finished) {
      return false;
    }
    Object item;
    try {
      item = take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new CancellationException("interrupted while waiting for " + call.function);
    }
    if (item == END) {
      finished = true;
      return false;
    }
    if (item instanceof Failure failure) {
      finished = true;
      throw failure.error instanceof RuntimeException r ? r
          : new IllegalStateException(failure.error);
    }
    next = item;
    return true;
  }

  @Override
  public Object next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Object value = next;
    next = null;
    return value == NullChunk.INSTANCE ? null : value;
  }

  /** {@return the remaining chunks as a sequential stream; closing it closes this} */
  public Stream<Object> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED),
        false).onClose(this::close);
  }

  /**
   * Cancels the call if it is still running, and drops the chunks not yet taken; the worker's
   * reader, if it waits for this consumer, reads on. Iteration then ends: {@link #hasNext()}
   * returns false, also for a consumer that was waiting in it on another thread.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      queue.removeIf(item -> item != END && !(item instanceof Failure));
      if (queue.isEmpty()) {
        queue.addLast(END); // the call's own end may never come: it is cancelled
      }
      sizes.clear();
      queue.forEach(item -> sizes.addLast(0L));
      queuedBytes = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (call != null && !call.isDone()) {
      call.future.cancel(true);
    }
  }

  private record Failure(Throwable error) {}

  private enum NullChunk { INSTANCE }
}
