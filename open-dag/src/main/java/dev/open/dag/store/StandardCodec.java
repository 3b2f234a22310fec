package dev.open.dag.store;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * The built-in codec of plain values, id {@value #ID}: a compact, deterministic, tagged binary
 * format for null, the boxed primitives, strings, {@code BigInteger}, {@code BigDecimal}, arrays
 * of primitives, enums, {@code Instant}, {@code Duration}, {@code LocalDate}, {@code NDArray}s,
 * and lists, sets, maps, {@code Optional}s and records of those. A decoded value behaves as the
 * encoded one: a collection decodes to the same class (for the JDK's internal unmodifiable
 * classes, to an unmodifiable collection of the same interface), with the same iteration order
 * where that is defined, equally mutable.
 *
 * <p>{@code open.std.v1}, the format before this one, decoded every list, set and map as an
 * unmodifiable one, its sets and maps in encoded order; its entries are not read by this codec
 * (a store holding them misses, and recomputes).
 *
 * <h2>Format (a compatibility promise: a new format is a new id)</h2>
 *
 * <p>An entry is exactly one value, nothing after it. A value is a one-byte tag and the tag's
 * body. The body's pieces:
 *
 * <ul>
 *   <li><i>varint</i>: an unsigned integer, 7 bits per byte, least significant group first, the
 *       high bit set on every byte but the last; minimal (no trailing 0x00 group, except the
 *       single byte 0x00 for zero); at most 10 bytes.
 *   <li><i>zigzag</i>: a signed integer n as the varint of {@code (n << 1) ^ (n >> 63)} (of
 *       {@code (n << 1) ^ (n >> 31)}, as unsigned 32 bits, for an {@code int}), so that small
 *       magnitudes are short.
 *   <li><i>len</i>: a varint count, at most 2^31 - 1.
 *   <li><i>utf8</i>: a len n, then n bytes of UTF-8 (well-formed: no unpaired surrogates, no
 *       overlong forms).
 *   <li><i>le16, le32, le64</i>: fixed-width little-endian integers.
 * </ul>
 *
 * <pre>
 * tag   type                 body
 * 0x00  null                 (none)
 * 0x01  Boolean false        (none)
 * 0x02  Boolean true         (none)
 * 0x03  Byte                 1 byte
 * 0x04  Short                le16
 * 0x05  Integer              zigzag (1 to 5 bytes)
 * 0x06  Long                 zigzag (1 to 10 bytes)
 * 0x07  Float                le32: the raw IEEE 754 bits (NaN payloads and -0.0 kept)
 * 0x08  Double               le64: the raw IEEE 754 bits (NaN payloads and -0.0 kept)
 * 0x09  Character            le16: the UTF-16 code unit (a lone surrogate is fine)
 * 0x0A  String               utf8
 * 0x0B  BigInteger           len n (n at least 1), n bytes: the minimal big-endian two's
 *                            complement, as BigInteger.toByteArray()
 * 0x0C  BigDecimal           zigzag scale, then the unscaled value as the body of 0x0B
 * 0x10  byte[]               len n, n bytes
 * 0x11  short[]              len n, n × le16
 * 0x12  int[]                len n, n × le32
 * 0x13  long[]               len n, n × le64
 * 0x14  float[]              len n, n × le32 raw bits
 * 0x15  double[]             len n, n × le64 raw bits
 * 0x16  boolean[]            len n, ceil(n / 8) bytes: element i is bit (i mod 8), least
 *                            significant first, of byte (i / 8); unused bits are 0
 * 0x17  char[]               len n, n × le16 code units
 * 0x20  enum constant        utf8 class name (Class.getName() of its declaring enum), utf8
 *                            constant name
 * 0x21  Instant              zigzag epoch second, varint nanosecond (0 to 999,999,999)
 * 0x22  Duration             zigzag seconds, varint nanosecond (0 to 999,999,999), as
 *                            Duration.getSeconds() and getNano()
 * 0x23  LocalDate            zigzag epoch day
 * 0x28  NDArray              an open.ndarray.v1 entry (header, then the elements; see
 *                            NDArrayCodec), whose header gives its length
 * 0x30  List                 1 byte list kind, len n, n values in the list's order
 * 0x31  Set                  1 byte set kind, len n, n values in the kind's order (below)
 * 0x32  Map                  1 byte map kind, len n, n pairs of key value, keys in the kind's
 *                            order (below)
 * 0x33  Optional.empty()     (none)
 * 0x34  Optional.of(v)       the value v
 * 0x38  record               utf8 class name (Class.getName()), len n components, then the n
 *                            component values in declaration order
 * </pre>
 *
 * <p>A collection's kind is the class it decodes to; an unknown kind is refused.
 *
 * <pre>
 * list kind  encoded from                               decoded as
 * 0x00       ArrayList                                  ArrayList
 * 0x01       LinkedList                                 LinkedList
 * 0x02       CopyOnWriteArrayList                       CopyOnWriteArrayList
 * 0x03       Arrays.asList (fixed size, settable)       Arrays.asList of an Object[]
 * 0x04       the JDK's unmodifiable lists: List.of,     Collections.unmodifiableList of an
 *            List.copyOf, Stream.toList,                ArrayList
 *            Collections.unmodifiableList, emptyList,
 *            singletonList, nCopies
 *
 * set / map  encoded from (set; map)                    order    decoded as (set; map)
 * kind
 * 0x00       HashSet; HashMap                           encoded  HashSet; HashMap
 * 0x01       LinkedHashSet; LinkedHashMap               iterated LinkedHashSet; LinkedHashMap
 * 0x02       TreeSet; TreeMap, in natural order         natural  TreeSet; TreeMap, natural
 * 0x03       ConcurrentHashMap.newKeySet();             encoded  ConcurrentHashMap.newKeySet();
 *            ConcurrentHashMap                                   ConcurrentHashMap
 * 0x04       the JDK's unmodifiable sets and maps       encoded  Collections.unmodifiableSet of a
 *            (Set.of, Set.copyOf, Map.of, Map.copyOf,            HashSet; unmodifiableMap of a
 *            Collections.unmodifiableSet, emptySet,              HashMap
 *            singleton, unmodifiableMap, emptyMap,
 *            singletonMap) over no defined order
 * 0x05       those over a defined order: an             iterated Collections.unmodifiableSequenced-
 *            unmodifiableSequencedSet or -Map, or an             Set of a LinkedHashSet; -Map of a
 *            unmodifiableSet or -Map of two or more              LinkedHashMap
 *            over a LinkedHashSet or -Map
 * 0x06       those over a natural order (any of the     natural  Collections.unmodifiableSequenced-
 *            wrappers above of a TreeSet or TreeMap              Set of a TreeSet; -Map of a
 *            with no comparator)                                 TreeMap
 * </pre>
 *
 * <p>The orders: <i>encoded</i>, strictly increasing encodings compared as unsigned bytes (a
 * shorter prefix first), for the classes whose iteration order is unspecified (a {@code HashMap}'s
 * depends on its capacity and history, {@code Set.of}'s changes from one JVM run to the next);
 * <i>iterated</i>, the collection's iteration order, which is part of its value (no two elements
 * or keys equal); <i>natural</i>, strictly increasing by {@code compareTo}, which is a tree's
 * iteration order (elements and keys mutually comparable, not null). An unmodifiable wrapper's
 * order is found from its spliterator, which it takes from what it wraps: {@code SORTED} with no
 * comparator is natural, {@code ORDERED} (or a sequenced wrapper) is iterated. So a wrapper of a
 * collection whose spliterator does not report the order it has (such as an {@code EnumSet}, or
 * an {@code EnumMap}'s keys) decodes in hash order. {@code Arrays.asList} decodes backed by an
 * {@code Object[]}, whatever array it was backed by.
 *
 * <p>So equal values of the same class encode to the same bytes, whatever their history: equal
 * {@code HashSet}s of different capacities or insertion orders, equal {@code TreeMap}s. Equal
 * values of different classes encode differently (a {@code HashMap} and a {@code TreeMap} of the
 * same entries; an {@code ArrayList} and a {@code LinkedList}), but the JDK's unmodifiable ones of
 * one kind are alike ({@code List.of(1)} and {@code Collections.unmodifiableList} of an {@code
 * ArrayList} of 1). And two {@code LinkedHashMap}s with the same entries inserted in different
 * orders are different values here (they iterate differently), so they encode differently. The
 * other exception to "equal values encode equally": floats and doubles are kept bit for bit, so
 * values that differ only by NaN payloads (which {@code Double.equals} does not tell apart) encode
 * differently; that costs a cache miss, never a wrong value. Conversely every accepted encoding
 * is canonical: decoding then encoding gives the same bytes back (as long as records'
 * constructors keep their arguments as given).
 *
 * <h2>Which values</h2>
 *
 * <ul>
 *   <li>{@code BigInteger} and {@code BigDecimal} themselves, not subclasses; strings without
 *       unpaired surrogates (which UTF-8 cannot hold; a {@code char[]} can).
 *   <li>The lists, sets and maps of the kinds above, nulls kept where the class allows them.
 *       Any other is refused, since it would decode as something else: a {@code TreeSet} or
 *       {@code TreeMap} with a comparator (or an unmodifiable wrapper of one, or an {@code
 *       unmodifiableSortedSet}/{@code -Map}), a subclass (even an anonymous one) of a supported
 *       class, a view ({@code keySet()}, {@code values()}, {@code subList}, a {@code
 *       ConcurrentHashMap}'s {@code keySet()}), synchronized, checked and identity-based
 *       collections, {@code EnumSet}, {@code EnumMap}, {@code ConcurrentSkipListMap}, Guava's and
 *       other libraries' collections. An unmodifiable wrapper decodes as an unmodifiable copy (no
 *       longer a view of what it wrapped). A set or map in which two elements or keys encode
 *       alike (which only one that breaks its contract can hold, such as one of arrays) is
 *       refused, since it could not be decoded to an equal one.
 *   <li>A record whose components are all encodable, whose accessors and canonical constructor
 *       module {@code dev.open.dag} may use (a record in the unnamed module, or in a package that
 *       is exported, or opened to {@code dev.open.dag}), that is not a hidden class, and whose
 *       components' declared types can hold what they decode to (a component declared {@code
 *       List} holds any list, one declared {@code ArrayList} a decoded {@code ArrayList}; one
 *       declared a class that the decoded value is not, such as {@code AbstractCollection}
 *       holding a {@code Set.of}, is refused). It is decoded through its canonical constructor;
 *       its class is loaded by name with the thread's context class loader, then this codec's
 *       own.
 *   <li>Containers (lists, sets, maps, optionals, records) nest at most {@value #MAX_DEPTH} deep;
 *       deeper values, and so cyclic ones, are refused. An encoding is at most {@value
 *       #MAX_SIZE} bytes.
 *   <li>Anything else (arbitrary objects, lambdas, other collections, other arrays, an optional
 *       or a container of such) is refused: {@link #canEncode} is false, {@link #encode} throws
 *       {@link IllegalArgumentException} saying where.
 * </ul>
 *
 * <p>{@link #canEncode} is exact (true if and only if {@link #encode} succeeds) and costs one walk
 * of the value without copying it, but for the elements of sets and keys of maps, which it
 * encodes to compare them. {@link #decode} checks every length against the bytes left before
 * allocating and throws {@link IllegalArgumentException} for anything but an encoding this codec
 * produces; an {@code NDArray} in a direct buffer is decoded as a view of it.
 */
final class StandardCodec implements ValueCodec {

  /** The codec's id. */
  static final String ID = "open.std.v2";

  /** How deep containers may nest. */
  static final int MAX_DEPTH = 512;

  /** The largest encoding, in bytes (the largest Java array). */
  static final int MAX_SIZE = Integer.MAX_VALUE - 8;

  static final int NULL = 0x00;
  static final int FALSE = 0x01;
  static final int TRUE = 0x02;
  static final int BYTE = 0x03;
  static final int SHORT = 0x04;
  static final int INT = 0x05;
  static final int LONG = 0x06;
  static final int FLOAT = 0x07;
  static final int DOUBLE = 0x08;
  static final int CHAR = 0x09;
  static final int STRING = 0x0A;
  static final int BIG_INTEGER = 0x0B;
  static final int BIG_DECIMAL = 0x0C;
  static final int BYTES = 0x10;
  static final int SHORTS = 0x11;
  static final int INTS = 0x12;
  static final int LONGS = 0x13;
  static final int FLOATS = 0x14;
  static final int DOUBLES = 0x15;
  static final int BOOLEANS = 0x16;
  static final int CHARS = 0x17;
  static final int ENUM = 0x20;
  static final int INSTANT = 0x21;
  static final int DURATION = 0x22;
  static final int LOCAL_DATE = 0x23;
  static final int NDARRAY = 0x28;
  static final int LIST = 0x30;
  static final int SET = 0x31;
  static final int MAP = 0x32;
  static final int OPTIONAL_EMPTY = 0x33;
  static final int OPTIONAL = 0x34;
  static final int RECORD = 0x38;

  /** The kinds of list (the byte after tag {@link #LIST}). */
  static final int ARRAY_LIST = 0x00;
  static final int LINKED_LIST = 0x01;
  static final int COPY_ON_WRITE_LIST = 0x02;
  static final int ARRAYS_AS_LIST = 0x03;
  static final int UNMODIFIABLE_LIST = 0x04;

  /**
   * The kinds of set and of map (the byte after tag {@link #SET} or {@link #MAP}); whether a kind
   * is written sorted by encodings, in iteration order, or in natural order: see {@link #order}.
   */
  static final int HASH = 0x00;
  static final int LINKED_HASH = 0x01;
  static final int TREE = 0x02;
  static final int CONCURRENT_HASH = 0x03;
  static final int UNMODIFIABLE = 0x04;
  static final int UNMODIFIABLE_SEQUENCED = 0x05;
  static final int UNMODIFIABLE_SORTED = 0x06;
  static final int SET_MAP_KINDS = 0x07;

  /** How a set's elements or a map's keys are ordered in the encoding, by kind. */
  enum Order {
    /** Strictly increasing encodings, compared as unsigned bytes: iteration order unspecified. */
    ENCODED,
    /** The collection's iteration order (insertion order). */
    ITERATION,
    /** Strictly increasing in natural order (compareTo), which is the iteration order. */
    NATURAL
  }

  /** What each list kind decodes to, by kind. */
  static final List<Class<?>> LIST_CLASSES = List.of(java.util.ArrayList.class,
      java.util.LinkedList.class, java.util.concurrent.CopyOnWriteArrayList.class,
      java.util.Arrays.asList().getClass(),
      java.util.Collections.unmodifiableList(new java.util.ArrayList<>()).getClass());

  /** What each set kind decodes to, by kind. */
  static final List<Class<?>> SET_CLASSES = List.of(java.util.HashSet.class,
      java.util.LinkedHashSet.class, java.util.TreeSet.class,
      java.util.concurrent.ConcurrentHashMap.KeySetView.class,
      java.util.Collections.unmodifiableSet(new java.util.HashSet<>()).getClass(),
      java.util.Collections.unmodifiableSequencedSet(new java.util.LinkedHashSet<>()).getClass(),
      java.util.Collections.unmodifiableSequencedSet(new java.util.TreeSet<>()).getClass());

  /** What each map kind decodes to, by kind. */
  static final List<Class<?>> MAP_CLASSES = List.of(java.util.HashMap.class,
      java.util.LinkedHashMap.class, java.util.TreeMap.class,
      java.util.concurrent.ConcurrentHashMap.class,
      java.util.Collections.unmodifiableMap(new java.util.HashMap<>()).getClass(),
      java.util.Collections.unmodifiableSequencedMap(new java.util.LinkedHashMap<>()).getClass(),
      java.util.Collections.unmodifiableSequencedMap(new java.util.TreeMap<>()).getClass());

  static Order order(int kind) {
    return switch (kind) {
      case LINKED_HASH, UNMODIFIABLE_SEQUENCED -> Order.ITERATION;
      case TREE, UNMODIFIABLE_SORTED -> Order.NATURAL;
      default -> Order.ENCODED;
    };
  }

  @Override
  public String id() {
    return ID;
  }

  @Override
  public boolean canEncode(Object value) {
    return StandardEncoder.canEncode(value);
  }

  /** Returns the encoding as one heap buffer. */
  @Override
  public List<ByteBuffer> encode(Object value) {
    return List.of(StandardEncoder.encode(value));
  }

  @Override
  public Object decode(ByteBuffer data) {
    Objects.requireNonNull(data, "data");
    return StandardDecoder.decode(data);
  }

  @Override
  public String toString() {
    return ID;
  }
}
