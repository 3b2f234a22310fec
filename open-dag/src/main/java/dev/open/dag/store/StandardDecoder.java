package dev.open.dag.store;

import static dev.open.dag.store.StandardCodec.ARRAYS_AS_LIST;
import static dev.open.dag.store.StandardCodec.ARRAY_LIST;
import static dev.open.dag.store.StandardCodec.BIG_DECIMAL;
import static dev.open.dag.store.StandardCodec.BIG_INTEGER;
import static dev.open.dag.store.StandardCodec.BOOLEANS;
import static dev.open.dag.store.StandardCodec.BYTE;
import static dev.open.dag.store.StandardCodec.BYTES;
import static dev.open.dag.store.StandardCodec.CHAR;
import static dev.open.dag.store.StandardCodec.CHARS;
import static dev.open.dag.store.StandardCodec.CONCURRENT_HASH;
import static dev.open.dag.store.StandardCodec.COPY_ON_WRITE_LIST;
import static dev.open.dag.store.StandardCodec.DOUBLE;
import static dev.open.dag.store.StandardCodec.DOUBLES;
import static dev.open.dag.store.StandardCodec.DURATION;
import static dev.open.dag.store.StandardCodec.ENUM;
import static dev.open.dag.store.StandardCodec.FALSE;
import static dev.open.dag.store.StandardCodec.FLOAT;
import static dev.open.dag.store.StandardCodec.FLOATS;
import static dev.open.dag.store.StandardCodec.HASH;
import static dev.open.dag.store.StandardCodec.INSTANT;
import static dev.open.dag.store.StandardCodec.INT;
import static dev.open.dag.store.StandardCodec.INTS;
import static dev.open.dag.store.StandardCodec.LINKED_HASH;
import static dev.open.dag.store.StandardCodec.LINKED_LIST;
import static dev.open.dag.store.StandardCodec.LIST;
import static dev.open.dag.store.StandardCodec.LOCAL_DATE;
import static dev.open.dag.store.StandardCodec.LONG;
import static dev.open.dag.store.StandardCodec.LONGS;
import static dev.open.dag.store.StandardCodec.MAP;
import static dev.open.dag.store.StandardCodec.MAX_DEPTH;
import static dev.open.dag.store.StandardCodec.NDARRAY;
import static dev.open.dag.store.StandardCodec.NULL;
import static dev.open.dag.store.StandardCodec.OPTIONAL;
import static dev.open.dag.store.StandardCodec.OPTIONAL_EMPTY;
import static dev.open.dag.store.StandardCodec.RECORD;
import static dev.open.dag.store.StandardCodec.SET;
import static dev.open.dag.store.StandardCodec.SET_MAP_KINDS;
import static dev.open.dag.store.StandardCodec.SHORT;
import static dev.open.dag.store.StandardCodec.SHORTS;
import static dev.open.dag.store.StandardCodec.STRING;
import static dev.open.dag.store.StandardCodec.TREE;
import static dev.open.dag.store.StandardCodec.TRUE;
import static dev.open.dag.store.StandardCodec.UNMODIFIABLE;
import static dev.open.dag.store.StandardCodec.UNMODIFIABLE_LIST;

import java.lang.reflect.InvocationTargetException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.SequencedSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.open.dag.store.StandardCodec.Order;

/**
 * Reads {@link StandardCodec}'s format, strictly: every length is checked against the bytes left
 * before anything is allocated for it, nesting is bounded, and anything but a canonical encoding
 * (overlong varints, unsorted or repeated set elements and map keys, stray bits, malformed UTF-8,
 * trailing bytes) is refused with an {@link IllegalArgumentException}. One instance decodes one
 * entry.
 */
final class StandardDecoder {

  /** How many elements a collection reserves room for before it has read them. */
  private static final int INITIAL_CAPACITY = 1024;

  private final ByteBuffer in;
  private final int start;
  private CharsetDecoder utf8;

  private StandardDecoder(ByteBuffer data) {
    this.in = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.start = in.position();
  }

