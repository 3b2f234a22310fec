package dev.open.dag.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

class StandardCodecTest {
  static final StandardCodec CODEC = new StandardCodec();

  enum Color {
    RED,
    GREEN {
      @Override
      public String toString() {
        return "green, with a body";
      }
    },
    BLUE
  }

  record Point(int x, long y, double z) {}

  record Named(String name, Object value) {}

  record Pair<A, B>(A first, B second) {}

  record Group(List<Object> items, Set<Object> tags, Map<Object, Object> index,
      Optional<Object> extra) {}

  record Empty() {}

  record Everything(boolean z, byte b, short s, char c, int i, long l, float f, double d,
      Collection<Object> things, Iterable<Object> more, Object any, Color color) {}

  record Concrete(ArrayList<Object> items, TreeMap<String, Integer> sorted,
      LinkedHashSet<Object> tags) {}

  /** A component declared a class that decoding does not rebuild (Set.of's is one, decoded not). */
  record Abstract(java.util.AbstractCollection<?> items) {
    /** Set.of's class is an AbstractCollection; what it decodes to is not. */
    static Abstract ofSet() {
      return new Abstract((java.util.AbstractCollection<?>) (Collection<?>) Set.of(1, 2));
    }
  }

  record Checked(int positive) {
    Checked {
      if (positive <= 0) {
        throw new IllegalArgumentException("not positive: " + positive);
      }
    }
  }

  record Throwing(int x) {
    @Override
    public int x() {
      throw new IllegalStateException("no x today");
    }
  }

  static byte[] encode(Object value) {
    List<ByteBuffer> parts = CODEC.encode(value);
    assertThat(parts).hasSize(1);
    return NDArrayCodecTest.bytes(parts.get(0));
  }

  static Object decode(byte[] bytes) {
    return CODEC.decode(ByteBuffer.wrap(bytes));
  }

  static String hex(Object value) {
    return HexFormat.of().formatHex(encode(value));
  }

  /**
   * Encodes, checks canEncode, decodes from a heap and a direct buffer, checks that encoding the
   * decoded value gives the same bytes, and returns it.
   */
  static Object roundTrip(Object value) {
    assertThat(CODEC.canEncode(value)).as("canEncode %s", value).isTrue();
    byte[] bytes = encode(value);
    Object decoded = decode(bytes);
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    Object fromDirect = CODEC.decode(direct);
    assertThat(encode(decoded)).as("re-encoding %s", value).isEqualTo(bytes);
    assertThat(encode(fromDirect)).isEqualTo(bytes);
    return decoded;
  }

  static void assertRoundTripsEqual(Object value) {
    Object decoded = roundTrip(value);
    assertThat(decoded).isEqualTo(value);
    if (value != null) {
      assertThat(value).isEqualTo(decoded);
    }
  }

  @Test
  void roundTripsScalarsWithTheirEdgeValues() {
    List<Object> values = Arrays.asList(null, true, false, (byte) 0, Byte.MIN_VALUE,
        Byte.MAX_VALUE, (short) 0, Short.MIN_VALUE, Short.MAX_VALUE, 0, 1, -1, 63, 64, -64, -65,
        Integer.MIN_VALUE, Integer.MAX_VALUE, 0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE,
        1L << 62, 0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN,
        Float.NEGATIVE_INFINITY, 0d, -0d, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
        Double.POSITIVE_INFINITY, 'a', '\0', '\uffff', '\ud800', '\udfff', "", "a", "héllo",
        "日本語", "😀 surrogate pair 𝄞", "\0 nul inside", "x".repeat(100_000),
        BigInteger.ZERO, BigInteger.ONE, BigInteger.ONE.negate(), BigInteger.valueOf(255),
        BigInteger.valueOf(-256), BigInteger.valueOf(Long.MIN_VALUE).subtract(BigInteger.ONE),
        BigInteger.TWO.pow(100_000).negate().add(BigInteger.valueOf(12345)),
        BigDecimal.ZERO, new BigDecimal("1.50"), new BigDecimal("1.5"), new BigDecimal("-0.000"),
        new BigDecimal("1E+1000"), new BigDecimal(BigInteger.TEN.pow(500), Integer.MIN_VALUE),
        new BigDecimal(BigInteger.ONE, Integer.MAX_VALUE), Color.RED, Color.GREEN, Color.BLUE,
        DType.BOOL, Instant.EPOCH, Instant.MIN, Instant.MAX, Instant.ofEpochSecond(-1, 1),
        Instant.parse("2026-12-07T03:26:39.123456789Z"), Duration.ZERO, Duration.ofNanos(-1),
        Duration.ofSeconds(Long.MIN_VALUE), Duration.ofSeconds(Long.MAX_VALUE, 999_999_999),
        LocalDate.MIN, LocalDate.MAX, LocalDate.EPOCH, LocalDate.of(2024, 2, 29));
    for (Object value : values) {
      assertRoundTripsEqual(value);
      if (value != null) {
        assertThat(roundTrip(value)).as("%s", value).isExactlyInstanceOf(value.getClass());
      }
    }
    assertThat(roundTrip(Color.GREEN)).isSameAs(Color.GREEN);
  }

