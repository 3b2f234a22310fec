package dev.open.ports;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.open.ports.internal.protocol.FrameCodec;
import dev.open.ports.internal.protocol.ProtocolException;
import dev.open.ports.internal.protocol.Values;

/**
 * One call on its way through a pool: its function and encoded arguments, the future the caller
 * holds, and, while a worker holds it, that worker and the id it has there. A call that a worker
 * held but never started (the worker died, or was retired, with the call queued behind another)
 * goes back to the pool and is sent again, under a new id, to another worker.
 *
 * <p>The arguments are encoded once, when the call is made, so that a value the protocol cannot
 * carry fails that call at once and never reaches a worker. Chunks of a streamed answer are
 * collected into a list, up to a byte limit, or handed to a {@link CallStream}.
 */
final class Call {
  final String function;
  /** The call frame's header as JSON, without its id, which each worker's send adds. */
  final byte[] header;
  final List<ByteBuffer> buffers;
  /** The frame's size less the id: checked against the frame limit when the call is made. */
  final long frameLength;
  final CompletableFuture<Object> future = new CompletableFuture<>();
  private final CallStream stream;
  private final long maxCollected;
  /** The shared-memory segments of its arguments and answer, or null without shared memory. */
  final SharedSegments.Staging segments;
  /** Told which worker runs the call when it is sent to one (a DAG's listeners); or null. */
  volatile Consumer<String> placement;
  private List<Object> chunks;
  private long collected;
  private volatile WorkerProcess worker;
  private volatile long id;
  /** The call timeout's timer, armed when the call starts running on a worker. */
  private volatile Future<?> timer;

  /**
   * Encodes a call.
   *
   * @param maxFrame the pool's frame limit, which the call frame and, for {@code call()}, the
   *     chunks it collects may not exceed
   * @throws IllegalArgumentException if an argument has no protocol form or breaks a limit
   */
  Call(String function, List<?> args, Map<String, ?> kwargs, CallStream stream, int maxFrame,
      SharedSegments.Staging segments) {
    this.function = function;
    this.stream = stream;
    this.maxCollected = maxFrame;
    this.segments = segments;
    ObjectNode fields = JsonNodeFactory.instance.objectNode();
    List<ByteBuffer> encodedBuffers = new ArrayList<>();
    fields.put("kind", "call");
    fields.put("function", function);
    try {
      ArrayNode encoded = fields.putArray("args");
      for (Object arg : args) {
        // header, args list, the argument
        encoded.add(Values.encode(arg, encodedBuffers, 3, segments));
      }
      if (!kwargs.isEmpty()) {
        fields.set("kwargs", Values.encode(kwargs, encodedBuffers, 2, segments));
      }
      if (segments != null) {
        com.fasterxml.jackson.databind.node.ArrayNode spare = segments.spare();
        if (spare != null) {
          fields.set("spare", spare);
        }
      }
      this.header = FrameCodec.encodeHeader(fields, encodedBuffers);
    } catch (IllegalArgumentException | ProtocolException e) {
      if (segments != null) {
        segments.finished();
      }
      throw new IllegalArgumentException("cannot send the arguments of " + function + ": "
          + e.getMessage(), e);
    }
    this.buffers = List.copyOf(encodedBuffers);
    if (segments != null) { // the staged arguments go when the call ends, however it ends
      future.whenComplete((value, error) -> segments.finished());
    }
    // The id adds ,"id":N with N of up to 19 digits.
    this.frameLength = FrameCodec.frameLength(header.length + 25, buffers);
    if (frameLength > maxFrame) {
      future.cancel(false); // lets go of staged segments
      throw new IllegalArgumentException("cannot send the arguments of " + function + ": the "
          + "call frame of " + frameLength + " bytes exceeds the pool's frame limit of "
          + maxFrame);
    }
  }

  void attach(WorkerProcess worker, long id) {
    this.id = id;
    this.worker = worker;
  }

  /** Forgets the worker that held the call, which goes back to the pool's queue. */
  void detach() {
    this.worker = null;
    this.id = 0;
    settled(); // its timer was for that worker; the next one arms its own
  }

  WorkerProcess worker() {
    return worker;
  }

  long id() {
    return id;
  }

  void armTimer(Future<?> timer) {
    this.timer = timer;
    if (isDone()) {
      timer.cancel(false);
    }
  }

  boolean isDone() {
    return future.isDone();
  }

  boolean isStream() {
    return stream != null;
  }

  /**
   * Completes the call with a value. The future decides, once, how a call ends: only the
   * outcome that completes it reaches the stream too, so that the two never disagree.
   */
  void complete(Object value) {
    if (future.complete(value)) {
      settled();
      if (stream != null) {
        stream.offer(value, 0);
        stream.end();
      }
    }
  }

  /** Lets go of the timer, so that a finished call is not kept until its timeout is due. */
  void settled() {
    Future<?> armed = timer;
    if (armed != null) {
      armed.cancel(false);
    }
  }

  /**
   * Takes one chunk; called on the worker's reader thread only, which a {@link CallStream} whose
   * consumer lags blocks here.
   *
   * @param frameBytes the size of the chunk's frame, what it costs to hold
   * @return false if the chunks collected for {@code call()} would exceed the frame limit: the
   *     call has failed then, and the worker should stop it
   */
  boolean chunk(Object value, long frameBytes) {
    if (stream != null) {
      stream.offer(value, frameBytes);
      return true;
    }
    collected += frameBytes;
    if (collected > maxCollected) {
      chunks = null;
      fail(new WorkerException(worker == null ? "?" : worker.language(), worker == null ? 0
          : worker.pid(), function + " yielded more than the " + maxCollected + " bytes of "
          + "chunks that call() collects (the pool's frame limit); use stream() to take them "
          + "one by one", null));
      return false;
    }
    if (chunks == null) {
      chunks = new ArrayList<>();
    }
    chunks.add(value);
    return true;
  }

  void end() {
    if (future.complete(chunks == null ? List.of() : Collections.unmodifiableList(chunks))) {
      settled();
      if (stream != null) {
        stream.end();
      }
    }
  }

  void fail(Throwable error) {
    if (future.completeExceptionally(error)) {
      settled();
      if (stream != null) {
        stream.fail(error);
      }
    }
  }

  void cancelledByWorker() {
    fail(new CancellationException(function + " was cancelled"));
  }

  @Override
  public String toString() {
    return "call of " + function + (id != 0 ? " (id " + id + ")" : "");
  }
}