  /**
   * Decodes the one value in {@code data}, from its position to its limit (which it leaves as
   * they are).
   *
   * @throws IllegalArgumentException if the bytes are not an encoding of {@link StandardCodec}
   */
  static Object decode(ByteBuffer data) {
    StandardDecoder decoder = new StandardDecoder(data);
    Object value = decoder.value(0);
    if (decoder.in.hasRemaining()) {
      throw decoder.corrupt(decoder.in.remaining() + " bytes follow the value");
    }
    return value;
  }

  private Object value(int depth) {
    int tag = u8();
    return switch (tag) {
      case NULL -> null;
      case FALSE -> Boolean.FALSE;
      case TRUE -> Boolean.TRUE;
      case BYTE -> (byte) u8();
      case SHORT -> take(2).getShort();
      case INT -> {
        long zigzag = varint();
        if (zigzag >>> 32 != 0) {
          throw corrupt("an int's varint exceeds 32 bits");
        }
        int bits = (int) zigzag;
        yield (bits >>> 1) ^ -(bits & 1);
      }
      case LONG -> {
        long zigzag = varint();
        yield (zigzag >>> 1) ^ -(zigzag & 1);
      }
      case FLOAT -> Float.intBitsToFloat(take(4).getInt());
      case DOUBLE -> Double.longBitsToDouble(take(8).getLong());
      case CHAR -> take(2).getChar();
      case STRING -> utf8();
      case BIG_INTEGER -> bigInteger();
      case BIG_DECIMAL -> {
        long scale = zigzag();
        if (scale != (int) scale) {
          throw corrupt("a BigDecimal's scale " + scale + " exceeds an int");
        }
        yield new BigDecimal(bigInteger(), (int) scale);
      }
      case BYTES -> {
        byte[] a = new byte[length(1, "byte[]")];
        in.get(a);
        yield a;
      }
      case SHORTS -> {
        short[] a = new short[length(2, "short[]")];
        take(2L * a.length).asShortBuffer().get(a);
        yield a;
      }
      case INTS -> {
        int[] a = new int[length(4, "int[]")];
        take(4L * a.length).asIntBuffer().get(a);
        yield a;
      }
      case LONGS -> {
        long[] a = new long[length(8, "long[]")];
        take(8L * a.length).asLongBuffer().get(a);
        yield a;
      }
      case FLOATS -> {
        float[] a = new float[length(4, "float[]")];
        take(4L * a.length).asFloatBuffer().get(a);
        yield a;
      }
      case DOUBLES -> {
        double[] a = new double[length(8, "double[]")];
        take(8L * a.length).asDoubleBuffer().get(a);
        yield a;
      }
      case CHARS -> {
        char[] a = new char[length(2, "char[]")];
        take(2L * a.length).asCharBuffer().get(a);
        yield a;
      }
      case BOOLEANS -> booleans();
      case ENUM -> enumConstant();
      case INSTANT -> {
        long seconds = zigzag();
        int nanos = nanos();
        try {
          yield Instant.ofEpochSecond(seconds, nanos);
        } catch (DateTimeException e) {
          throw corrupt("an Instant out of range: " + e.getMessage());
        }
      }
      case DURATION -> Duration.ofSeconds(zigzag(), nanos());
      case LOCAL_DATE -> {
        long day = zigzag();
        try {
          yield LocalDate.ofEpochDay(day);
        } catch (DateTimeException e) {
          throw corrupt("a LocalDate out of range: " + e.getMessage());
        }
      }
      case NDARRAY -> {
        int at = in.position();
        NDArrayCodec.Header header;
        try {
          header = NDArrayCodec.readHeader(in, at, in.limit());
        } catch (IllegalArgumentException e) {
          throw corrupt("a bad NDArray: " + e.getMessage());
        }
        in.position(at + header.length() + header.dataLength());
        yield NDArrayCodec.array(in, at + header.length(), header);
      }
      case OPTIONAL_EMPTY -> {
        enter(depth);
        yield Optional.empty();
      }
      case OPTIONAL -> {
        enter(depth);
        Object value = value(depth + 1);
        if (value == null) {
          throw corrupt("an Optional holds null");
        }
        yield Optional.of(value);
      }
      case LIST -> list(depth);
      case SET -> set(depth);
      case MAP -> map(depth);
      case RECORD -> record(depth);
      default -> {
        in.position(in.position() - 1);
        throw corrupt("unknown tag 0x" + Integer.toHexString(tag));
      }
    };
  }

