package dev.open.ports.internal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The protocol's limits (docs/protocol.md section 2) in the Java codec. */
class FrameLimitsTest {

  private static byte[] frame(String header, int... bufferSizes) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(ByteBuffer.allocate(4).putInt(json.length).array());
    body.writeBytes(json);
    for (int size : bufferSizes) {
      body.writeBytes(new byte[(8 - body.size() % 8) % 8]);
      body.writeBytes(new byte[size]);
    }
    ByteArrayOutputStream whole = new ByteArrayOutputStream();
    whole.writeBytes(ByteBuffer.allocate(4).putInt(body.size()).array());
    whole.writeBytes(body.toByteArray());
    return whole.toByteArray();
  }

  private static Frame read(byte[] frame) throws IOException {
    return FrameCodec.read(new ByteArrayInputStream(frame), FrameCodec.DEFAULT_MAX_FRAME);
  }

  private static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }

  @Test
  void aBodyAnnouncedAsAGigabyteCostsWhatArrivedNotWhatWasAnnounced() {
    byte[] prefix = ByteBuffer.allocate(4).putInt(FrameCodec.DEFAULT_MAX_FRAME).array();
    InputStream stalled = new SequenceInputStream(new ByteArrayInputStream(prefix),
        new ByteArrayInputStream(new byte[100_000])); // then the stream ends: truncated
    long before = allocatedByThisThread();

    assertThatThrownBy(() -> FrameCodec.read(stalled, FrameCodec.DEFAULT_MAX_FRAME))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("stream ended inside a frame (100000 of 1073741824 bytes)");
    long allocated = allocatedByThisThread() - before;
    assertThat(allocated).as("bytes allocated for 100 kB of a 1 GiB frame")
        .isLessThan(1 << 20);
  }

  @Test
  void aBodyWithinTheLendingLimitIsAllocatedOnceAndItsLoanReturned() throws IOException {
    int size = 16 << 20;
    assertThat(FrameCodec.LENDING_LIMIT).as("this JVM's lending limit").isGreaterThan(size);
    byte[] bytes = frame("{\"kind\":\"result\",\"id\":3,\"value\":{\"$bytes\":{\"buffer\":0}},"
        + "\"buffers\":[" + size + "]}", size);
    long before = allocatedByThisThread();
    read(bytes);
    assertThat(allocatedByThisThread() - before).as("allocated for a 16 MiB body")
        .isLessThan(size + (size >> 2));
    assertThat(FrameCodec.lentBytes()).isZero();

    byte[] prefix = ByteBuffer.allocate(4).putInt(size).array();
    assertThatThrownBy(() -> FrameCodec.read(new SequenceInputStream(
        new ByteArrayInputStream(prefix), new ByteArrayInputStream(new byte[10])),
        FrameCodec.DEFAULT_MAX_FRAME)).isInstanceOf(ProtocolException.class);
    assertThat(FrameCodec.lentBytes()).as("a failed read returns its loan").isZero();
  }

  @Test
  void aBodyArrivingWholeIsReadWhole() throws IOException {
    byte[] bytes = frame("{\"kind\":\"result\",\"id\":3,\"value\":{\"$bytes\":{\"buffer\":0}},"
        + "\"buffers\":[300000]}", 300_000);
    Frame frame = read(bytes);
    assertThat(frame.buffers()).hasSize(1);
    assertThat(frame.buffers().get(0).remaining()).isEqualTo(300_000);
  }

  @Test
  void moreThan65536BuffersIsAMalformedFrameFoundBeforeAnyBufferIsMade() {
    String sizes = String.join(",", Collections.nCopies(FrameCodec.MAX_BUFFERS + 1, "0"));
    byte[] bytes = frame("{\"kind\":\"result\",\"id\":1,\"value\":null,\"buffers\":[" + sizes + "]}");
    assertThatThrownBy(() -> read(bytes)).isInstanceOf(ProtocolException.class)
        .hasMessageContaining("65537 buffers exceeds the limit of 65536")
        .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ProtocolException.Code.BAD_BUFFERS);

    List<ByteBuffer> many = new ArrayList<>(Collections.nCopies(FrameCodec.MAX_BUFFERS + 1,
        ByteBuffer.allocate(0)));
    ObjectNode header = FrameCodec.JSON.createObjectNode().put("kind", "result");
    assertThatThrownBy(() -> FrameCodec.encodeHeader(header, many))
        .isInstanceOf(ProtocolException.class).hasMessageContaining("65537 buffers");
  }

  @Test
  void duplicateKeysAnywhereInAHeaderAreAMalformedFrame() {
    for (String header : List.of("{\"kind\":\"result\",\"id\":1,\"value\":1,\"kind\":\"shutdown\"}",
        "{\"kind\":\"result\",\"id\":1,\"value\":{\"a\":1,\"a\":2}}")) {
      assertThatThrownBy(() -> read(frame(header))).as(header)
          .isInstanceOf(ProtocolException.class).hasMessageContaining("Duplicate field")
          .extracting(e -> ((ProtocolException) e).code())
          .isEqualTo(ProtocolException.Code.BAD_HEADER);
    }
  }

  @Test
  void aHeaderOverAValueLimitIsABadValueOfTheMessageItNames() throws IOException {
    String digits = "7".repeat(FrameCodec.MAX_NUMBER_DIGITS + 1);
    String deep = "[".repeat(FrameCodec.MAX_DEPTH) + "]".repeat(FrameCodec.MAX_DEPTH);
    for (String value : List.of(digits, "-" + digits, deep)) {
      Frame frame = read(frame("{\"kind\":\"chunk\",\"seq\":0,\"value\":" + value
          + ",\"id\":42}"));
      assertThat(frame.kind()).isEqualTo("chunk");
      assertThat(frame.id()).isEqualTo(42);
      assertThat(frame.badValue()).isNotNull();
    }
    // At the limits, the same values are good.
    String widest = "7".repeat(FrameCodec.MAX_NUMBER_DIGITS);
    String deepest = "[".repeat(FrameCodec.MAX_DEPTH - 1) + "]".repeat(FrameCodec.MAX_DEPTH - 1);
    for (String value : List.of(widest, "-" + widest, deepest)) {
      Frame frame = read(frame("{\"kind\":\"result\",\"id\":1,\"value\":" + value + "}"));
      assertThat(frame.badValue()).isNull();
      assertThat(Values.decode(frame.header().get("value"), frame.buffers())).isNotNull();
    }
  }

  @Test
  void aHeaderOverAValueLimitThatNamesNoValueMessageIsMalformed() {
    String digits = "7".repeat(FrameCodec.MAX_NUMBER_DIGITS + 1);
    for (String header : List.of("{\"kind\":\"pong\",\"id\":1,\"rss\":" + digits + "}",
        "{\"kind\":\"result\",\"value\":" + digits + "}", // no id
        "{\"kind\":\"result\",\"id\":" + digits + "}", // no usable id
        "{\"id\":1,\"value\":" + digits + "}")) { // no kind
      assertThatThrownBy(() -> read(frame(header))).as(header)
          .isInstanceOf(ProtocolException.class)
          .extracting(e -> ((ProtocolException) e).code())
          .isEqualTo(ProtocolException.Code.BAD_HEADER);
    }
  }

  @Test
  void aFloatLiteralBeyondBinary64IsABadValue() throws IOException {
    Frame frame = read(frame("{\"kind\":\"result\",\"id\":1,\"value\":[1.5,1e400]}"));
    assertThat(frame.badValue())
        .isEqualTo("a number literal is beyond binary64's range (it reads as Infinity)");
    assertThatThrownBy(() -> read(frame("{\"kind\":\"pong\",\"id\":1,\"rss\":-1e999}")))
        .isInstanceOf(ProtocolException.class).hasMessageContaining("beyond binary64's range");
    Frame tiny = read(frame("{\"kind\":\"result\",\"id\":1,\"value\":1e-400}"));
    assertThat(Values.decode(tiny.header().get("value"), tiny.buffers())).isEqualTo(0.0);
  }

  @Test
  void encodingRefusesWhatTheProtocolCannotCarry() {
    Object deepest = List.of();
    for (int level = Values.VALUE_LEVEL; level < FrameCodec.MAX_DEPTH; level++) {
      deepest = List.of(deepest);
    }
    assertThat(Values.encode(deepest, new ArrayList<>())).isNotNull(); // 512 levels
    Object tooDeep = List.of(deepest);
    assertThatThrownBy(() -> Values.encode(tooDeep, new ArrayList<>()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at level 513");

    // A map with a single $-key is escaped as {"$map": {...}}: its values sit a level deeper.
    Object fits = List.of();
    for (int level = 3; level < FrameCodec.MAX_DEPTH; level++) { // levels 3..512 under a map
      fits = List.of(fits);
    }
    Object inside = fits;
    assertThat(Values.encode(java.util.Map.of("k", inside), new ArrayList<>())).isNotNull();
    assertThatThrownBy(() -> Values.encode(java.util.Map.of("$k", inside), new ArrayList<>()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at level 513");

    BigInteger widest = BigInteger.TEN.pow(FrameCodec.MAX_NUMBER_DIGITS).subtract(BigInteger.ONE);
    assertThat(Values.encode(widest.negate(), new ArrayList<>()).bigIntegerValue())
        .isEqualTo(widest.negate());
    assertThatThrownBy(() -> Values.encode(widest.add(BigInteger.ONE), new ArrayList<>()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4301 digits");
    assertThatThrownBy(() -> Values.encode(new java.math.BigDecimal("1e400"), new ArrayList<>()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("binary64");
  }

  @Test
  void aCallFrameEncodedOnceTakesEachWorkersIdAsItsLastField() throws IOException {
    ObjectNode header = FrameCodec.JSON.createObjectNode().put("kind", "call")
        .put("function", "m:f");
    header.putArray("args").add(1);
    List<ByteBuffer> buffers = List.of(ByteBuffer.wrap(new byte[] {1, 2, 3}));
    byte[] encoded = FrameCodec.encodeHeader(header, buffers);
    for (long id : new long[] {1, 9, Long.MAX_VALUE}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      FrameCodec.write(out, encoded, id, buffers, FrameCodec.DEFAULT_MAX_FRAME, new byte[8]);
      Frame frame = read(out.toByteArray());
      assertThat(frame.id()).isEqualTo(id);
      assertThat(frame.header().get("function").asText()).isEqualTo("m:f");
      assertThat(frame.buffers().get(0).get(2)).isEqualTo((byte) 3);
    }
  }

  /**
   * The scan that recovers kind and id agrees with a JSON parser on random headers: seeded, so
   * a failure reproduces from its seed.
   */
  @Test
  void theHeaderScanFindsWhatAParserFindsInRandomHeaders() throws IOException {
    for (long seed = 0; seed < 500; seed++) {
      Random random = new Random(seed);
      StringBuilder json = new StringBuilder("{");
      int fields = random.nextInt(5);
      List<String> parts = new ArrayList<>();
      for (int i = 0; i < fields; i++) {
        parts.add(string(random, "k" + i) + ":" + value(random, 0));
      }
      String kind = "result";
      long id = random.nextInt(1_000_000);
      parts.add(random.nextInt(parts.size() + 1), "\"kind\"" + space(random) + ":"
          + space(random) + "\"" + kind + "\"");
      parts.add(random.nextInt(parts.size() + 1), "\"id\":" + id);
      json.append(String.join("," + space(random), parts)).append(space(random)).append('}');
      byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);

      JsonNode parsed = FrameCodec.JSON.readTree(text);
      HeaderScan.Found found = HeaderScan.scan(text, 0, text.length);
      assertThat(found).as("seed %d: %s", seed, json).isNotNull();
      assertThat(found.kind()).as("seed %d", seed).isEqualTo(parsed.get("kind").asText());
      assertThat(found.id()).as("seed %d", seed).isEqualTo(parsed.get("id").asLong());
    }
  }

  private static String space(Random random) {
    return " \n\t".substring(0, random.nextInt(3));
  }

  private static String string(Random random, String base) {
    String[] tricks = {"", "\\\"", "\\\\", "}", "]", "\\u0041", ",\\\"id\\\":9", "é"};
    return "\"" + base + tricks[random.nextInt(tricks.length)] + "\"";
  }

  private static String value(Random random, int depth) {
    int pick = depth > 4 ? random.nextInt(4) : random.nextInt(6);
    return switch (pick) {
      case 0 -> Long.toString(random.nextLong());
      case 1 -> string(random, "v");
      case 2 -> random.nextBoolean() ? "true" : "null";
      case 3 -> "-1.5e3";
      case 4 -> {
        List<String> items = new ArrayList<>();
        for (int i = random.nextInt(3); i > 0; i--) {
          items.add(value(random, depth + 1));
        }
        yield "[" + String.join(",", items) + "]";
      }
      default -> {
        List<String> items = new ArrayList<>();
        for (int i = random.nextInt(3); i > 0; i--) {
          items.add(string(random, "n" + i) + ":" + value(random, depth + 1));
        }
        yield "{" + String.join(",", items) + "}";
      }
    };
  }
}
