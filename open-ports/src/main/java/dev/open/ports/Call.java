package dev.open.ports;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.open.ports.protocol.Values;

/**
 * One call on its way through a pool: its function and arguments, the future the caller holds,
 * and, once sent, the worker and id that answer it. Chunks of a streamed answer are collected
 * into a list, or handed to a {@link CallStream}.
 */
final class Call {
  final String function;
  /** The call frame's header (its id is set when sent) and buffers, encoded once. */
  final ObjectNode header;
  final List<ByteBuffer> buffers;
  final CompletableFuture<Object> future = new CompletableFuture<>();
  private final CallStream stream;
  private List<Object> chunks;
  private volatile WorkerProcess worker;
  private volatile long id;

  /**
   * Encodes a call.
   *
   * @throws IllegalArgumentException if an argument has no protocol form
   */
  Call(String function, List<?> args, Map<String, ?> kwargs, CallStream stream) {
    this.function = function;
    this.stream = stream;
    this.header = JsonNodeFactory.instance.objectNode();
    this.buffers = new ArrayList<>();
    header.put("kind", "call");
    header.put("function", function);
    try {
      ArrayNode encoded = header.putArray("args");
      for (Object arg : args) {
        encoded.add(Values.encode(arg, buffers));
      }
      if (!kwargs.isEmpty()) {
        header.set("kwargs", Values.encode(kwargs, buffers));
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot send the arguments of " + function + ": "
          + e.getMessage(), e);
    }
  }

  void attach(WorkerProcess worker, long id) {
    this.id = id;
    this.worker = worker;
  }

  WorkerProcess worker() {
    return worker;
  }

  long id() {
    return id;
  }

  boolean isDone() {
    return future.isDone();
  }

  void complete(Object value) {
    if (stream != null) {
      stream.offer(value);
      stream.end();
    }
    future.complete(value);
  }

  /** Called on the worker's reader thread only. */
  void chunk(Object value) {
    if (stream != null) {
      stream.offer(value);
    } else {
      if (chunks == null) {
        chunks = new ArrayList<>();
      }
      chunks.add(value);
    }
  }

  void end() {
    if (stream != null) {
      stream.end();
    }
    future.complete(chunks == null ? List.of() : Collections.unmodifiableList(chunks));
  }

  void fail(Throwable error) {
    if (stream != null) {
      stream.fail(error);
    }
    future.completeExceptionally(error);
  }

  void cancelledByWorker() {
    fail(new CancellationException(function + " was cancelled"));
  }
}
