package dev.open.ports.internal.protocol;

import java.nio.ByteBuffer;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One protocol message: a JSON header and the binary buffers it describes.
 *
 * <p>A frame whose header broke one of the protocol's value limits (docs/protocol.md section 2)
 * is still a frame: its {@link #badValue()} says what was wrong, and its header holds only the
 * {@code kind} and {@code id} that a scan of the header's top level found, so that the receiver
 * can fail that one message. Its buffers are then empty.
 *
 * @param header the header object; always has a string {@code kind}
 * @param buffers the buffers, in order; as read, views of the frame body (no copies)
 * @param badValue what broke a value limit, or null for a frame whose header parsed whole
 */
public record Frame(ObjectNode header, List<ByteBuffer> buffers, String badValue) {

  /**
   * A well-formed frame.
   *
   * @param header the header object, with a string {@code kind}
   * @param buffers the buffers, in order
   */
  public Frame(ObjectNode header, List<ByteBuffer> buffers) {
    this(header, buffers, null);
  }

  /** Returns the header's {@code kind}. */
  public String kind() {
    return header.get("kind").asText();
  }

  /** Returns the header's {@code id}, or 0 when it has none. */
  public long id() {
    return header.path("id").asLong(0);
  }
}