  private Object list(int depth) {
    enter(depth);
    int kind = kind(UNMODIFIABLE_LIST + 1, "list");
    int n = length(1, "list");
    List<Object> list = new ArrayList<>(Math.min(n, INITIAL_CAPACITY));
    for (int i = 0; i < n; i++) {
      list.add(value(depth + 1));
    }
    return switch (kind) {
      case ARRAY_LIST -> list;
      case LINKED_LIST -> new LinkedList<>(list);
      case COPY_ON_WRITE_LIST -> new CopyOnWriteArrayList<>(list);
      case ARRAYS_AS_LIST -> Arrays.asList(list.toArray());
      default -> Collections.unmodifiableList(list);
    };
  }

  /** Reads a collection's kind byte, refusing one of {@code kinds} or more. */
  private int kind(int kinds, String what) {
    int kind = u8();
    if (kind >= kinds) {
      in.position(in.position() - 1);
      throw corrupt("unknown " + what + " kind 0x" + Integer.toHexString(kind));
    }
    return kind;
  }

  private Object set(int depth) {
    enter(depth);
    int kind = kind(SET_MAP_KINDS, "set");
    Order order = StandardCodec.order(kind);
    int n = length(1, "set");
    Set<Object> set = order == Order.NATURAL ? new TreeSet<>()
        : new LinkedHashSet<>(Math.min(n, INITIAL_CAPACITY));
    int previous = -1;
    for (int i = 0; i < n; i++) {
      int at = in.position();
      Object element = value(depth + 1);
      if (order == Order.NATURAL) {
        naturally(set, element, null);
      } else {
        set.add(element);
        if (order == Order.ENCODED && previous >= 0 && compare(previous, at, in.position()) >= 0) {
          throw corrupt("a set's elements are not in strictly increasing order");
        }
      }
      previous = at;
    }
    if (set.size() != n) {
      throw corrupt("two of a set's elements decode to equal values");
    }
    return switch (kind) {
      case HASH -> new HashSet<>(set);
      case LINKED_HASH, TREE -> set;
      case CONCURRENT_HASH -> {
        if (set.contains(null)) {
          throw corrupt("a ConcurrentHashMap key set holds null");
        }
        Set<Object> concurrent = ConcurrentHashMap.newKeySet(set.size());
        concurrent.addAll(set);
        yield concurrent;
      }
      case UNMODIFIABLE -> Collections.unmodifiableSet(new HashSet<>(set));
      default -> Collections.unmodifiableSequencedSet((SequencedSet<Object>) set);
    };
  }

  /**
   * Adds {@code key} to {@code tree}, a TreeSet or TreeMap in natural order, refusing one that
   * is not greater than every key before it (or not comparable with them).
   */
  @SuppressWarnings("unchecked")
  private void naturally(Object tree, Object key, Object value) {
    boolean greatest;
    try {
      if (tree instanceof TreeSet<?> s) {
        TreeSet<Object> set = (TreeSet<Object>) s;
        greatest = set.add(key) && set.last() == key;
      } else {
        TreeMap<Object, Object> map = (TreeMap<Object, Object>) tree;
        int size = map.size();
        map.put(key, value);
        greatest = map.size() > size && map.lastKey() == key;
      }
    } catch (RuntimeException e) { // not Comparable, null, or a compareTo that throws
      throw corrupt("a sorted set's element or map's key has no natural order with the others: "
          + e);
    }
    if (!greatest) {
      throw corrupt("a sorted set's elements or map's keys are not in strictly increasing"
          + " natural order");
    }
  }

