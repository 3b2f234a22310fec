package dev.open.ports.internal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

/** The Java codec against docs/protocol-vectors.json, shared with the Python and Julia workers. */
class ConformanceVectorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  static JsonNode vectors() throws IOException {
    Path file = Path.of(System.getProperty("open.repo", "..")).resolve("docs/protocol-vectors.json");
    return JSON.readTree(file.toFile());
  }

  static Stream<JsonNode> frames() throws IOException {
    List<JsonNode> all = new ArrayList<>();
    vectors().get("frames").forEach(all::add);
    return all.stream();
  }

  static Stream<JsonNode> values() throws IOException {
    List<JsonNode> all = new ArrayList<>();
    vectors().get("values").forEach(all::add);
    return all.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("frames")
  void decodesEveryFrameVector(JsonNode vector) throws IOException {
    byte[] bytes = HEX.parseHex(vector.get("hex").asText());
    int limit = vector.path("limit").asInt(FrameCodec.DEFAULT_MAX_FRAME);
    JsonNode expect = vector.get("expect");
    if (expect.has("error")) {
      ProtocolException e = catchThrowableOfType(ProtocolException.class,
          () -> FrameCodec.read(new ByteArrayInputStream(bytes), limit));
      assertThat(e).as(vector.get("name").asText()).isNotNull();
      assertThat(e.code().name().toLowerCase(Locale.ROOT)).isEqualTo(expect.get("error").asText());
      return;
    }
    Frame frame = FrameCodec.read(new ByteArrayInputStream(bytes), limit);
    // Compare with the codec's own number types (it reads integers as BigInteger).
    assertThat(frame.header()).isEqualTo(FrameCodec.JSON.readTree(expect.get("header").toString()));
    List<String> buffers = frame.buffers().stream().map(ConformanceVectorsTest::hex).toList();
    List<String> expected = new ArrayList<>();
    expect.get("buffers").forEach(b -> expected.add(b.asText()));
    assertThat(buffers).isEqualTo(expected);

    // Encoding the decoded frame and decoding that again gives the same frame.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ObjectNode header = frame.header().deepCopy();
    header.remove("buffers");
    FrameCodec.write(out, header, frame.buffers(), limit, new byte[64]);
    byte[] again = out.toByteArray();
    Frame reread = FrameCodec.read(new ByteArrayInputStream(again), limit);
    ObjectNode rereadHeader = reread.header().deepCopy();
    rereadHeader.remove("buffers"); // an empty list is written as no list
    ObjectNode original = frame.header().deepCopy();
    original.remove("buffers");
    assertThat(rereadHeader).isEqualTo(original);
    assertThat(reread.buffers().stream().map(ConformanceVectorsTest::hex).toList()).isEqualTo(buffers);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("values")
  void decodesEveryValueVector(JsonNode vector) throws IOException {
    List<ByteBuffer> buffers = new ArrayList<>();
    for (JsonNode b : vector.get("buffers")) {
      buffers.add(ByteBuffer.wrap(HEX.parseHex(b.asText())));
    }
    JsonNode expect = vector.get("expect");
    JsonNode valueNode = vector.get("header_value");
    if (vector.has("header_value_json")) { // parsed as part of a header, with the limits
      Frame frame = FrameCodec.decode(resultBody(vector.get("header_value_json").asText(), buffers));
      if (frame.badValue() != null) {
        assertThat(expect.has("error")).as(vector.get("name").asText() + ": " + frame.badValue())
            .isTrue();
        return;
      }
      valueNode = frame.header().get("value");
      buffers = frame.buffers();
    }
    if (expect.has("error")) {
      List<ByteBuffer> frameBuffers = buffers;
      JsonNode node = valueNode;
      ProtocolException e = catchThrowableOfType(ProtocolException.class,
          () -> Values.decode(node, frameBuffers));
      assertThat(e).as(vector.get("name").asText()).isNotNull();
      assertThat(e.code()).isEqualTo(ProtocolException.Code.BAD_VALUE);
      return;
    }
    Object value = Values.decode(valueNode, buffers);
    assertMeaning(value, expect);

    // Round trip through our own encoder keeps the meaning.
    List<ByteBuffer> encodedBuffers = new ArrayList<>();
    JsonNode encoded = Values.encode(value, encodedBuffers);
    assertMeaning(Values.decode(encoded, encodedBuffers), expect);
  }

  /** The body of a result frame whose value is {@code json} (at level 2) with these buffers. */
  private static byte[] resultBody(String json, List<ByteBuffer> buffers) {
    StringBuilder header = new StringBuilder("{\"kind\":\"result\",\"id\":1,\"value\":")
        .append(json);
    if (!buffers.isEmpty()) {
      header.append(",\"buffers\":[").append(String.join(",",
          buffers.stream().map(b -> Integer.toString(b.remaining())).toList())).append(']');
    }
    byte[] text = header.append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(ByteBuffer.allocate(4).putInt(text.length).array());
    body.writeBytes(text);
    for (ByteBuffer b : buffers) {
      body.writeBytes(new byte[(8 - body.size() % 8) % 8]);
      byte[] bytes = new byte[b.remaining()];
      b.duplicate().get(bytes);
      body.writeBytes(bytes);
    }
    return body.toByteArray();
  }

  /** Compares a decoded value with the neutral meaning of the vectors. */
  static void assertMeaning(Object value, JsonNode expect) {
    String kind = expect.fieldNames().next();
    JsonNode e = expect.get(kind);
    switch (kind) {
      case "null" -> assertThat(value).isNull();
      case "nested_lists" -> {
        Object inner = value;
        for (int i = 1; i < e.asInt(); i++) {
          assertThat((List<?>) inner).hasSize(1);
          inner = ((List<?>) inner).get(0);
        }
        assertThat((List<?>) inner).isEmpty();
      }
      case "bool" -> assertThat(value).isEqualTo(e.asBoolean());
      case "str" -> assertThat(value).isEqualTo(e.asText());
      case "int" -> assertThat(new BigInteger(value.toString())).isEqualTo(new BigInteger(e.asText()));
      case "float" -> assertFloat((Double) value, e.asText());
      case "bytes" -> assertThat(HEX.formatHex((byte[]) value)).isEqualTo(e.asText());
      case "list" -> {
        List<?> list = (List<?>) value;
        assertThat(list).hasSize(e.size());
        for (int i = 0; i < e.size(); i++) {
          assertMeaning(list.get(i), e.get(i));
        }
      }
      case "map" -> {
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) value;
        assertThat(map).hasSize(e.size());
        for (JsonNode entry : e) {
          assertThat(map).containsKey(entry.get(0).asText());
          assertMeaning(map.get(entry.get(0).asText()), entry.get(1));
        }
      }
      case "ndarray" -> assertArray((NDArray) value, e);
      default -> throw new AssertionError("unknown meaning " + kind);
    }
  }

  private static void assertFloat(double actual, String expected) {
    switch (expected) {
      case "nan" -> assertThat(actual).isNaN();
      case "inf" -> assertThat(actual).isEqualTo(Double.POSITIVE_INFINITY);
      case "-inf" -> assertThat(actual).isEqualTo(Double.NEGATIVE_INFINITY);
      default -> assertThat(actual).isEqualTo(Double.parseDouble(expected));
    }
  }

  private static void assertArray(NDArray array, JsonNode e) {
    DType dtype = DType.fromDescr(e.get("dtype").asText());
    assertThat(array.dtype()).isEqualTo(dtype);
    int[] shape = new int[e.get("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = e.get("shape").get(i).asInt();
    }
    assertThat(array.shape()).containsExactly(shape);
    assertThat(array.order().name()).isEqualTo(e.path("order").asText("C"));
    ByteBuffer data = array.buffer().order(ByteOrder.LITTLE_ENDIAN);
    JsonNode expected = e.get("data");
    assertThat(array.size()).isEqualTo(expected.size());
    for (int i = 0; i < expected.size(); i++) {
      String x = expected.get(i).asText();
      int at = i * dtype.itemSize();
      switch (dtype) {
        case FLOAT64 -> assertFloat(data.getDouble(at), x);
        case FLOAT32 -> assertFloat(data.getFloat(at), x);
        case INT64 -> assertThat(data.getLong(at)).isEqualTo(Long.parseLong(x));
        case UINT64 -> assertThat(Long.toUnsignedString(data.getLong(at))).isEqualTo(x);
        case INT32 -> assertThat(data.getInt(at)).isEqualTo(Integer.parseInt(x));
        case UINT32 -> assertThat(Integer.toUnsignedString(data.getInt(at))).isEqualTo(x);
        case INT16 -> assertThat(data.getShort(at)).isEqualTo(Short.parseShort(x));
        case UINT16 -> assertThat(data.getShort(at) & 0xffff).isEqualTo(Integer.parseInt(x));
        case INT8 -> assertThat(data.get(at)).isEqualTo(Byte.parseByte(x));
        case UINT8, BOOL -> assertThat(data.get(at) & 0xff).isEqualTo(Integer.parseInt(x));
        default -> throw new AssertionError(dtype);
      }
    }
  }

  private static String hex(ByteBuffer b) {
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return HEX.formatHex(bytes);
  }
}
