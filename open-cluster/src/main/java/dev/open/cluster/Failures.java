package dev.open.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

/**
 * Exceptions as they cross the cluster: Java-serialized, so that a retry policy on the
 * coordinating member sees the task's own exception type; replaced by a {@link
 * RemoteTaskException} when that fails on either side.
 *
 * <p>Reading accepts only throwables and what they are made of (stack trace elements, arrays,
 * {@code java.*} classes), at most 64 levels deep: a member cannot make another instantiate
 * arbitrary classes through this path. (Members are trusted anyway: docs/cluster.md.)
 */
final class Failures {
  private static final ObjectInputFilter FILTER = info -> {
    if (info.depth() > 64 || info.references() > 100_000) {
      return ObjectInputFilter.Status.REJECTED;
    }
    Class<?> c = info.serialClass();
    if (c == null) {
      return ObjectInputFilter.Status.UNDECIDED;
    }
    while (c.isArray()) {
      c = c.getComponentType();
    }
    return c.isPrimitive() || Throwable.class.isAssignableFrom(c)
        || c.getName().startsWith("java.")
        ? ObjectInputFilter.Status.ALLOWED
        : ObjectInputFilter.Status.REJECTED;
  };

  private Failures() {}

  /**
   * Serializes {@code t}, or its {@link RemoteTaskException} stand-in when it cannot be written,
   * or could not be read back through the filter (a field of an application type, say): what
   * arrives always keeps the original class name and message.
   */
  static byte[] encode(Throwable t) {
    try {
      byte[] bytes = serialize(t);
      readBack(bytes);
      return bytes;
    } catch (IOException | ClassNotFoundException | RuntimeException e) {
      try {
        return serialize(RemoteTaskException.of(t));
      } catch (IOException unexpected) {
        throw new IllegalStateException("cannot serialize a RemoteTaskException", unexpected);
      }
    }
  }

  static Throwable decode(byte[] bytes) {
    try {
      return readBack(bytes);
    } catch (IOException | ClassNotFoundException | ClassCastException e) {
      return new RemoteTaskException(e.getClass().getName(),
          "an exception from another member could not be read here: " + e.getMessage(), null);
    }
  }

  private static Throwable readBack(byte[] bytes) throws IOException, ClassNotFoundException {
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
      in.setObjectInputFilter(FILTER);
      return (Throwable) in.readObject();
    }
  }

  private static byte[] serialize(Throwable t) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(t);
    }
    return bytes.toByteArray();
  }
}