  private Object map(int depth) {
    enter(depth);
    int kind = kind(SET_MAP_KINDS, "map");
    Order order = StandardCodec.order(kind);
    int n = length(2, "map");
    Map<Object, Object> map = order == Order.NATURAL ? new TreeMap<>()
        : new LinkedHashMap<>(Math.min(n, INITIAL_CAPACITY));
    int previous = -1;
    int previousEnd = -1;
    for (int i = 0; i < n; i++) {
      int at = in.position();
      Object key = value(depth + 1);
      int end = in.position();
      if (order == Order.ENCODED && previous >= 0
          && compare(previous, previousEnd, at, end) >= 0) {
        throw corrupt("a map's keys are not in strictly increasing order");
      }
      previous = at;
      previousEnd = end;
      Object value = value(depth + 1);
      if (order == Order.NATURAL) {
        naturally(map, key, value);
      } else {
        map.put(key, value);
      }
    }
    if (map.size() != n) {
      throw corrupt("two of a map's keys decode to equal values");
    }
    return switch (kind) {
      case HASH -> new HashMap<>(map);
      case LINKED_HASH, TREE -> map;
      case CONCURRENT_HASH -> {
        if (map.containsKey(null) || map.containsValue(null)) {
          throw corrupt("a ConcurrentHashMap holds null");
        }
        yield new ConcurrentHashMap<>(map);
      }
      case UNMODIFIABLE -> Collections.unmodifiableMap(new HashMap<>(map));
      default -> Collections.unmodifiableSequencedMap((SequencedMap<Object, Object>) map);
    };
  }

