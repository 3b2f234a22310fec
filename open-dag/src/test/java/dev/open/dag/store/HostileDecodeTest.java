package dev.open.dag.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;
import dev.open.dag.store.StandardCodecTest.Color;
import dev.open.dag.store.StandardCodecTest.Group;
import dev.open.dag.store.StandardCodecTest.Named;
import dev.open.dag.store.StandardCodecTest.Point;

/**
 * Decoding bytes that are not an encoding: truncated, bit-flipped, random, with huge length
 * prefixes or deep nesting. Either codec throws {@link IllegalArgumentException} and nothing
 * else, allocates nothing a length prefix alone asks for, and stops; when a damaged entry still
 * decodes, it is the canonical encoding of what it decodes to.
 */
class HostileDecodeTest {
  private static final StandardCodec STD = new StandardCodec();
  private static final NDArrayCodec ARRAYS = new NDArrayCodec();
  private static final int MAX_LENGTH = Integer.MAX_VALUE;

  static List<Object> samples() {
    return List.of(
        List.of(1, "héllo 😀", 2.5, Optional.of(Color.GREEN)),
        Map.of("k", Set.of(1L, -1L), "m", new Named("n", new byte[] {1, 2, 3})),
        new Group(List.of(new Point(1, 2, Double.NaN)), Set.of("a", "b"),
            Map.of(Instant.EPOCH, Duration.ofSeconds(-5, 7)), Optional.of(BigInteger.TEN.pow(40))),
        List.of(NDArray.of(new int[] {1, 2, 3, 4}, 2, 2), new boolean[] {true, false, true},
            new java.math.BigDecimal("-12.345"), java.time.LocalDate.of(2024, 2, 29)),
        new long[] {1, Long.MIN_VALUE},
        List.of(new ArrayList<>(List.of(1, "a")), new java.util.LinkedList<>(List.of(2)),
            new java.util.TreeMap<>(Map.of("b", 1, "a", 2)),
            new java.util.LinkedHashSet<>(List.of("z", "a")),
            new java.util.concurrent.ConcurrentHashMap<>(Map.of(1, 2, 3, 4)),
            java.util.Collections.unmodifiableSet(new java.util.TreeSet<>(Set.of(5, 4))),
            java.util.Arrays.asList(3, null)),
        "x");
  }

  static IntStream sampleIndexes() {
    return IntStream.range(0, samples().size());
  }

