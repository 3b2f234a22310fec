package dev.open.ports.internal.protocol;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

/**
 * Converts Java values to protocol values and back (docs/protocol.md section 4).
 *
 * <table>
 *   <caption>Java ↔ protocol</caption>
 *   <tr><th>Java, sent</th><th>protocol</th><th>Java, received</th></tr>
 *   <tr><td>null, Boolean, String (and Character, enum names)</td><td>JSON</td>
 *       <td>null, Boolean, String</td></tr>
 *   <tr><td>Integer, Long, Short, Byte, BigInteger</td><td>JSON integer</td>
 *       <td>Long, or BigInteger beyond 64 bits</td></tr>
 *   <tr><td>Double, Float, BigDecimal</td><td>JSON number, or {@code $float} for NaN and
 *       infinities</td><td>Double</td></tr>
 *   <tr><td>List, Set, other Collection, Object[]</td><td>JSON array</td><td>List</td></tr>
 *   <tr><td>Map with String keys</td><td>JSON object ({@code $map} when its one key starts with
 *       {@code $})</td><td>Map (insertion-ordered)</td></tr>
 *   <tr><td>byte[], ByteBuffer</td><td>{@code $bytes}</td><td>byte[]</td></tr>
 *   <tr><td>NDArray; double[], float[], long[], int[], short[], boolean[] (1-D)</td>
 *       <td>{@code $nd}</td><td>NDArray viewing the frame (no copy; big-endian data is
 *       converted)</td></tr>
 * </table>
 *
 * <p>Anything else is refused with an {@link IllegalArgumentException} naming its type, and so is
 * a value beyond the protocol's limits (docs/protocol.md section 2): nesting deeper than {@link
 * FrameCodec#MAX_DEPTH} levels of the header (a cyclic collection included), an integer of more
 * than {@link FrameCodec#MAX_NUMBER_DIGITS} digits, a {@code BigDecimal} that is not a finite
 * binary64. Decoding refuses a float literal that is not a finite binary64 ({@code 1e400}) and a
 * {@code |b1} byte other than 0 or 1. Stateless and thread-safe.
 */
public final class Values {
  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  private Values() {}

  /** The header level of a result's value: the header object is level 1. */
  public static final int VALUE_LEVEL = 2;

  /**
   * Decides where a large array's bytes travel (docs/protocol.md section 8): in a shared-memory
   * segment, or inline.
   */
  @FunctionalInterface
  public interface ArrayPlacer {
    /**
     * Returns the {@code segment} object ({@code {"name": ..., "offset": ...}}) of a segment
     * that holds the array's bytes, or null to send them inline.
     *
     * @param array an array about to be encoded
     * @return the segment reference, or null
     */
    ObjectNode place(NDArray array);
  }

  /** Finds the bytes of an array that a message says are in a shared-memory segment. */
  @FunctionalInterface
  public interface SegmentResolver {
    /**
     * Returns the bytes {@code [offset, offset + length)} of segment {@code name}.
     *
     * @param name the segment's name, as the message gave it (not yet checked)
     * @param offset where the array starts in it
     * @param length the array's size in bytes
     * @return a buffer of exactly {@code length} bytes
     * @throws ProtocolException ({@code BAD_VALUE}) when there is no such segment
     */
    ByteBuffer resolve(String name, long offset, long length) throws ProtocolException;

    /**
     * Told of each array made from bytes that {@link #resolve} returned (not of those it had
     * to convert from big-endian), so that it can recognise the array later.
     *
     * @param array the decoded array, a view of {@code bytes}
     * @param bytes what {@link #resolve} returned
     */
    default void decoded(NDArray array, ByteBuffer bytes) {}
  }

  /** A resolver for frames that may not name segments: every segment is a bad value. */
  public static final SegmentResolver NO_SEGMENTS = (name, offset, length) -> {
    throw new ProtocolException(ProtocolException.Code.BAD_VALUE,
        "$nd names a shared-memory segment, but shared memory is not enabled");
  };

