package dev.open.ports.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads and writes frames (docs/protocol.md section 2): {@code u32be length, u32be header length,
 * JSON header, buffers aligned to 8 bytes}. The length is checked against the limit before
 * anything is allocated. Stateless and thread-safe; a stream must not be read or written by two
 * threads at once.
 */
public final class FrameCodec {
  /** The default largest frame: 1 GiB. */
  public static final int DEFAULT_MAX_FRAME = 1 << 30;
  /** Every message kind of protocol version 1. */
  public static final Set<String> KINDS = Set.of("hello", "call", "result", "chunk", "end",
      "error", "cancel", "ping", "pong", "shutdown");

  static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  private static final byte[] PADDING = new byte[8];
  private static final int CHUNK = 64 << 10;

  private FrameCodec() {}

  /**
   * Reads one frame.
   *
   * @param in the stream
   * @param maxFrame the largest acceptable {@code length}
   * @return the frame, or null when the stream ended cleanly between frames
   * @throws ProtocolException if the frame is malformed (nothing over the limit is allocated)
   * @throws IOException if reading fails
   */
  public static Frame read(InputStream in, int maxFrame) throws IOException {
    return read(in, in, maxFrame);
  }

  /**
   * Reads one frame, its length prefix from {@code in} and its body from {@code body}: two views
   * of one stream, so that a caller can wait for a body that has begun arriving differently from
   * the way it waits for the next frame.
   *
   * @param in the stream, for the length prefix
   * @param body the same stream, for the body
   * @param maxFrame the largest acceptable {@code length}
   * @return the frame, or null when the stream ended cleanly between frames
   * @throws ProtocolException if the frame is malformed (nothing over the limit is allocated)
   * @throws IOException if reading fails
   */
  public static Frame read(InputStream in, InputStream body, int maxFrame) throws IOException {
    byte[] prefix = new byte[4];
    int got = in.readNBytes(prefix, 0, 4);
    if (got == 0) {
      return null;
    }
    if (got < 4) {
      throw new ProtocolException(ProtocolException.Code.TRUNCATED,
          "stream ended inside a length prefix (" + got + " of 4 bytes)");
    }
    long length = Integer.toUnsignedLong(ByteBuffer.wrap(prefix).getInt());
    if (length > maxFrame) {
      throw new ProtocolException(ProtocolException.Code.TOO_LARGE,
          "frame of " + length + " bytes exceeds the limit of " + maxFrame);
    }
    if (length < 4) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER_LENGTH,
          "frame body of " + length + " bytes cannot hold a header length");
    }
    byte[] bytes = new byte[(int) length];
    int read = readFully(body, bytes);
    if (read < bytes.length) {
      throw new ProtocolException(ProtocolException.Code.TRUNCATED,
          "stream ended inside a frame (" + read + " of " + length + " bytes)");
    }
    return decode(bytes);
  }

  /**
   * Reads into {@code body} in chunks of at most 64 KiB: the JDK's native read stages each call
   * in a malloc'ed buffer as large as the request, so one 64 MiB request costs a fresh 64 MiB
   * mapping per system call.
   */
  private static int readFully(InputStream in, byte[] body) throws IOException {
    int total = 0;
    while (total < body.length) {
      int n = in.read(body, total, Math.min(CHUNK, body.length - total));
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  /**
   * Decodes a frame body (without its length prefix).
   *
   * @param body the body
   * @return the frame; its buffers are views of {@code body}
   * @throws ProtocolException if the body is malformed
   */
  public static Frame decode(byte[] body) throws ProtocolException {
    ByteBuffer view = ByteBuffer.wrap(body);
    if (body.length < 4) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER_LENGTH,
          "frame body of " + body.length + " bytes cannot hold a header length");
    }
    long headerLength = Integer.toUnsignedLong(view.getInt(0));
    if (headerLength > body.length - 4) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER_LENGTH,
          "header length " + headerLength + " runs past the body of " + body.length + " bytes");
    }
    ObjectNode header = parseHeader(body, (int) headerLength);
    JsonNode kind = header.get("kind");
    if (kind == null || !kind.isTextual()) {
      throw new ProtocolException(ProtocolException.Code.MISSING_KIND,
          "header has no string kind: " + abbreviate(header.toString()));
    }
    if (!KINDS.contains(kind.asText())) {
      throw new ProtocolException(ProtocolException.Code.UNKNOWN_KIND,
          "unknown message kind '" + kind.asText() + "'");
    }
    List<ByteBuffer> buffers = new ArrayList<>();
    long offset = 4 + headerLength;
    for (long size : bufferSizes(header)) {
      offset = align8(offset);
      if (offset + size > body.length) {
        throw new ProtocolException(ProtocolException.Code.BAD_BUFFERS, "buffer " + buffers.size()
            + " of " + size + " bytes at offset " + offset + " runs past the body of "
            + body.length + " bytes");
      }
      buffers.add(ByteBuffer.wrap(body, (int) offset, (int) size).slice()
          .order(ByteOrder.LITTLE_ENDIAN));
      offset += size;
    }
    if (offset != body.length) {
      throw new ProtocolException(ProtocolException.Code.BAD_BUFFERS, "the header and buffers "
          + "take " + offset + " bytes, the body has " + body.length);
    }
    return new Frame(header, List.copyOf(buffers));
  }

  private static ObjectNode parseHeader(byte[] body, int length) throws ProtocolException {
    try {
      // Jackson would replace invalid UTF-8; the protocol says the header is UTF-8.
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body, 4, length));
    } catch (CharacterCodingException e) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER, "header is not UTF-8");
    }
    JsonNode node;
    try {
      node = JSON.readTree(body, 4, length);
    } catch (JsonProcessingException e) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER,
          "header is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER, "header is not JSON: " + e);
    }
    if (node == null || !node.isObject()) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER, "header is not a JSON object");
    }
    return (ObjectNode) node;
  }

  private static long[] bufferSizes(ObjectNode header) throws ProtocolException {
    JsonNode buffers = header.get("buffers");
    if (buffers == null || buffers.isNull()) {
      return new long[0];
    }
    if (!buffers.isArray()) {
      throw new ProtocolException(ProtocolException.Code.BAD_BUFFERS, "buffers is not a list");
    }
    long[] sizes = new long[buffers.size()];
    for (int i = 0; i < sizes.length; i++) {
      JsonNode size = buffers.get(i);
      if (!size.isIntegralNumber() || size.bigIntegerValue().signum() < 0
          || size.bigIntegerValue().bitLength() > 31) {
        throw new ProtocolException(ProtocolException.Code.BAD_BUFFERS,
            "buffer size " + size + " is not a non-negative integer within a frame");
      }
      sizes[i] = size.longValue();
    }
    return sizes;
  }

  /**
   * Writes one frame; sets the header's {@code buffers} to the buffers' sizes.
   *
   * @param out the stream (not flushed)
   * @param header the header, with a {@code kind}
   * @param buffers the buffers, each written from its position to its limit (positions are not
   *     changed)
   * @param maxFrame the largest frame allowed
   * @param scratch a reusable array for copying direct buffers, any size
   * @throws ProtocolException if the frame would exceed {@code maxFrame}
   * @throws IOException if writing fails
   */
  public static void write(OutputStream out, ObjectNode header, List<ByteBuffer> buffers,
      int maxFrame, byte[] scratch) throws IOException {
    if (!buffers.isEmpty()) {
      ArrayNode sizes = header.putArray("buffers");
      buffers.forEach(b -> sizes.add(b.remaining()));
    }
    byte[] json = JSON.writeValueAsBytes(header);
    long length = 4L + json.length;
    for (ByteBuffer b : buffers) {
      length = align8(length) + b.remaining();
    }
    if (length > maxFrame) {
      throw new ProtocolException(ProtocolException.Code.TOO_LARGE,
          "a " + header.path("kind").asText() + " frame of " + length + " bytes exceeds the "
              + "limit of " + maxFrame);
    }
    ByteBuffer prefix = ByteBuffer.allocate(8).putInt((int) length).putInt(json.length);
    out.write(prefix.array());
    out.write(json);
    long offset = 4L + json.length;
    for (ByteBuffer b : buffers) {
      int pad = (int) (align8(offset) - offset);
      out.write(PADDING, 0, pad);
      offset += pad + b.remaining();
      writeBuffer(out, b, scratch);
    }
  }

  private static void writeBuffer(OutputStream out, ByteBuffer buffer, byte[] scratch)
      throws IOException {
    if (buffer.hasArray() && !buffer.isReadOnly()) {
      out.write(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
      return;
    }
    ByteBuffer source = buffer.duplicate();
    while (source.hasRemaining()) {
      int n = Math.min(scratch.length, source.remaining());
      source.get(scratch, 0, n);
      out.write(scratch, 0, n);
    }
  }

  static long align8(long offset) {
    return (offset + 7) & ~7L;
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 117) + "...";
  }
}