  private Object record(int depth) {
    enter(depth);
    String name = utf8();
    Class<?> type = load(name);
    if (!type.isRecord()) {
      throw corrupt(name + " is not a record class");
    }
    RecordShape shape = RecordShape.of(type);
    if (shape.problem() != null) {
      throw corrupt("cannot decode record " + name + ": " + shape.problem());
    }
    int n = length(1, "record");
    if (n != shape.names().length) {
      throw corrupt("record " + name + " has " + shape.names().length + " components, the entry "
          + n);
    }
    Object[] components = new Object[n];
    for (int i = 0; i < n; i++) {
      components[i] = value(depth + 1);
      if (!RecordShape.takes(shape.types()[i], components[i])) {
        throw corrupt("component " + shape.names()[i] + " of record " + name + " is declared "
            + shape.types()[i].getName() + ", the entry holds "
            + (components[i] == null ? "null" : "a " + components[i].getClass().getName()));
      }
    }
    try {
      return shape.constructor().newInstance(components);
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException("cannot construct record " + name + ": its constructor"
          + " threw " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException | IllegalArgumentException | LinkageError e) {
      throw new IllegalArgumentException("cannot construct record " + name + ": " + e, e);
    }
  }

  private Object enumConstant() {
    String name = utf8();
    String constant = utf8();
    Class<?> type = load(name);
    if (!type.isEnum()) {
      throw corrupt(name + " is not an enum class");
    }
    try {
      return valueOf(type, constant);
    } catch (IllegalArgumentException e) {
      throw corrupt("enum " + name + " has no constant " + constant);
    } catch (LinkageError e) {
      throw new IllegalArgumentException("cannot load enum " + name + ": " + e, e);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object valueOf(Class<?> type, String constant) {
    return Enum.valueOf((Class) type, constant);
  }

  /** Loads a class by name with the thread's context class loader, then this codec's own. */
  private Class<?> load(String name) {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    if (context != null) {
      try {
        return Class.forName(name, false, context);
      } catch (ClassNotFoundException | LinkageError e) {
        // try this codec's loader
      }
    }
    try {
      return Class.forName(name, false, StandardDecoder.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException("cannot load class " + name + " (the entry at offset "
          + (in.position() - start) + " names it): " + e, e);
    }
  }

  private boolean[] booleans() {
    int n = length(0, "boolean[]");
    if ((n + 7L) / 8 > in.remaining()) {
      throw corrupt("a boolean[] of " + n + " needs " + (n + 7L) / 8 + " bytes, "
          + in.remaining() + " remain");
    }
    boolean[] a = new boolean[n];
    for (int i = 0; i < n; i += 8) {
      int octet = in.get() & 0xFF;
      for (int j = 0; j < 8; j++) {
        boolean bit = (octet & 1 << j) != 0;
        if (i + j < n) {
          a[i + j] = bit;
        } else if (bit) {
          throw corrupt("a boolean[]'s unused bits are not 0");
        }
      }
    }
    return a;
  }

  private BigInteger bigInteger() {
    int n = length(1, "BigInteger");
    if (n == 0) {
      throw corrupt("a BigInteger of no bytes");
    }
    byte[] bytes = new byte[n];
    in.get(bytes);
    if (n > 1 && (bytes[0] == 0 && bytes[1] >= 0 || bytes[0] == -1 && bytes[1] < 0)) {
      throw corrupt("a BigInteger's bytes are not minimal");
    }
    return new BigInteger(bytes);
  }

  private String utf8() {
    int n = length(1, "string");
    if (utf8 == null) {
      utf8 = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
    }
    try {
      CharBuffer chars = utf8.decode(take(n));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw corrupt("malformed UTF-8: " + e);
    }
  }

  private int nanos() {
    long nanos = varint();
    if (nanos >= 1_000_000_000L || nanos < 0) {
      throw corrupt("a nanosecond of " + Long.toUnsignedString(nanos));
    }
    return (int) nanos;
  }

  private void enter(int depth) {
    if (depth >= MAX_DEPTH) {
      throw corrupt("containers nest deeper than " + MAX_DEPTH);
    }
  }

  /**
   * Reads a len and checks that {@code n × unit} bytes remain (each of n elements takes at least
   * {@code unit} bytes).
   */
  private int length(int unit, String what) {
    long n = varint();
    if (n >>> 31 != 0) {
      throw corrupt("a " + what + " of " + Long.toUnsignedString(n) + " exceeds 2^31 - 1");
    }
    if (n * unit > in.remaining()) {
      throw corrupt("a " + what + " of " + n + " needs at least " + n * unit + " bytes, "
          + in.remaining() + " remain");
    }
    return (int) n;
  }

  private long zigzag() {
    long zigzag = varint();
    return (zigzag >>> 1) ^ -(zigzag & 1);
  }

  /** Reads a minimal varint of at most 10 bytes. */
  private long varint() {
    long value = 0;
    for (int shift = 0; ; shift += 7) {
      int b = u8();
      if (shift == 63 && (b & 0xFE) != 0) {
        throw corrupt("a varint exceeds 64 bits");
      }
      value |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) {
          throw corrupt("a varint is not minimal");
        }
        return value;
      }
    }
  }

  private int u8() {
    if (!in.hasRemaining()) {
      throw corrupt("the bytes end in the middle of a value");
    }
    return in.get() & 0xFF;
  }

  /** Returns a little-endian view of the next {@code n} bytes and moves past them. */
  private ByteBuffer take(long n) {
    if (n > in.remaining()) {
      throw corrupt("the bytes end in the middle of a value (" + n + " needed, "
          + in.remaining() + " remain)");
    }
    ByteBuffer view = in.slice(in.position(), (int) n).order(ByteOrder.LITTLE_ENDIAN);
    in.position(in.position() + (int) n);
    return view;
  }

  /** Compares the bytes in [a, b) with those in [b, end) as unsigned bytes. */
  private int compare(int a, int b, int end) {
    return compare(a, b, b, end);
  }

  private int compare(int a, int aEnd, int b, int bEnd) {
    ByteBuffer first = in.slice(a, aEnd - a);
    ByteBuffer second = in.slice(b, bEnd - b);
    int i = first.mismatch(second);
    if (i < 0) {
      return 0;
    }
    if (i == first.limit() || i == second.limit()) {
      return Integer.compare(first.limit(), second.limit());
    }
    return Integer.compare(first.get(i) & 0xFF, second.get(i) & 0xFF);
  }

  private IllegalArgumentException corrupt(String what) {
    return new IllegalArgumentException("not an " + StandardCodec.ID + " entry: " + what
        + " (at offset " + (in.position() - start) + ")");
  }
}