  @Test
  void keepsFloatsAndDoublesBitForBit() {
    long[] doubleBits = {0x7ff8_0000_0000_1234L, 0xfff8_0000_0000_0001L, 0x7ff0_0000_0000_0001L,
        0x8000_0000_0000_0000L, 0x0000_0000_0000_0001L};
    for (long bits : doubleBits) {
      Object decoded = roundTrip(Double.longBitsToDouble(bits));
      assertThat(Double.doubleToRawLongBits((Double) decoded)).isEqualTo(bits);
      double[] array = (double[]) roundTrip(new double[] {Double.longBitsToDouble(bits)});
      assertThat(Double.doubleToRawLongBits(array[0])).isEqualTo(bits);
    }
    int[] floatBits = {0x7fc0_1234, 0xffc0_0001, 0x8000_0000, 0x0000_0001};
    for (int bits : floatBits) {
      Object decoded = roundTrip(Float.intBitsToFloat(bits));
      assertThat(Float.floatToRawIntBits((Float) decoded)).isEqualTo(bits);
      float[] array = (float[]) roundTrip(new float[] {Float.intBitsToFloat(bits)});
      assertThat(Float.floatToRawIntBits(array[0])).isEqualTo(bits);
    }
    assertThat(hex(-0.0)).isNotEqualTo(hex(0.0));
  }

