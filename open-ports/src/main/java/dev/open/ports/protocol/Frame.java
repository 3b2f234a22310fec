package dev.open.ports.protocol;

import java.nio.ByteBuffer;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One protocol message: a JSON header and the binary buffers it describes.
 *
 * @param header the header object; always has a string {@code kind}
 * @param buffers the buffers, in order; as read, views of the frame body (no copies)
 */
public record Frame(ObjectNode header, List<ByteBuffer> buffers) {

  /** Returns the header's {@code kind}. */
  public String kind() {
    return header.get("kind").asText();
  }

  /** Returns the header's {@code id}, or 0 when it has none. */
  public long id() {
    return header.path("id").asLong(0);
  }
}