  @ParameterizedTest(name = "sample {0}")
  @MethodSource("sampleIndexes")
  void everyTruncationOfAStandardEncodingIsRefused(int index) {
    byte[] bytes = StandardCodecTest.encode(samples().get(index));
    for (int length = 0; length < bytes.length; length++) {
      byte[] prefix = java.util.Arrays.copyOf(bytes, length);
      int cut = length;
      assertThatThrownBy(() -> STD.decode(ByteBuffer.wrap(prefix)))
          .as("sample %d cut at %d of %d", index, cut, bytes.length)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void everyTruncationOfAnArrayEncodingIsRefused() {
    for (NDArray array : List.of(NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3),
        NDArray.allocate(DType.INT8), NDArray.allocate(DType.UINT16, 3, 0, 2))) {
      byte[] bytes = NDArrayCodecTest.bytes(NDArrayCodecTest.concat(ARRAYS.encode(array), false));
      for (int length = 0; length < bytes.length; length++) {
        ByteBuffer prefix = ByteBuffer.wrap(bytes, 0, length);
        int cut = length;
        assertThatThrownBy(() -> ARRAYS.decode(prefix))
            .as("%s cut at %d of %d", array, cut, bytes.length)
            .isInstanceOf(IllegalArgumentException.class);
      }
    }
  }

  /** Seeds 0 to 199, or as many as the system property {@code open.store.seeds} says. */
  static LongStream seeds() {
    return LongStream.range(0, Long.getLong("open.store.seeds", 200));
  }

  /** Flips 1 to 3 bits of an encoding; decoding throws IllegalArgumentException or is exact. */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void bitFlipsAreRefusedOrDecodeCanonically(long seed) {
    Random random = new Random(seed);
    Object value = new RandomValues(seed, 1, false).next();
    byte[] bytes = StandardCodecTest.encode(value);
    for (int trial = 0; trial < 20; trial++) {
      byte[] flipped = flip(bytes, random);
      Object decoded;
      try {
        decoded = STD.decode(ByteBuffer.wrap(flipped));
      } catch (IllegalArgumentException expected) {
        continue;
      } catch (RuntimeException | Error e) {
        throw new AssertionError("seed " + seed + " trial " + trial + ": "
            + HexFormat.of().formatHex(flipped), e);
      }
      assertThat(StandardCodecTest.encode(decoded))
          .as("seed %d trial %d: re-encoding what a damaged entry decoded to", seed, trial)
          .isEqualTo(flipped);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void bitFlipsInArrayEntriesAreRefusedOrDecodeCanonically(long seed) {
    Random random = new Random(seed);
    NDArray array = NDArrayCodecTest.random(DType.values()[random.nextInt(DType.values().length)],
        random.nextBoolean() ? NDArray.Order.C : NDArray.Order.F,
        random.ints(random.nextInt(4), 0, 4).toArray(), seed, random.nextBoolean());
    byte[] bytes = NDArrayCodecTest.bytes(NDArrayCodecTest.concat(ARRAYS.encode(array), false));
    for (int trial = 0; trial < 20; trial++) {
      byte[] flipped = flip(bytes, random);
      Object decoded;
      try {
        decoded = ARRAYS.decode(ByteBuffer.wrap(flipped));
      } catch (IllegalArgumentException expected) {
        continue;
      }
      assertThat(NDArrayCodecTest.bytes(NDArrayCodecTest.concat(ARRAYS.encode(decoded), false)))
          .as("seed %d trial %d", seed, trial).isEqualTo(flipped);
    }
  }

  /** Random bytes, mostly starting with a real tag; the same outcome as a damaged entry. */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void randomBytesAreRefusedOrDecodeCanonically(long seed) {
    Random random = new Random(seed);
    int[] tags = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x20, 0x21, 0x22, 0x23, 0x28, 0x30, 0x31,
        0x32, 0x33, 0x34, 0x38};
    for (int trial = 0; trial < 50; trial++) {
      byte[] bytes = new byte[random.nextInt(40)];
      random.nextBytes(bytes);
      if (bytes.length > 0 && random.nextInt(4) > 0) {
        bytes[0] = (byte) tags[random.nextInt(tags.length)];
      }
      Object decoded;
      try {
        decoded = STD.decode(ByteBuffer.wrap(bytes));
      } catch (IllegalArgumentException expected) {
        continue;
      } catch (RuntimeException | Error e) {
        throw new AssertionError("seed " + seed + ": " + HexFormat.of().formatHex(bytes), e);
      }
      assertThat(StandardCodecTest.encode(decoded)).as("seed %d trial %d", seed, trial)
          .isEqualTo(bytes);
    }
  }

  private static byte[] flip(byte[] bytes, Random random) {
    byte[] flipped = bytes.clone();
    for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
      int bit = random.nextInt(bytes.length * 8);
      flipped[bit / 8] ^= (byte) (1 << bit % 8);
    }
    return flipped;
  }

  /** Every tag with a length, with a length of 2^31 - 1 and 10 bytes after it. */
  @Test
  void hugeLengthPrefixesAreRefusedBeforeAnythingIsAllocated() {
    int[] tags = {StandardCodec.STRING, StandardCodec.BIG_INTEGER, StandardCodec.BYTES,
        StandardCodec.SHORTS, StandardCodec.INTS, StandardCodec.LONGS, StandardCodec.FLOATS,
        StandardCodec.DOUBLES, StandardCodec.BOOLEANS, StandardCodec.CHARS, StandardCodec.ENUM,
        StandardCodec.RECORD};
    List<byte[]> prefixes = new ArrayList<>();
    for (int tag : tags) {
      prefixes.add(new byte[] {(byte) tag});
    }
    for (int kind = 0; kind <= StandardCodec.UNMODIFIABLE_LIST; kind++) {
      prefixes.add(new byte[] {(byte) StandardCodec.LIST, (byte) kind});
    }
    for (int kind = 0; kind < StandardCodec.SET_MAP_KINDS; kind++) {
      prefixes.add(new byte[] {(byte) StandardCodec.SET, (byte) kind});
      prefixes.add(new byte[] {(byte) StandardCodec.MAP, (byte) kind});
    }
    for (byte[] prefix : prefixes) {
      byte[] bytes = bytes(prefix, varint(MAX_LENGTH), new byte[10]);
      assertRefusedQuickly(bytes, "needs");
      assertRefusedQuickly(bytes(StandardCodec.LIST, 0, 1, bytes), "needs");
      assertRefusedQuickly(bytes(prefix, varint(1L << 31), new byte[10]), "exceeds 2^31 - 1");
      assertRefusedQuickly(bytes(prefix, varint(-1L), new byte[10]), "exceeds 2^31 - 1");
    }
    assertRefusedQuickly(bytes(StandardCodec.BIG_DECIMAL, 0, varint(MAX_LENGTH), new byte[10]),
        "needs");
    assertRefusedQuickly(bytes(StandardCodec.ENUM, 1, 'A', varint(MAX_LENGTH), new byte[10]),
        "needs");
    assertRefusedQuickly(bytes(StandardCodec.RECORD, varint(Point.class.getName().length()),
        Point.class.getName().getBytes(java.nio.charset.StandardCharsets.UTF_8),
        varint(MAX_LENGTH), new byte[10]), "needs");
    // an array: 2^31 - 1 dimensions, or dimensions whose elements the bytes cannot hold
    assertRefusedQuickly(bytes(StandardCodec.NDARRAY, 'O', 'N', 'D', 'A', 1, 1, 'C', 0,
        0xff, 0xff, 0xff, 0x7f, new byte[10]), "dimensions do not fit");
    assertRefusedQuickly(bytes(StandardCodec.NDARRAY, 'O', 'N', 'D', 'A', 1, 1, 'C', 0,
        2, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, new byte[10]),
        "needs more than 2^63 - 2 bytes of elements"); // 8 × (2^31 - 1)^2
    byte[] header = {'O', 'N', 'D', 'A', 1, 1, 'C', 0, 1, 0, 0, 0, (byte) 0xff, (byte) 0xff,
        (byte) 0xff, 0x7f};
    assertThat(assertTimeoutPreemptively(Duration.ofSeconds(5), () -> catchArgument(
        () -> ARRAYS.decode(ByteBuffer.wrap(bytes(header, new byte[10]))))))
        .contains("needs 17179869176 bytes of elements, 10 follow the header");
  }

  private static void assertRefusedQuickly(byte[] bytes, String reason) {
    String message = assertTimeoutPreemptively(Duration.ofSeconds(5),
        () -> catchArgument(() -> STD.decode(ByteBuffer.wrap(bytes))));
    assertThat(message).as(HexFormat.of().formatHex(bytes)).contains(reason);
  }

  private static String catchArgument(Runnable decode) {
    try {
      decode.run();
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    throw new AssertionError("decoded");
  }

  @Test
  void deepNestingIsRefusedWithoutOverflowingTheStack() {
    for (int[] opening : new int[][] {{StandardCodec.LIST, StandardCodec.ARRAY_LIST, 1},
        {StandardCodec.SET, StandardCodec.HASH, 1}, {StandardCodec.SET, StandardCodec.TREE, 1},
        {StandardCodec.OPTIONAL}, {StandardCodec.MAP, StandardCodec.HASH, 1, StandardCodec.NULL},
        {StandardCodec.MAP, StandardCodec.LINKED_HASH, 1, StandardCodec.NULL}}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < 100_000; i++) {
        for (int b : opening) {
          out.write(b);
        }
      }
      out.write(StandardCodec.NULL);
      assertRefusedQuickly(out.toByteArray(), "containers nest deeper than 512");
    }
    // exactly 512 is fine
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < 512; i++) {
      out.write(StandardCodec.OPTIONAL);
    }
    out.write(StandardCodec.TRUE);
    assertThat(STD.decode(ByteBuffer.wrap(out.toByteArray()))).isInstanceOf(Optional.class);
  }