  @Test
  void roundTripsArraysOfPrimitives() {
    assertThat((byte[]) roundTrip(new byte[] {})).isEmpty();
    assertThat((byte[]) roundTrip(new byte[] {1, -1, 0, 127, -128})).containsExactly(1, -1, 0, 127,
        -128);
    assertThat((short[]) roundTrip(new short[] {Short.MIN_VALUE, 0, Short.MAX_VALUE}))
        .containsExactly(Short.MIN_VALUE, (short) 0, Short.MAX_VALUE);
    assertThat((int[]) roundTrip(new int[] {Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE}))
        .containsExactly(Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE);
    assertThat((long[]) roundTrip(new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE}))
        .containsExactly(Long.MIN_VALUE, 0, Long.MAX_VALUE);
    assertThat((float[]) roundTrip(new float[] {1.5f, -0f, Float.NaN}))
        .containsExactly(1.5f, -0f, Float.NaN);
    assertThat((double[]) roundTrip(new double[] {1.5, -0d, Double.NEGATIVE_INFINITY}))
        .containsExactly(1.5, -0d, Double.NEGATIVE_INFINITY);
    assertThat((char[]) roundTrip("a\ud800é😀".toCharArray())).containsExactly(
        "a\ud800é😀".toCharArray());
    for (int n = 0; n <= 17; n++) {
      boolean[] bits = new boolean[n];
      for (int i = 0; i < n; i++) {
        bits[i] = i % 3 == 0;
      }
      assertThat((boolean[]) roundTrip(bits)).containsExactly(bits);
    }
    int[] big = new int[1_000_000];
    Arrays.setAll(big, i -> i * 31);
    assertThat((int[]) roundTrip(big)).isEqualTo(big);
    assertThat((long[]) roundTrip(new long[0])).isEmpty();
  }

  @Test
  @SuppressWarnings("unchecked")
  void roundTripsCollectionsAsTheSameClassesWithNulls() {
    List<Object> withNull = new ArrayList<>(Arrays.asList(1, null, "x"));
    Object list = roundTrip(withNull);
    assertThat(list).isEqualTo(withNull).isExactlyInstanceOf(ArrayList.class);
    ((List<Object>) list).add("mutable");

    Object unmodifiable = roundTrip(Collections.unmodifiableList(withNull));
    assertThat(unmodifiable).isEqualTo(withNull);
    assertThatThrownBy(() -> ((List<?>) unmodifiable).clear())
        .isInstanceOf(UnsupportedOperationException.class);

    Set<Object> set = new HashSet<>(Arrays.asList("b", null, "a", 3));
    Object decodedSet = roundTrip(set);
    assertThat(decodedSet).isEqualTo(set).isExactlyInstanceOf(HashSet.class);
    ((Set<Object>) decodedSet).add("c");

    Map<Object, Object> map = new HashMap<>();
    map.put(null, "null key");
    map.put("null value", null);
    map.put(List.of(1, 2), Map.of("nested", Set.of(1.5)));
    map.put(7L, Optional.of(Optional.empty()));
    Object decodedMap = roundTrip(map);
    assertThat(decodedMap).isEqualTo(map).isExactlyInstanceOf(HashMap.class);
    ((Map<Object, Object>) decodedMap).put("k", "v");
    Object unmodifiableMap = roundTrip(Collections.unmodifiableMap(map));
    assertThat(unmodifiableMap).isEqualTo(map);
    assertThatThrownBy(() -> ((Map<Object, Object>) unmodifiableMap).put("k", "v"))
        .isInstanceOf(UnsupportedOperationException.class);

    assertRoundTripsEqual(List.of());
    assertRoundTripsEqual(Set.of());
    assertRoundTripsEqual(Map.of());
    assertRoundTripsEqual(Optional.empty());
    assertRoundTripsEqual(Optional.of(List.of(Optional.of("deep"))));
    assertRoundTripsEqual(List.of(List.of(List.of()), Map.of(List.of(), Set.of(Set.of()))));
  }

  @Test
  @SuppressWarnings("unchecked")
  void orderedSetsAndMapsKeepTheirOrderUnorderedOnesDecodeInEncodedOrder() {
    Object set = roundTrip(new LinkedHashSet<>(List.of("c", "a", "b")));
    assertThat((Set<Object>) set).containsExactly("c", "a", "b");
    LinkedHashMap<Object, Object> linked = new LinkedHashMap<>();
    linked.put(3, "c");
    linked.put(1, "a");
    linked.put(2, "b");
    Object map = roundTrip(linked);
    assertThat(((Map<Object, Object>) map).keySet()).containsExactly(3, 1, 2);
    Object sequenced = roundTrip(Collections.unmodifiableMap(linked));
    assertThat(((Map<Object, Object>) sequenced).keySet()).containsExactly(3, 1, 2);
    assertThat(encode(Map.copyOf(linked)))
        .isEqualTo(encode(Collections.unmodifiableMap(new HashMap<>(linked))))
        .isNotEqualTo(encode(Collections.unmodifiableMap(linked)));
  }

  @Test
  void roundTripsRecords() {
    assertRoundTripsEqual(new Point(1, -2, 0.5));
    assertRoundTripsEqual(new Empty());
    assertRoundTripsEqual(new Named("n", null));
    assertRoundTripsEqual(new Named("n", new Named("inner", List.of(new Empty()))));
    assertRoundTripsEqual(new Pair<>(Color.GREEN, new Pair<>(1, Optional.of("x"))));
    assertRoundTripsEqual(new Group(new ArrayList<>(List.of(1, "a")), new HashSet<>(Set.of(2)),
        new TreeMap<>(Map.of("k", new Point(0, 0, -0.0))), Optional.empty()));
    assertRoundTripsEqual(new Everything(true, (byte) 1, (short) 2, 'c', 3, 4L, 5f, 6d,
        new ArrayList<>(List.of(1)), new LinkedHashSet<>(Set.of(2)), Map.of(), Color.BLUE));
    assertRoundTripsEqual(new Checked(5));
    Concrete concrete = new Concrete(new ArrayList<>(List.of(1)), new TreeMap<>(Map.of("b", 2,
        "a", 1)), new LinkedHashSet<>(List.of("z", "y")));
    assertRoundTripsEqual(concrete);
    Concrete decoded = (Concrete) roundTrip(concrete);
    assertThat(decoded.tags()).containsExactly("z", "y");
    decoded.items().add(2);
    record Local(String s, NDArray a) {}
    Local local = new Local("local", NDArray.of(new double[] {1, 2}));
    assertRoundTripsEqual(local);
  }

  @Test
  void roundTripsNDArraysInsideOtherValues() {
    NDArray c = NDArray.of(new int[] {1, 2, 3, 4, 5, 6}, 2, 3);
    NDArray f = NDArray.wrap(ByteBuffer.allocate(6), DType.UINT16, NDArray.Order.F, 1, 3);
    NDArray scalar = NDArray.allocate(DType.FLOAT32);
    NDArray empty = NDArray.allocate(DType.INT8, 0, 4);
    assertRoundTripsEqual(List.of(c, f, scalar, empty));
    assertRoundTripsEqual(Set.of(c, f));
    assertRoundTripsEqual(Map.of(c, new Named("array", f)));
    assertRoundTripsEqual(c);

    // inline, from a direct buffer, the array is a view of the buffer
    byte[] bytes = encode(List.of("x", c));
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    NDArray decoded = (NDArray) ((List<?>) CODEC.decode(direct)).get(1);
    assertThat(decoded.isDirect()).isTrue();
    direct.put(bytes.length - 4, (byte) 99);
    assertThat(decoded.toIntArray()[5]).isEqualTo(99);
    // from a heap buffer, a direct copy
    NDArray copied = (NDArray) ((List<?>) decode(bytes)).get(1);
    assertThat(copied.isDirect()).isTrue();
    assertThat(copied).isEqualTo(c);
  }

  @Test
  void writesTheDocumentedBytes() {
    assertThat(hex(null)).isEqualTo("00");
    assertThat(hex(false)).isEqualTo("01");
    assertThat(hex(true)).isEqualTo("02");
    assertThat(hex((byte) -1)).isEqualTo("03ff");
    assertThat(hex((short) 0x1234)).isEqualTo("043412");
    assertThat(hex(0)).isEqualTo("0500");
    assertThat(hex(-1)).isEqualTo("0501");
    assertThat(hex(1)).isEqualTo("0502");
    assertThat(hex(64)).isEqualTo("058001");
    assertThat(hex(Integer.MIN_VALUE)).isEqualTo("05ffffffff0f");
    assertThat(hex(1L)).isEqualTo("0602");
    assertThat(hex(Long.MIN_VALUE)).isEqualTo("06ffffffffffffffffff01");
    assertThat(hex(1.0f)).isEqualTo("070000803f");
    assertThat(hex(-0.0)).isEqualTo("080000000000000080");
    assertThat(hex('A')).isEqualTo("094100");
    assertThat(hex("é")).isEqualTo("0a02c3a9");
    assertThat(hex("")).isEqualTo("0a00");
    assertThat(hex(BigInteger.valueOf(255))).isEqualTo("0b0200ff");
    assertThat(hex(BigInteger.valueOf(-1))).isEqualTo("0b01ff");
    assertThat(hex(new BigDecimal("1.50"))).isEqualTo("0c04" + "020096");
    assertThat(hex(new BigDecimal("-1E+3"))).isEqualTo("0c05" + "01ff");
    assertThat(hex(new byte[] {1, 2})).isEqualTo("10020102");
    assertThat(hex(new short[] {1})).isEqualTo("11010100");
    assertThat(hex(new int[] {1})).isEqualTo("120101000000");
    assertThat(hex(new long[] {-2})).isEqualTo("1301feffffffffffffff");
    assertThat(hex(new float[] {1})).isEqualTo("14010000803f");
    assertThat(hex(new double[] {1})).isEqualTo("1501000000000000f03f");
    assertThat(hex(new boolean[] {true, false, true})).isEqualTo("160305");
    assertThat(hex(new boolean[] {true, true, true, true, true, true, true, true, false, true}))
        .isEqualTo("160aff02");
    assertThat(hex(new char[] {'a'})).isEqualTo("17016100");
    assertThat(hex(DType.BOOL)).isEqualTo("20" + "18" + hexOf("dev.open.dag.array.DType") + "04"
        + hexOf("BOOL"));
    assertThat(hex(Instant.ofEpochSecond(1, 5))).isEqualTo("210205");
    assertThat(hex(Instant.ofEpochSecond(-1, 999_999_999))).isEqualTo("2101ff93ebdc03");
    assertThat(hex(Duration.ofMillis(-1))).isEqualTo("2201c08faedc03");
    assertThat(hex(LocalDate.of(1970, 1, 2))).isEqualTo("2302");
    assertThat(hex(LocalDate.of(1969, 12, 31))).isEqualTo("2301");
    assertThat(hex(NDArray.of(new byte[] {7}))).isEqualTo("28" + "4f4e4441010a4300" + "01000000"
        + "01000000" + "07");
    assertThat(hex(List.of(1, "a"))).isEqualTo("30" + "04" + "02" + "0502" + "0a0161");
    assertThat(hex(new ArrayList<>(List.of(1)))).isEqualTo("30" + "00" + "01" + "0502");
    assertThat(hex(new LinkedList<>(List.of(1)))).isEqualTo("30" + "01" + "01" + "0502");
    assertThat(hex(new CopyOnWriteArrayList<>(List.of(1)))).isEqualTo("30" + "02" + "01" + "0502");
    assertThat(hex(Arrays.asList(1))).isEqualTo("30" + "03" + "01" + "0502");
    assertThat(hex(Set.of("b", "a"))).isEqualTo("31" + "04" + "02" + "0a0161" + "0a0162");
    assertThat(hex(new HashSet<>(Set.of("b", "a")))).isEqualTo("31" + "00" + "02" + "0a0161"
        + "0a0162");
    assertThat(hex(new LinkedHashSet<>(List.of("b", "a")))).isEqualTo("31" + "01" + "02"
        + "0a0162" + "0a0161");
    assertThat(hex(new TreeSet<>(Set.of("b", "a")))).isEqualTo("31" + "02" + "02" + "0a0161"
        + "0a0162");
    Set<Object> keySet = ConcurrentHashMap.newKeySet();
    keySet.addAll(List.of("b", "a"));
    assertThat(hex(keySet)).isEqualTo("31" + "03" + "02" + "0a0161" + "0a0162");
    assertThat(hex(Collections.unmodifiableSequencedSet(new LinkedHashSet<>(List.of("b", "a")))))
        .isEqualTo("31" + "05" + "02" + "0a0162" + "0a0161");
    assertThat(hex(Collections.unmodifiableSet(new TreeSet<>(Set.of("b", "a")))))
        .isEqualTo("31" + "06" + "02" + "0a0161" + "0a0162");
    assertThat(hex(Map.of("b", 1, "a", 2))).isEqualTo("32" + "04" + "02" + "0a0161" + "0504"
        + "0a0162" + "0502");
    LinkedHashMap<Object, Object> linked = new LinkedHashMap<>();
    linked.put("b", 1);
    linked.put("a", 2);
    assertThat(hex(linked)).isEqualTo("32" + "01" + "02" + "0a0162" + "0502" + "0a0161" + "0504");
    assertThat(hex(new HashMap<>(linked))).isEqualTo("32" + "00" + "02" + "0a0161" + "0504"
        + "0a0162" + "0502");
    assertThat(hex(new TreeMap<>(linked))).isEqualTo("32" + "02" + "02" + "0a0161" + "0504"
        + "0a0162" + "0502");
    assertThat(hex(new ConcurrentHashMap<>(linked))).isEqualTo("32" + "03" + "02" + "0a0161"
        + "0504" + "0a0162" + "0502");
    assertThat(hex(Optional.empty())).isEqualTo("33");
    assertThat(hex(Optional.of(true))).isEqualTo("3402");
    String point = Point.class.getName();
    assertThat(hex(new Point(1, 2, 0))).isEqualTo("38" + String.format("%02x", point.length())
        + hexOf(point) + "03" + "0502" + "0604" + "080000000000000000");
  }

  private static String hexOf(String s) {
    return HexFormat.of().formatHex(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void equalValuesOfTheSameClassBuiltDifferentlyEncodeAlike() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      keys.add("key-" + i * 7919);
    }
    List<String> reversed = new ArrayList<>(keys);
    Collections.reverse(reversed);
    List<String> shuffled = new ArrayList<>(keys);
    Collections.shuffle(shuffled, new java.util.Random(42));
    Map<Object, Object> hash = new HashMap<>();
    Map<Object, Object> hash2 = new HashMap<>(4096);
    Map<Object, Object> linked = new LinkedHashMap<>();
    Map<Object, Object> tree = new TreeMap<>();
    Map<Object, Object> tree2 = new TreeMap<>();
    Map<Object, Object> concurrent = new ConcurrentHashMap<>();
    Map<Object, Object> concurrent2 = new ConcurrentHashMap<>(4096);
    keys.forEach(k -> hash.put(k, k.length()));
    shuffled.forEach(k -> hash2.put(k, k.length()));
    reversed.forEach(k -> linked.put(k, k.length()));
    shuffled.forEach(k -> tree.put(k, k.length()));
    reversed.forEach(k -> tree2.put(k, k.length()));
    shuffled.forEach(k -> concurrent.put(k, k.length()));
    keys.forEach(k -> concurrent2.put(k, k.length()));
    assertThat(List.copyOf(hash.keySet())).isNotEqualTo(List.copyOf(hash2.keySet()));
    byte[] bytes = encode(hash);
    assertThat(encode(hash2)).isEqualTo(bytes);
    assertThat(encode(tree2)).isEqualTo(encode(tree)).isNotEqualTo(bytes);
    assertThat(encode(concurrent2)).isEqualTo(encode(concurrent)).isNotEqualTo(bytes);
    // Map.of's order varies from run to run: sorted like a HashMap's, whatever wraps it
    assertThat(encode(Map.copyOf(hash))).isEqualTo(encode(Collections.unmodifiableMap(hash2)))
        .isEqualTo(encode(Collections.unmodifiableMap(concurrent)));
    // a LinkedHashMap's order is part of its value
    assertThat(encode(linked)).isNotEqualTo(bytes).isEqualTo(encode(new LinkedHashMap<>(linked)));
    Map<Object, Object> linked2 = new LinkedHashMap<>();
    keys.forEach(k -> linked2.put(k, k.length()));
    assertThat(linked2).isEqualTo(linked);
    assertThat(encode(linked2)).isNotEqualTo(encode(linked));

    Set<Object> small = new HashSet<>(2);
    Set<Object> large = new HashSet<>(4096);
    shuffled.forEach(small::add);
    keys.forEach(large::add);
    assertThat(List.copyOf(small)).isNotEqualTo(List.copyOf(large));
    byte[] setBytes = encode(small);
    assertThat(encode(large)).isEqualTo(setBytes);
    assertThat(encode(new TreeSet<>(keys))).isEqualTo(encode(new TreeSet<>(shuffled)));
    assertThat(encode(Set.copyOf(keys))).isEqualTo(encode(Collections.unmodifiableSet(small)));
    assertThat(encode(new LinkedHashSet<>(keys))).isNotEqualTo(encode(new LinkedHashSet<>(
        shuffled)));

    List<Object> arrayList = new ArrayList<>(List.of(1, "a", List.of(2.5)));
    byte[] listBytes = encode(arrayList);
    assertThat(encode(new ArrayList<>(arrayList))).isEqualTo(listBytes);
    assertThat(encode(new LinkedList<>(arrayList))).isNotEqualTo(listBytes);
    assertThat(encode(List.of(1, "a", List.of(2.5))))
        .isEqualTo(encode(Collections.unmodifiableList(new LinkedList<>(arrayList))))
        .isEqualTo(encode(Collections.unmodifiableList(arrayList)))
        .isEqualTo(encode(java.util.stream.Stream.of(1, "a", List.of(2.5)).toList()));
    assertThat(encode(new Group(arrayList, small, hash, Optional.of(tree))))
        .isEqualTo(encode(new Group(new ArrayList<>(arrayList), large, hash2,
            Optional.of(tree2))));
    assertThat(encode(new String("abc"))).isEqualTo(encode("abc"));
    assertThat(encode(new BigDecimal("1.50"))).isNotEqualTo(encode(new BigDecimal("1.5")));
  }

  @Test
  void refusesWhatItCannotEncodeSayingWhere() {
    List<Object> cyclic = new ArrayList<>();
    cyclic.add(1);
    cyclic.add(cyclic);
    List<Object> branching = new ArrayList<>();
    branching.add(branching);
    branching.add(branching); // a naive walk would visit 2^512 nodes
    Map<Object, Object> cyclicMap = new HashMap<>();
    cyclicMap.put("self", cyclicMap);
    IdentityHashMap<Object, Object> identity = new IdentityHashMap<>();
    identity.put(new String("a"), 1);
    identity.put(new String("a"), 2);
    Set<Object> identitySet = Collections.newSetFromMap(new IdentityHashMap<>());
    identitySet.add(new String("a"));
    identitySet.add(new String("a"));
    Set<Object> arraySet = new HashSet<>(List.of(new int[] {1}, new int[] {1}));

    Map<Object, String> refused = new IdentityHashMap<>(); // cyclic values cannot be hashed
    refused.put(new Object(), "the value: a java.lang.Object is none of the types");
    refused.put(Thread.currentThread(), "a java.lang.Thread is none");
    refused.put((Runnable) () -> { }, "is none of the types");
    refused.put(new StringBuilder("x"), "java.lang.StringBuilder");
    refused.put(Optional.of(new Object()), "the value at .get(): a java.lang.Object");
    refused.put(new ArrayDeque<>(List.of(1)), "java.util.ArrayDeque");
    refused.put(LocalDateTime.of(2020, 1, 1, 0, 0), "java.time.LocalDateTime");
    refused.put(new String[] {"a"}, "[Ljava.lang.String;");
    refused.put(new Integer[] {1}, "[Ljava.lang.Integer;");
    refused.put("bad \ud800 string", "an unpaired surrogate at index 4");
    refused.put(List.of("ok", "\udc00"), "the value at [1]: the string has an unpaired surrogate");
    refused.put(new BigInteger("5") { }, "is none of the types");
    refused.put(Abstract.ofSet(), "the value at .items(): the "
        + "component is declared java.util.AbstractCollection");
    refused.put(new Concrete(new ArrayList<>(), new TreeMap<>(String.CASE_INSENSITIVE_ORDER),
        new LinkedHashSet<>()), "the value at .sorted(): a java.util.TreeMap with a comparator");
    refused.put(new TreeSet<>(Comparator.reverseOrder()), "java.util.TreeSet with a comparator");
    refused.put(Collections.unmodifiableMap(new TreeMap<>(String.CASE_INSENSITIVE_ORDER)),
        "java.util.Collections$UnmodifiableMap is not a collection");
    refused.put(Collections.unmodifiableSortedSet(new TreeSet<>()), "UnmodifiableSortedSet");
    refused.put(new ArrayList<Object>() { }, "is not a collection open.std.v2 can decode");
    refused.put(new HashMap<>(Map.of(1, 2)).keySet(), "java.util.HashMap$KeySet");
    refused.put(new ConcurrentHashMap<>(Map.of(1, 2)).keySet(), "KeySetView");
    refused.put(new ArrayList<>(List.of(1, 2)).subList(0, 1), "SubList");
    refused.put(Collections.synchronizedList(new ArrayList<>()), "SynchronizedRandomAccessList");
    refused.put(new Throwing(1), "at .x(): its accessor threw java.lang.IllegalStateException");
    refused.put(new Named("n", List.of(Map.of("k", Optional.of(new Object())))),
        "the value at .value()[0]{value 0}.get(): a java.lang.Object");
    refused.put(Map.of(new Object(), 1), "the value at {key 0}: a java.lang.Object");
    refused.put(Set.of(1, new Object()), ": a java.lang.Object");
    refused.put(cyclic, "the value at [1][1][1]");
    refused.put(branching, "containers nest deeper than 512 (or the value is cyclic)");
    refused.put(cyclicMap, "nest deeper than 512");
    refused.put(nested(513), "nest deeper than 512");
    refused.put(identity, "java.util.IdentityHashMap is not a collection");
    refused.put(identitySet, "java.util.Collections$SetFromMap is not a collection");
    refused.put(arraySet, "two of the set's elements encode alike");
    refused.put(new LinkedHashSet<>(arraySet), "two of the set's elements encode alike");
    Map<Object, Object> arrayKeys = new LinkedHashMap<>();
    arrayKeys.put(new int[] {1}, 1);
    arrayKeys.put(new int[] {1}, 2);
    refused.put(arrayKeys, "two of the map's keys encode alike");
    for (Map.Entry<Object, String> entry : refused.entrySet()) {
      Object value = entry.getKey();
      assertThat(CODEC.canEncode(value)).as("canEncode %s", entry.getValue()).isFalse();
      assertThatThrownBy(() -> CODEC.encode(value)).as("encode %s", entry.getValue())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("open.std.v2 cannot encode ")
          .hasMessageContaining(entry.getValue());
    }
  }

  /** Records of the JDK's own that it does not open to dev.open.dag (which ones varies by JDK). */
  @Test
  void refusesRecordsItMayNotReflectOn() {
    List<Object> closed = List.of(java.util.stream.Collectors.toList(),
        java.lang.constant.ModuleDesc.of("some.module"));
    int tried = 0;
    for (Object record : closed) {
      if (!record.getClass().isRecord()) {
        continue; // not a record on this JDK
      }
      tried++;
      assertThat(CODEC.canEncode(record)).as("%s", record.getClass()).isFalse();
      assertThat(CODEC.canEncode(List.of(Optional.of(record)))).isFalse();
      assertThatThrownBy(() -> CODEC.encode(List.of(record)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("the value at [0]: the accessor ")
          .hasMessageContaining("of record " + record.getClass().getName()
              + " is not accessible to module dev.open.dag (export or open its package to it)");
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(tried > 0, "no closed JDK record on this JDK");
  }

  @Test
  void nestsContainersUpTo512Deep() {
    assertThat(CODEC.canEncode(nested(512))).isTrue();
    assertRoundTripsEqual(nested(512));
    assertThat(CODEC.canEncode(nested(513))).isFalse();
    Object optionals = "x";
    for (int i = 0; i < 512; i++) {
      optionals = Optional.of(optionals);
    }
    assertRoundTripsEqual(optionals);
    assertThat(CODEC.canEncode(List.of(optionals))).isFalse();
    Object records = null;
    for (int i = 0; i < 512; i++) {
      records = new Named("level " + i, records);
    }
    assertRoundTripsEqual(records);
    assertThat(CODEC.canEncode(new Named("one more", records))).isFalse();
  }

  /** Returns {@code depth} lists nested in one another, the innermost holding 1. */
  static Object nested(int depth) {
    Object value = 1;
    for (int i = 0; i < depth; i++) {
      value = List.of(value);
    }
    return value;
  }

  @Test
  void decodingChecksRecordClasses() {
    byte[] point = encode(new Point(1, 2, 3));
    String name = Point.class.getName();

    assertThatThrownBy(() -> decode(replace(point, name, "dev.open.dag.store.NoSuchPoint")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot load class dev.open.dag.store.NoSuchPoint");
    assertThatThrownBy(() -> decode(replace(point, name, "java.lang.String")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.lang.String is not a record class");
    byte[] pair = encode(new Pair<>(1, 2));
    assertThatThrownBy(() -> decode(replace(pair, Pair.class.getName(), Empty.class.getName())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has 0 components, the entry 2");
    assertThatThrownBy(() -> decode(encode(new Checked(1)), b -> b[b.length - 1] = 0)) // 0
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot construct record " + Checked.class.getName())
        .hasMessageContaining("not positive: 0");
    // a component of the wrong type
    byte[] wrong = encode(new Point(1, 2, 3));
    assertThat(wrong[wrong.length - 13]).isEqualTo((byte) StandardCodec.INT); // 05 02 06 04 08 ...
    wrong[wrong.length - 13] = StandardCodec.LONG; // x: Integer 1 becomes Long 1
    assertThatThrownBy(() -> decode(wrong)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("component x of record " + name + " is declared int, the entry"
            + " holds a java.lang.Long");
  }

  @Test
  void decodingChecksEnumClasses() {
    byte[] color = encode(Color.BLUE);
    assertThatThrownBy(() -> decode(replace(color, "BLUE", "PINK")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("enum " + Color.class.getName() + " has no constant PINK");
    assertThatThrownBy(() -> decode(replace(encode(DType.BOOL), "dev.open.dag.array.DType",
        "dev.open.dag.array.Dtyp"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot load class dev.open.dag.array.Dtyp");
    assertThatThrownBy(() -> decode(replace(color, Color.class.getName(),
        Point.class.getName()))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Point.class.getName() + " is not an enum class");
    assertThatThrownBy(() -> decode(replace(encode(new Point(1, 2, 3)), Point.class.getName(),
        Color.class.getName()))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Color.class.getName() + " is not a record class");
  }

  @Test
  void findsRecordClassesThroughTheContextClassLoaderFirst() throws Exception {
    byte[] bytes = encode(new Point(1, 2, 3));
    Thread thread = Thread.currentThread();
    ClassLoader saved = thread.getContextClassLoader();
    try {
      thread.setContextClassLoader(null);
      assertThat(decode(bytes)).isEqualTo(new Point(1, 2, 3)); // falls back to the codec's
      ClassLoader empty = new ClassLoader(null) { };
      thread.setContextClassLoader(empty);
      assertThat(decode(bytes)).isEqualTo(new Point(1, 2, 3));
    } finally {
      thread.setContextClassLoader(saved);
    }
  }

  /** Replaces a length-prefixed UTF-8 string in an encoding with another (of any length). */
  static byte[] replace(byte[] encoding, String from, String to) {
    return replace(encoding, from, to, b -> { });
  }

  static byte[] replace(byte[] encoding, String from, String to,
      java.util.function.Consumer<byte[]> edit) {
    byte[] old = utf8WithLength(from);
    byte[] now = utf8WithLength(to);
    int at = indexOf(encoding, old);
    assertThat(at).as("%s in the encoding", from).isNotNegative();
    byte[] out = new byte[encoding.length - old.length + now.length];
    System.arraycopy(encoding, 0, out, 0, at);
    System.arraycopy(now, 0, out, at, now.length);
    System.arraycopy(encoding, at + old.length, out, at + now.length,
        encoding.length - at - old.length);
    edit.accept(out);
    return out;
  }

  private static Object decode(byte[] bytes, java.util.function.Consumer<byte[]> edit) {
    byte[] copy = bytes.clone();
    edit.accept(copy);
    return decode(copy);
  }

  private static byte[] utf8WithLength(String s) {
    byte[] utf8 = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(utf8.length).isLessThan(128);
    byte[] out = new byte[utf8.length + 1];
    out[0] = (byte) utf8.length;
    System.arraycopy(utf8, 0, out, 1, utf8.length);
    return out;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void decodesFromPositionToLimitLeavingTheBufferAlone() {
    byte[] bytes = encode(List.of("a", 1));
    ByteBuffer framed = ByteBuffer.allocate(bytes.length + 10);
    framed.position(3).put(bytes).position(3).limit(3 + bytes.length);
    assertThat(CODEC.decode(framed)).isEqualTo(List.of("a", 1));
    assertThat(framed.position()).isEqualTo(3);
    assertThat(framed.limit()).isEqualTo(3 + bytes.length);
  }

  @Test
  void canEncodeIsLinearInTheSize() {
    List<Object> big = new ArrayList<>();
    for (int i = 0; i < 1_000_000; i++) {
      big.add(List.of(i, "s" + i));
    }
    long start = System.nanoTime();
    assertThat(CODEC.canEncode(big)).isTrue();
    byte[] bytes = encode(big);
    assertThat(decode(bytes)).isEqualTo(big);
    assertThat(System.nanoTime() - start).isLessThan(java.util.concurrent.TimeUnit.SECONDS
        .toNanos(20));
  }
}
