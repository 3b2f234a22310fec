package dev.open.ports.internal.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads and writes frames (docs/protocol.md section 2): {@code u32be length, u32be header length,
 * JSON header, buffers aligned to 8 bytes}, within the protocol's limits (section 2, "Limits").
 *
 * <p>Reading never lets a peer decide how much memory is taken: the length is checked against
 * the limit before anything is allocated, and the body then grows with what has arrived (never
 * more than twice that, plus 64 KiB), so a peer that announces a gigabyte and stalls costs
 * kilobytes. A header that breaks one of the protocol's value limits (nesting, number length)
 * but names its message's kind and id is returned as a {@linkplain Frame#badValue() bad-value
 * frame}, so that the receiver can fail that one message and keep the stream. Stateless and
 * thread-safe; a stream must not be read or written by two threads at once.
 */
public final class FrameCodec {
  /** The default largest frame: 1 GiB. */
  public static final int DEFAULT_MAX_FRAME = 1 << 30;
  /** The most buffers one frame may carry. */
  public static final int MAX_BUFFERS = 65_536;
  /** The deepest a header's JSON may nest; the header object itself is level 1. */
  public static final int MAX_DEPTH = 512;
  /** The most digits a JSON number of a header may have. */
  public static final int MAX_NUMBER_DIGITS = 4300;
  /** Every message kind of protocol version 1. */
  public static final Set<String> KINDS = Set.of("hello", "call", "result", "chunk", "end",
      "error", "cancel", "ping", "pong", "shutdown");
  /** The kinds whose values may be malformed without making the whole stream untrustworthy. */
  private static final Set<String> VALUE_KINDS = Set.of("call", "result", "chunk");