  @Test
  void nonCanonicalEncodingsAreRefused() {
    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("", "the bytes end in the middle of a value");
    refused.put("0000", "1 bytes follow the value");
    refused.put("0d", "unknown tag 0xd");
    refused.put("ff", "unknown tag 0xff");
    refused.put("058000", "a varint is not minimal");
    refused.put("06ffffffffffffffffff02", "a varint exceeds 64 bits");
    refused.put("06ffffffffffffffffffff01", "a varint exceeds 64 bits");
    refused.put("058080808010", "an int's varint exceeds 32 bits");
    refused.put("0b00", "a BigInteger of no bytes");
    refused.put("0b020001", "not minimal");
    refused.put("0b02ffff", "not minimal");
    refused.put("0c808080801001ff", "scale 2147483648 exceeds an int"); // zigzag 2^32
    refused.put("160103", "unused bits are not 0");
    refused.put("1609ff02", "unused bits are not 0");
    refused.put("0a02c080", "malformed UTF-8");
    refused.put("0a03eda080", "malformed UTF-8");
    refused.put("0a01ff", "malformed UTF-8");
    refused.put("3400", "an Optional holds null");
    refused.put("3005", "unknown list kind 0x5");
    refused.put("30ff", "unknown list kind 0xff");
    refused.put("3107", "unknown set kind 0x7");
    refused.put("3280", "unknown map kind 0x80");
    refused.put("30", "the bytes end in the middle of a value");
    for (String kind : List.of("00", "03", "04")) { // sorted by encoding
      refused.put("31" + kind + "02" + "0a0162" + "0a0161", "not in strictly increasing order");
      refused.put("31" + kind + "02" + "0a0161" + "0a0161", "not in strictly increasing order");
      refused.put("31" + kind + "02" + "08010000000000f87f" + "08020000000000f87f",
          "decode to equal values");
      refused.put("32" + kind + "02" + "0a0162" + "00" + "0a0161" + "00",
          "not in strictly increasing order");
      refused.put("32" + kind + "02" + "0a0161" + "00" + "0a0161" + "02",
          "not in strictly increasing order");
    }
    for (String kind : List.of("01", "05")) { // in iteration order
      refused.put("31" + kind + "02" + "0a0161" + "0a0161", "decode to equal values");
      refused.put("32" + kind + "02" + "0a0161" + "00" + "0a0161" + "02",
          "decode to equal values");
    }
    for (String kind : List.of("02", "06")) { // in natural order
      refused.put("31" + kind + "02" + "0a0162" + "0a0161", "strictly increasing natural order");
      refused.put("31" + kind + "02" + "0a0161" + "0a0161", "strictly increasing natural order");
      refused.put("32" + kind + "02" + "0a0162" + "00" + "0a0161" + "00",
          "strictly increasing natural order");
      refused.put("32" + kind + "02" + "0a0161" + "00" + "0a0161" + "00",
          "strictly increasing natural order");
      refused.put("31" + kind + "01" + "00", "no natural order");
      refused.put("31" + kind + "01" + "300000", "no natural order"); // a list: not Comparable
      refused.put("31" + kind + "02" + "0502" + "0a0161", "no natural order");
      refused.put("32" + kind + "01" + "00" + "00", "no natural order");
    }
    refused.put("3103" + "01" + "00", "holds null");
    refused.put("3203" + "01" + "00" + "0502", "holds null");
    refused.put("3203" + "01" + "0502" + "00", "holds null");
    refused.put("2100" + "8094ebdc03", "a nanosecond of 1000000000");
    refused.put("21feffffffffffffffff0100", "an Instant out of range");
    refused.put("23feffffffffffffffff01", "a LocalDate out of range");
    refused.put("28" + "4f4e4441" + "02", "a bad NDArray: not an open.ndarray.v1 entry");
    for (Map.Entry<String, String> entry : refused.entrySet()) {
      byte[] bytes = HexFormat.of().parseHex(entry.getKey());
      assertThatThrownBy(() -> STD.decode(ByteBuffer.wrap(bytes))).as(entry.getKey())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("not an open.std.v2 entry: ")
          .hasMessageContaining(entry.getValue());
    }
  }

  private static byte[] varint(long value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((value & ~0x7FL) != 0) {
      out.write((int) (value & 0x7F | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
    return out.toByteArray();
  }

  /** Concatenates ints (as bytes), chars (as bytes) and byte arrays. */
  private static byte[] bytes(Object... pieces) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object piece : pieces) {
      switch (piece) {
        case Integer i -> out.write(i);
        case Character c -> out.write(c);
        case byte[] b -> out.writeBytes(b);
        default -> throw new IllegalArgumentException(String.valueOf(piece));
      }
    }
    return out.toByteArray();
  }
}
