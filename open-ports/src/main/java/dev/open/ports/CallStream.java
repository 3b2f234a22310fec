package dev.open.ports;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CancellationException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The results of a streaming call ({@link WorkerPool#stream}), one per chunk the function
 * yielded, in order, as they arrive. A function that returns instead of yielding gives one
 * element. Iteration blocks until the next chunk arrives; a failure of the call (a remote
 * exception, a crash, a timeout) is thrown from {@link #hasNext()} after the chunks that came
 * before it. {@link #close()} cancels the call if it has not finished. Single consumer.
 */
public final class CallStream implements Iterator<Object>, AutoCloseable {
  private static final Object END = new Object();

  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private Call call;
  private Object next;
  private boolean finished;

  CallStream() {}

  void attach(Call call) {
    this.call = call;
  }

  void offer(Object value) {
    queue.add(value == null ? NullChunk.INSTANCE : value);
  }

  void end() {
    queue.add(END);
  }

  void fail(Throwable error) {
    queue.add(new Failure(error));
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
      item = queue.take();
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

  /** Returns the remaining chunks as a sequential stream; closing it closes this. */
  public Stream<Object> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED),
        false).onClose(this::close);
  }

  /** Cancels the call if it is still running. */
  @Override
  public void close() {
    if (call != null && !call.isDone()) {
      call.future.cancel(true);
    }
  }

  private record Failure(Throwable error) {}

  private enum NullChunk { INSTANCE }
}