  static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(MAX_DEPTH)
              .maxNumberLength(MAX_NUMBER_DIGITS)
              .maxStringLength(Integer.MAX_VALUE) // strings are bounded by the frame only
              .maxNameLength(Integer.MAX_VALUE)
              .build())
          .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  /**
   * The most bytes of frame bodies that may be allocated before they have arrived, JVM-wide: an
   * eighth of the heap, at most 256 MiB. A body that fits what is left of it is allocated whole
   * at once (no copies); any other grows as it arrives. Either way, no peer can make the host
   * hold more than this beyond twice what it actually sent.
   */
  static final long LENDING_LIMIT = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8);
  private static final java.util.concurrent.atomic.AtomicLong LENT =
      new java.util.concurrent.atomic.AtomicLong();

  private static final byte[] PADDING = new byte[8];
  private static final int CHUNK = 64 << 10;
  private static final byte[] ID_FIELD = ",\"id\":".getBytes(StandardCharsets.US_ASCII);

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
    return decode(readBody(body, (int) length));
  }

  /**
   * Reads a body of {@code length} bytes. A large body that fits what is left of {@link
   * #LENDING_LIMIT} is allocated whole, on the peer's word, and the loan returned once it is read
   * (or has failed); any other goes into an array that grows as the bytes arrive: it starts at
   * 64 KiB and doubles when full, so it never holds more than twice what came, and the copies
   * add up to less than one body. Reads go in pieces of at most 64 KiB: the JDK's native read
   * stages each call in a malloc'ed buffer as large as the request.
   */
  private static byte[] readBody(InputStream in, int length) throws IOException {
    if (length > CHUNK && lend(length)) {
      try {
        return readInto(in, new byte[length], length);
      } finally {
        LENT.addAndGet(-length);
      }
    }
    return readInto(in, new byte[Math.min(length, CHUNK)], length);
  }

  private static boolean lend(int length) {
    while (true) {
      long lent = LENT.get();
      if (lent + length > LENDING_LIMIT) {
        return false;
      }
      if (LENT.compareAndSet(lent, lent + length)) {
        return true;
      }
    }
  }

  /** Bytes lent to bodies being read now (tests). */
  static long lentBytes() {
    return LENT.get();
  }

  private static byte[] readInto(InputStream in, byte[] body, int length) throws IOException {
    int total = 0;
    while (total < length) {
      if (total == body.length) {
        body = Arrays.copyOf(body, (int) Math.min(length, 2L * body.length));
      }
      int n = in.read(body, total, Math.min(CHUNK, body.length - total));
      if (n < 0) {
        throw new ProtocolException(ProtocolException.Code.TRUNCATED,
            "stream ended inside a frame (" + total + " of " + length + " bytes)");
      }
      total += n;
    }
    return body;
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
    ObjectNode header;
    try {
      header = parseHeader(body, (int) headerLength);
    } catch (ValueLimitException e) {
      return salvage(body, (int) headerLength, e.getMessage());
    }
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

  /** A header broke a value limit: the frame is well formed, one value in it is not. */
  private static final class ValueLimitException extends Exception {
    private static final long serialVersionUID = 1L;

    ValueLimitException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Returns a bad-value frame for a header the parser refused because of a value limit, if a scan
   * of its top level finds the kind and id of a message that carries values; the frame is a
   * protocol error otherwise.
   */
  private static Frame salvage(byte[] body, int headerLength, String problem)
      throws ProtocolException {
    HeaderScan.Found found = HeaderScan.scan(body, 4, headerLength);
    if (found == null || !VALUE_KINDS.contains(found.kind()) || found.id() <= 0) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER, "header breaks a limit of "
          + "the protocol (" + problem + ") and names no message it could belong to");
    }
    ObjectNode header = JSON.createObjectNode();
    header.put("kind", found.kind());
    header.put("id", found.id());
    return new Frame(header, List.of(), problem);
  }

  private static ObjectNode parseHeader(byte[] body, int length)
      throws ProtocolException, ValueLimitException {
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
    } catch (StreamConstraintsException e) {
      throw new ValueLimitException(e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER,
          "header is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER, "header is not JSON: " + e);
    }
    if (node == null || !node.isObject()) {
      throw new ProtocolException(ProtocolException.Code.BAD_HEADER, "header is not a JSON object");
    }
    String overflow = nonFinite(node);
    if (overflow != null) { // the parser made infinity of a literal such as 1e400
      throw new ValueLimitException("a number literal is beyond binary64's range (it reads as "
          + overflow + ")");
    }
    return (ObjectNode) node;
  }

  /**
   * Returns the text of a float literal the parser turned into an infinity (JSON has no
   * infinities: {@code 1e400} overflowed), or null. The header's depth is bounded, so the
   * recursion is too.
   */
  private static String nonFinite(JsonNode node) {
    if (node.isFloatingPointNumber()) {
      return Double.isFinite(node.doubleValue()) ? null : node.asText();
    }
    if (node.isContainerNode()) {
      for (JsonNode child : node) {
        String found = nonFinite(child);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  private static long[] bufferSizes(ObjectNode header) throws ProtocolException {
    JsonNode buffers = header.get("buffers");
    if (buffers == null || buffers.isNull()) {
      return new long[0];
    }
    if (!buffers.isArray()) {
      throw new ProtocolException(ProtocolException.Code.BAD_BUFFERS, "buffers is not a list");
    }
    if (buffers.size() > MAX_BUFFERS) {
      throw new ProtocolException(ProtocolException.Code.BAD_BUFFERS, "a frame of "
          + buffers.size() + " buffers exceeds the limit of " + MAX_BUFFERS);
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
   * @throws ProtocolException if the frame would exceed {@code maxFrame} or the buffer limit, or
   *     the header has no JSON form (nothing is written then)
   * @throws IOException if writing fails
   */
  public static void write(OutputStream out, ObjectNode header, List<ByteBuffer> buffers,
      int maxFrame, byte[] scratch) throws IOException {
    write(out, encodeHeader(header, buffers), 0, buffers, maxFrame, scratch);
  }

  /**
   * Encodes a header as JSON, with its {@code buffers} field set to the buffers' sizes: done
   * once for a message that may be sent more than once (a call that moves to another worker).
   *
   * @param header the header, with a {@code kind}; its {@code buffers} field is replaced
   * @param buffers the buffers the frame will carry
   * @return the header's UTF-8 JSON
   * @throws ProtocolException ({@code BAD_BUFFERS}) for more than {@link #MAX_BUFFERS} buffers,
   *     ({@code BAD_VALUE}) if the header has no JSON form (a string with a lone surrogate)
   */
  public static byte[] encodeHeader(ObjectNode header, List<ByteBuffer> buffers)
      throws ProtocolException {
    if (buffers.size() > MAX_BUFFERS) {
      throw new ProtocolException(ProtocolException.Code.BAD_BUFFERS, "a frame of "
          + buffers.size() + " buffers exceeds the limit of " + MAX_BUFFERS);
    }
    if (!buffers.isEmpty()) {
      ArrayNode sizes = header.putArray("buffers");
      buffers.forEach(b -> sizes.add(b.remaining()));
    } else {
      header.remove("buffers");
    }
    try {
      return JSON.writeValueAsBytes(header);
    } catch (JsonProcessingException e) {
      throw new ProtocolException(ProtocolException.Code.BAD_VALUE,
          "the header has no JSON form: " + e.getOriginalMessage());
    }
  }

  /**
   * Writes one frame from a header encoded by {@link #encodeHeader}, adding an {@code id}.
   *
   * @param out the stream (not flushed)
   * @param header the encoded header (a JSON object without an {@code id})
   * @param id the id to add as the header's last field, or 0 for none
   * @param buffers the buffers the header describes (positions are not changed)
   * @param maxFrame the largest frame allowed
   * @param scratch a reusable array for copying direct buffers, any size
   * @throws ProtocolException if the frame would exceed {@code maxFrame} (nothing is written)
   * @throws IOException if writing fails
   */
  public static void write(OutputStream out, byte[] header, long id, List<ByteBuffer> buffers,
      int maxFrame, byte[] scratch) throws IOException {
    byte[] idText = id > 0 ? Long.toString(id).getBytes(StandardCharsets.US_ASCII) : null;
    long headerLength = header.length + (idText == null ? 0 : ID_FIELD.length + idText.length);
    long length = frameLength(headerLength, buffers);
    if (length > maxFrame) {
      throw new ProtocolException(ProtocolException.Code.TOO_LARGE,
          "a frame of " + length + " bytes exceeds the limit of " + maxFrame);
    }
    ByteBuffer prefix = ByteBuffer.allocate(8).putInt((int) length).putInt((int) headerLength);
    out.write(prefix.array());
    if (idText == null) {
      out.write(header);
    } else { // {...} becomes {...,"id":N}
      out.write(header, 0, header.length - 1);
      out.write(ID_FIELD);
      out.write(idText);
      out.write('}');
    }
    long offset = 4L + headerLength;
    for (ByteBuffer b : buffers) {
      int pad = (int) (align8(offset) - offset);
      out.write(PADDING, 0, pad);
      offset += pad + b.remaining();
      writeBuffer(out, b, scratch);
    }
  }

  /**
   * Returns the size of a frame body with a header of {@code headerLength} bytes and these
   * buffers (the {@code length} of its prefix).
   */
  public static long frameLength(long headerLength, List<ByteBuffer> buffers) {
    long length = 4L + headerLength;
    for (ByteBuffer b : buffers) {
      length = align8(length) + b.remaining();
    }
    return length;
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