  /**
   * Encodes a value as a result's value would be (at header level 2), appending the buffers it
   * needs to {@code buffers}.
   *
   * @param value the value
   * @param buffers where binary buffers go; their indices are referenced from the result
   * @return the JSON form
   * @throws IllegalArgumentException for a value that has no protocol form or breaks a limit
   */
  public static JsonNode encode(Object value, List<ByteBuffer> buffers) {
    return encode(value, buffers, VALUE_LEVEL);
  }

  /**
   * Encodes a value that sits at {@code level} of a header (the header object is level 1; a
   * call's arguments are at level 3), appending the buffers it needs to {@code buffers}.
   *
   * @param value the value
   * @param buffers where binary buffers go; their indices are referenced from the result
   * @param level the header level of the value, at least 2
   * @return the JSON form
   * @throws IllegalArgumentException for a value that has no protocol form or breaks a limit
   */
  public static JsonNode encode(Object value, List<ByteBuffer> buffers, int level) {
    return encode(value, buffers, level, null);
  }

  /**
   * Encodes a value like {@link #encode(Object, List, int)}, letting {@code placer} put arrays'
   * bytes in shared-memory segments.
   *
   * @param value the value
   * @param buffers where binary buffers go; their indices are referenced from the result
   * @param level the header level of the value, at least 2
   * @param placer where arrays go, or null for inline buffers
   * @return the JSON form
   * @throws IllegalArgumentException for a value that has no protocol form or breaks a limit
   */
  public static JsonNode encode(Object value, List<ByteBuffer> buffers, int level,
      ArrayPlacer placer) {
    if (value == null) {
      return NODES.nullNode();
    }
    if (value instanceof String s) {
      return NODES.textNode(s);
    }
    if (value instanceof Boolean b) {
      return NODES.booleanNode(b);
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short
        || value instanceof Byte) {
      return NODES.numberNode(((Number) value).longValue());
    }
    if (value instanceof BigInteger big) {
      return NODES.numberNode(checkDigits(big));
    }
    if (value instanceof Double || value instanceof Float) {
      return encodeDouble(((Number) value).doubleValue());
    }
    if (value instanceof BigDecimal decimal) {
      if (decimal.precision() > FrameCodec.MAX_NUMBER_DIGITS
          || !Double.isFinite(decimal.doubleValue())) {
        throw new IllegalArgumentException("a BigDecimal of " + decimal.precision() + " digits "
            + "and scale " + decimal.scale() + " is beyond the protocol's numbers (at most "
            + FrameCodec.MAX_NUMBER_DIGITS + " digits, within binary64's range)");
      }
      return NODES.numberNode(decimal);
    }
    if (value instanceof Character c) {
      return NODES.textNode(c.toString());
    }
    if (value instanceof Enum<?> e) {
      return NODES.textNode(e.name());
    }
    if (value instanceof NDArray array) {
      checkDepth(level + 2, "an NDArray"); // {"$nd": {..., "shape": [...]}}
      ObjectNode segment = placer == null ? null : placer.place(array);
      if (segment != null) {
        ObjectNode nd = ndHeader(0, array.dtype().descr(), array.shape(), array.order());
        nd.remove("buffer");
        nd.set("segment", segment);
        ObjectNode tagged = NODES.objectNode();
        tagged.set("$nd", nd);
        return tagged;
      }
      return tag("$nd", ndHeader(buffers.size(), array.dtype().descr(), array.shape(),
          array.order()), buffers, array.buffer());
    }
    if (value instanceof byte[] bytes) {
      checkDepth(level + 1, "a byte[]");
      return tag("$bytes", bufferRef(buffers.size()), buffers, ByteBuffer.wrap(bytes));
    }
    if (value instanceof ByteBuffer bytes) {
      checkDepth(level + 1, "a ByteBuffer");
      return tag("$bytes", bufferRef(buffers.size()), buffers, bytes.slice());
    }
    NDArray primitive = primitiveArray(value);
    if (primitive != null) {
      return encode(primitive, buffers, level, placer);
    }
    checkDepth(level, "a " + value.getClass().getSimpleName());
    if (value instanceof Map<?, ?> map) {
      ObjectNode object = NODES.objectNode();
      // A map whose one key starts with $ is escaped as {"$map": {...}}: a level deeper.
      boolean dollarKey = map.size() == 1 && map.keySet().iterator().next() instanceof String only
          && only.startsWith("$");
      int inner = dollarKey ? level + 2 : level + 1;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new IllegalArgumentException("map keys must be strings, got "
              + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
        }
        object.set(key, encode(e.getValue(), buffers, inner, placer));
      }
      if (object.size() == 1 && object.fieldNames().next().startsWith("$")) {
        checkDepth(level + 1, "a $map escape");
        ObjectNode escaped = NODES.objectNode();
        escaped.set("$map", object);
        return escaped;
      }
      return object;
    }
    if (value instanceof Collection<?> collection) {
      ArrayNode array = NODES.arrayNode(collection.size());
      for (Object element : collection) {
        array.add(encode(element, buffers, level + 1, placer));
      }
      return array;
    }
    if (value instanceof Object[] objects) {
      return encode(Arrays.asList(objects), buffers, level, placer);
    }
    throw new IllegalArgumentException("no protocol form for " + value.getClass().getName()
        + " (use JSON-like values, NDArray, primitive arrays or byte[])");
  }

  private static void checkDepth(int level, String what) {
    if (level > FrameCodec.MAX_DEPTH) {
      throw new IllegalArgumentException(what + " at level " + level + " nests deeper than the "
          + FrameCodec.MAX_DEPTH + " levels a header may have (is a collection part of itself?)");
    }
  }

  private static BigInteger checkDigits(BigInteger big) {
    // 4300 digits hold about 14,284 bits; the decimal text is made only near the limit.
    if (big.bitLength() > 14_200 && big.abs().toString().length() > FrameCodec.MAX_NUMBER_DIGITS) {
      throw new IllegalArgumentException("an integer of " + big.abs().toString().length()
          + " digits exceeds the protocol's limit of " + FrameCodec.MAX_NUMBER_DIGITS + " digits");
    }
    return big;
  }

  private static JsonNode encodeDouble(double d) {
    if (Double.isFinite(d)) {
      return NODES.numberNode(d);
    }
    ObjectNode tagged = NODES.objectNode();
    tagged.put("$float", Double.isNaN(d) ? "nan" : d > 0 ? "inf" : "-inf");
    return tagged;
  }

  private static ObjectNode ndHeader(int buffer, String dtype, int[] shape, NDArray.Order order) {
    ObjectNode nd = NODES.objectNode();
    nd.put("buffer", buffer);
    nd.put("dtype", dtype);
    ArrayNode dims = nd.putArray("shape");
    for (int d : shape) {
      dims.add(d);
    }
    nd.put("order", order.name());
    return nd;
  }

  private static ObjectNode bufferRef(int buffer) {
    ObjectNode ref = NODES.objectNode();
    ref.put("buffer", buffer);
    return ref;
  }

  private static JsonNode tag(String tag, ObjectNode body, List<ByteBuffer> buffers,
      ByteBuffer data) {
    buffers.add(data);
    ObjectNode tagged = NODES.objectNode();
    tagged.set(tag, body);
    return tagged;
  }

  private static NDArray primitiveArray(Object value) {
    if (value instanceof double[] d) {
      return NDArray.of(d);
    }
    if (value instanceof float[] f) {
      return NDArray.of(f);
    }
    if (value instanceof long[] l) {
      return NDArray.of(l);
    }
    if (value instanceof int[] i) {
      return NDArray.of(i);
    }
    if (value instanceof short[] s) {
      NDArray a = NDArray.allocate(DType.INT16, s.length);
      a.buffer().asShortBuffer().put(s);
      return a;
    }
    if (value instanceof boolean[] b) {
      NDArray a = NDArray.allocate(DType.BOOL, b.length);
      ByteBuffer bytes = a.buffer();
      for (int k = 0; k < b.length; k++) {
        bytes.put(k, (byte) (b[k] ? 1 : 0));
      }
      return a;
    }
    return null;
  }

  /**
   * Decodes a value.
   *
   * @param node the JSON form
   * @param buffers the buffers of its frame
   * @return the Java value (see the class description)
   * @throws ProtocolException ({@code BAD_VALUE}) for a malformed tagged value
   */
  public static Object decode(JsonNode node, List<ByteBuffer> buffers) throws ProtocolException {
    return decode(node, buffers, NO_SEGMENTS);
  }

  /**
   * Decodes a value whose arrays may lie in shared-memory segments.
   *
   * @param node the JSON form
   * @param buffers the buffers of its frame
   * @param segments finds the segments that arrays name
   * @return the Java value (see the class description)
   * @throws ProtocolException ({@code BAD_VALUE}) for a malformed tagged value
   */
  public static Object decode(JsonNode node, List<ByteBuffer> buffers, SegmentResolver segments)
      throws ProtocolException {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isIntegralNumber()) {
      BigInteger big = node.bigIntegerValue();
      return big.compareTo(LONG_MIN) >= 0 && big.compareTo(LONG_MAX) <= 0 ? big.longValue() : big;
    }
    if (node.isNumber()) {
      double d = node.doubleValue();
      if (!Double.isFinite(d)) {
        throw bad("the number " + abbreviate(node.asText()) + " is beyond binary64's range");
      }
      return d;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>(node.size());
      for (JsonNode element : node) {
        list.add(decode(element, buffers, segments));
      }
      return list;
    }
    ObjectNode object = (ObjectNode) node;
    if (object.size() == 1) {
      String key = object.fieldNames().next();
      if (key.startsWith("$")) {
        return decodeTagged(key, object.get(key), buffers, segments);
      }
    }
    Map<String, Object> map = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      map.put(e.getKey(), decode(e.getValue(), buffers, segments));
    }
    return map;
  }

  private static Object decodeTagged(String tag, JsonNode body, List<ByteBuffer> buffers,
      SegmentResolver segments) throws ProtocolException {
    switch (tag) {
      case "$float" -> {
        return switch (body.asText("")) {
          case "nan" -> Double.NaN;
          case "inf" -> Double.POSITIVE_INFINITY;
          case "-inf" -> Double.NEGATIVE_INFINITY;
          default -> throw bad("$float must be \"nan\", \"inf\" or \"-inf\", got " + body);
        };
      }
      case "$map" -> {
        if (!body.isObject()) {
          throw bad("$map must hold an object, got " + body);
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          map.put(e.getKey(), decode(e.getValue(), buffers, segments));
        }
        return map;
      }
      case "$bytes" -> {
        ByteBuffer data = buffer(body, buffers, "$bytes");
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        return bytes;
      }
      case "$nd" -> {
        return decodeArray(body, buffers, segments);
      }
      default -> throw bad("unknown tagged value " + tag);
    }
  }

  private static NDArray decodeArray(JsonNode nd, List<ByteBuffer> buffers,
      SegmentResolver segments) throws ProtocolException {
    if (!nd.isObject()) {
      throw bad("$nd must hold an object, got " + nd);
    }
    JsonNode dtypeNode = nd.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw bad("$nd has no dtype");
    }
    String descr = dtypeNode.asText();
    DType dtype;
    try {
      dtype = DType.fromDescr(descr);
    } catch (IllegalArgumentException e) {
      throw bad("$nd: " + e.getMessage());
    }
    JsonNode shapeNode = nd.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) {
      throw bad("$nd has no shape list");
    }
    int[] shape = new int[shapeNode.size()];
    long elements = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToInt() || !d.isIntegralNumber() || d.intValue() < 0) {
        throw bad("$nd shape has an invalid dimension " + d);
      }
      shape[i] = d.intValue();
      elements *= shape[i];
    }
    String orderText = nd.path("order").asText("C");
    if (!orderText.equals("C") && !orderText.equals("F")) {
      throw bad("$nd order must be \"C\" or \"F\", got " + nd.get("order"));
    }
    ByteBuffer data = nd.has("segment")
        ? segment(nd, segments, elements * dtype.itemSize(), dtype.itemSize())
        : buffer(nd, buffers, "$nd");
    if (elements * dtype.itemSize() != data.remaining()) {
      throw bad("$nd buffer has " + data.remaining() + " bytes, shape " + Arrays.toString(shape)
          + " of " + descr + " needs " + elements * dtype.itemSize());
    }
    if (dtype == DType.BOOL) {
      for (int i = data.position(); i < data.limit(); i++) {
        if ((data.get(i) & 0xff) > 1) {
          throw bad("$nd |b1 element is not 0 or 1");
        }
      }
    }
    boolean swap = DType.isBigEndian(descr);
    ByteBuffer bytes = swap ? swapped(data, dtype.itemSize()) : data.slice();
    NDArray array = NDArray.wrap(bytes.order(ByteOrder.LITTLE_ENDIAN), dtype,
        NDArray.Order.valueOf(orderText), shape);
    if (nd.has("segment") && !swap) {
      segments.decoded(array, data);
    }
    return array;
  }

  private static ByteBuffer segment(JsonNode nd, SegmentResolver segments, long length,
      int itemSize) throws ProtocolException {
    if (nd.has("buffer")) {
      throw bad("$nd has both a buffer and a segment");
    }
    JsonNode segment = nd.get("segment");
    JsonNode name = segment.get("name");
    JsonNode offset = segment.path("offset");
    if (!segment.isObject() || name == null || !name.isTextual()) {
      throw bad("$nd segment must be an object with a string name, got " + segment);
    }
    long at = offset.isMissingNode() ? 0 : offset.canConvertToLong() && offset.isIntegralNumber()
        ? offset.longValue() : -1;
    if (at < 0 || at % itemSize != 0) {
      throw bad("$nd segment offset must be a non-negative multiple of the item size "
          + itemSize + ", got " + offset);
    }
    if (length < 0 || length > Integer.MAX_VALUE) {
      throw bad("$nd of " + length + " bytes exceeds the " + Integer.MAX_VALUE
          + " bytes an NDArray can hold");
    }
    ByteBuffer data = segments.resolve(name.asText(), at, length);
    if (data.remaining() != length) {
      throw bad("segment " + name.asText() + " gave " + data.remaining() + " bytes, not "
          + length);
    }
    return data;
  }

  private static ByteBuffer swapped(ByteBuffer bigEndian, int itemSize) {
    ByteBuffer out = ByteBuffer.allocate(bigEndian.remaining());
    for (int i = 0; i < bigEndian.remaining(); i += itemSize) {
      for (int k = 0; k < itemSize; k++) {
        out.put(i + k, bigEndian.get(bigEndian.position() + i + itemSize - 1 - k));
      }
    }
    return out;
  }

  private static ByteBuffer buffer(JsonNode ref, List<ByteBuffer> buffers, String tag)
      throws ProtocolException {
    JsonNode index = ref == null ? null : ref.get("buffer");
    if (index == null || !index.canConvertToInt() || !index.isIntegralNumber()
        || index.intValue() < 0 || index.intValue() >= buffers.size()) {
      throw bad(tag + " refers to buffer " + index + ", the frame has " + buffers.size());
    }
    return buffers.get(index.intValue());
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  private static ProtocolException bad(String message) {
    return new ProtocolException(ProtocolException.Code.BAD_VALUE, message);
  }
}
