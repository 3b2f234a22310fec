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
import static dev.open.dag.store.StandardCodec.MAX_SIZE;
import static dev.open.dag.store.StandardCodec.NDARRAY;
import static dev.open.dag.store.StandardCodec.NULL;
import static dev.open.dag.store.StandardCodec.OPTIONAL;
import static dev.open.dag.store.StandardCodec.OPTIONAL_EMPTY;
import static dev.open.dag.store.StandardCodec.RECORD;
import static dev.open.dag.store.StandardCodec.SET;
import static dev.open.dag.store.StandardCodec.SHORT;
import static dev.open.dag.store.StandardCodec.SHORTS;
import static dev.open.dag.store.StandardCodec.STRING;
import static dev.open.dag.store.StandardCodec.TREE;
import static dev.open.dag.store.StandardCodec.TRUE;
import static dev.open.dag.store.StandardCodec.UNMODIFIABLE;
import static dev.open.dag.store.StandardCodec.UNMODIFIABLE_LIST;
import static dev.open.dag.store.StandardCodec.UNMODIFIABLE_SEQUENCED;
import static dev.open.dag.store.StandardCodec.UNMODIFIABLE_SORTED;

import java.lang.reflect.InvocationTargetException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
import java.util.SequencedCollection;
import java.util.SequencedMap;
import java.util.Set;
import java.util.Spliterator;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import dev.open.dag.array.NDArray;

/**
 * Writes {@link StandardCodec}'s format. One walk serves both {@link #canEncode} (into a sink that
 * only counts) and {@link #encode} (into one that keeps the bytes), so that the two agree exactly:
 * every check that refuses a value is made on the same path either way.
 */
final class StandardEncoder {

  /** The JDK's unmodifiable lists: List.of, List.copyOf, Stream.toList, Collections' own. */
  private static final Set<Class<?>> UNMODIFIABLE_LISTS = classes(List.of(), List.of(1),
      List.of(1, 2), List.of(1, 2, 3), Stream.of(1, null, 3).toList(),
      Collections.unmodifiableList(new ArrayList<>()),
      Collections.unmodifiableList(new LinkedList<>()), Collections.emptyList(),
      Collections.singletonList(1), Collections.nCopies(2, 1));

  /** The JDK's unmodifiable sets: Set.of, Set.copyOf, Collections' own. */
  private static final Set<Class<?>> UNMODIFIABLE_SETS = classes(Set.of(), Set.of(1),
      Set.of(1, 2), Set.of(1, 2, 3), Collections.unmodifiableSet(new HashSet<>()),
      Collections.unmodifiableSequencedSet(new LinkedHashSet<>()), Collections.emptySet(),
      Collections.singleton(1));

  /** The JDK's unmodifiable maps: Map.of, Map.copyOf, Collections' own. */
  private static final Set<Class<?>> UNMODIFIABLE_MAPS = classes(Map.of(), Map.of(1, 1),
      Map.of(1, 1, 2, 2), Map.of(1, 1, 2, 2, 3, 3), Collections.unmodifiableMap(new HashMap<>()),
      Collections.unmodifiableSequencedMap(new LinkedHashMap<>()), Collections.emptyMap(),
      Collections.singletonMap(1, 1));

  private StandardEncoder() {}

  private static Set<Class<?>> classes(Object... samples) {
    Set<Class<?>> classes = new HashSet<>();
    for (Object sample : samples) {
      classes.add(sample.getClass());
    }
    return Set.copyOf(classes);
  }

  /** Returns the kind of list {@code list} is, or -1 for one that cannot be rebuilt. */
  static int listKind(List<?> list) {
    Class<?> type = list.getClass();
    if (type == ArrayList.class) {
      return ARRAY_LIST;
    } else if (type == LinkedList.class) {
      return LINKED_LIST;
    } else if (type == CopyOnWriteArrayList.class) {
      return COPY_ON_WRITE_LIST;
    } else if (type == StandardCodec.LIST_CLASSES.get(ARRAYS_AS_LIST)) {
      return ARRAYS_AS_LIST;
    } else if (UNMODIFIABLE_LISTS.contains(type)) {
      return UNMODIFIABLE_LIST;
    }
    return -1;
  }

  /** Returns the kind of set {@code set} is, or -1 for one that cannot be rebuilt. */
  static int setKind(Set<?> set) {
    Class<?> type = set.getClass();
    if (type == HashSet.class) {
      return HASH;
    } else if (type == LinkedHashSet.class) {
      return LINKED_HASH;
    } else if (type == TreeSet.class) {
      return ((TreeSet<?>) set).comparator() == null ? TREE : -1;
    } else if (type == ConcurrentHashMap.KeySetView.class) {
      // a set of ConcurrentHashMap.newKeySet(), not a map's keySet() view (which cannot add)
      return ((ConcurrentHashMap.KeySetView<?, ?>) set).getMappedValue() == Boolean.TRUE
          ? CONCURRENT_HASH : -1;
    } else if (UNMODIFIABLE_SETS.contains(type)) {
      return unmodifiableKind(set.spliterator(), set instanceof SequencedCollection<?>,
          set.size());
    }
    return -1;
  }

  /** Returns the kind of map {@code map} is, or -1 for one that cannot be rebuilt. */
  static int mapKind(Map<?, ?> map) {
    Class<?> type = map.getClass();
    if (type == HashMap.class) {
      return HASH;
    } else if (type == LinkedHashMap.class) {
      return LINKED_HASH;
    } else if (type == TreeMap.class) {
      return ((TreeMap<?, ?>) map).comparator() == null ? TREE : -1;
    } else if (type == ConcurrentHashMap.class) {
      return CONCURRENT_HASH;
    } else if (UNMODIFIABLE_MAPS.contains(type)) {
      return unmodifiableKind(map.keySet().spliterator(), map instanceof SequencedMap<?, ?>,
          map.size());
    }
    return -1;
  }

  /**
   * Returns the kind of an unmodifiable set or map, from the spliterator of its elements or keys
   * (which an unmodifiable wrapper takes from what it wraps): sorted in natural order, in a
   * defined order (sequenced, or ordered with two or more), or in none; -1 when sorted by a
   * comparator, which decoding cannot rebuild.
   */
  private static int unmodifiableKind(Spliterator<?> keys, boolean sequenced, int size) {
    if (keys.hasCharacteristics(Spliterator.SORTED)) {
      return keys.getComparator() == null ? UNMODIFIABLE_SORTED : -1;
    }
    if (sequenced || keys.hasCharacteristics(Spliterator.ORDERED) && size > 1) {
      return UNMODIFIABLE_SEQUENCED;
    }
    return UNMODIFIABLE;
  }

  /**
   * Returns whether a record component declared {@code type} can hold {@code value} once
   * decoded; true too when the value cannot be encoded at all (encoding it says why).
   */
  private static boolean holdsDecoded(Class<?> type, Object value) {
    if (type.isPrimitive() || value == null) {
      return true;
    }
    Class<?> decoded = switch (value) {
      case Enum<?> e -> e.getDeclaringClass();
      case List<?> l -> {
        int kind = listKind(l);
        yield kind < 0 ? null : StandardCodec.LIST_CLASSES.get(kind);
      }
      case Set<?> s -> {
        int kind = setKind(s);
        yield kind < 0 ? null : StandardCodec.SET_CLASSES.get(kind);
      }
      case Map<?, ?> m -> {
        int kind = mapKind(m);
        yield kind < 0 ? null : StandardCodec.MAP_CLASSES.get(kind);
      }
      default -> value.getClass();
    };
    return decoded == null || type.isAssignableFrom(decoded);
  }

  private static NotEncodable notRebuilt(Object collection) {
    String name = collection.getClass().getName();
    String why = switch (collection) {
      case TreeSet<?> t when t.comparator() != null -> " with a comparator";
      case TreeMap<?, ?> t when t.comparator() != null -> " with a comparator";
      default -> "";
    };
    return new NotEncodable("a " + name + why + " is not a collection " + StandardCodec.ID
        + " can decode as the same (it rebuilds ArrayList, LinkedList, CopyOnWriteArrayList,"
        + " Arrays.asList, HashSet, LinkedHashSet, TreeSet and TreeMap in natural order,"
        + " ConcurrentHashMap and its newKeySet(), HashMap, LinkedHashMap, and the JDK's"
        + " unmodifiable lists, sets and maps, but for those sorted by a comparator)");
  }

  /** Returns true if {@link #encode} succeeds for {@code value}. */
  static boolean canEncode(Object value) {
    try {
      write(Sink.counting(), value, 0);
      return true;
    } catch (NotEncodable e) {
      return false;
    }
  }

  /**
   * Encodes {@code value}.
   *
   * @throws IllegalArgumentException naming where and why, if it cannot
   */
  static ByteBuffer encode(Object value) {
    Sink sink = Sink.keeping(64);
    try {
      write(sink, value, 0);
    } catch (NotEncodable e) {
      throw new IllegalArgumentException(StandardCodec.ID + " cannot encode " + e.where() + ": "
          + e.getMessage());
    }
    return ByteBuffer.wrap(sink.buf, 0, (int) sink.size);
  }

  private static void write(Sink out, Object value, int depth) {
    switch (value) {
      case null -> out.u8(NULL);
      case Boolean b -> out.u8(b ? TRUE : FALSE);
      case Byte b -> {
        out.u8(BYTE);
        out.u8(b);
      }
      case Short s -> {
        out.u8(SHORT);
        out.le16(s);
      }
      case Integer i -> {
        out.u8(INT);
        out.varint(Integer.toUnsignedLong((i << 1) ^ (i >> 31)));
      }
      case Long l -> {
        out.u8(LONG);
        out.zigzag(l);
      }
      case Float f -> {
        out.u8(FLOAT);
        out.le32(Float.floatToRawIntBits(f));
      }
      case Double d -> {
        out.u8(DOUBLE);
        out.le64(Double.doubleToRawLongBits(d));
      }
      case Character c -> {
        out.u8(CHAR);
        out.le16(c);
      }
      case String s -> {
        out.u8(STRING);
        out.utf8(s);
      }
      case BigInteger b when b.getClass() == BigInteger.class -> {
        out.u8(BIG_INTEGER);
        out.bigInteger(b);
      }
      case BigDecimal b when b.getClass() == BigDecimal.class -> {
        out.u8(BIG_DECIMAL);
        out.zigzag(b.scale());
        out.bigInteger(b.unscaledValue());
      }
      case byte[] a -> {
        out.u8(BYTES);
        out.varint(a.length);
        out.bytes(a, 0, a.length);
      }
      case short[] a -> {
        out.u8(SHORTS);
        out.varint(a.length);
        ByteBuffer view = out.view(2L * a.length);
        if (view != null) {
          view.asShortBuffer().put(a);
        }
      }
      case int[] a -> {
        out.u8(INTS);
        out.varint(a.length);
        ByteBuffer view = out.view(4L * a.length);
        if (view != null) {
          view.asIntBuffer().put(a);
        }
      }
      case long[] a -> {
        out.u8(LONGS);
        out.varint(a.length);
        ByteBuffer view = out.view(8L * a.length);
        if (view != null) {
          view.asLongBuffer().put(a);
        }
      }
      case float[] a -> {
        out.u8(FLOATS);
        out.varint(a.length);
        ByteBuffer view = out.view(4L * a.length);
        if (view != null) {
          view.asFloatBuffer().put(a);
        }
      }
      case double[] a -> {
        out.u8(DOUBLES);
        out.varint(a.length);
        ByteBuffer view = out.view(8L * a.length);
        if (view != null) {
          view.asDoubleBuffer().put(a);
        }
      }
      case char[] a -> {
        out.u8(CHARS);
        out.varint(a.length);
        ByteBuffer view = out.view(2L * a.length);
        if (view != null) {
          view.asCharBuffer().put(a);
        }
      }
      case boolean[] a -> {
        out.u8(BOOLEANS);
        out.varint(a.length);
        ByteBuffer bits = out.view((a.length + 7L) / 8);
        for (int i = 0; bits != null && i < a.length; i += 8) {
          int octet = 0;
          for (int j = 0; j < 8 && i + j < a.length; j++) {
            octet |= a[i + j] ? 1 << j : 0;
          }
          bits.put((byte) octet);
        }
      }
      case Enum<?> e -> {
        out.u8(ENUM);
        out.utf8(e.getDeclaringClass().getName());
        out.utf8(e.name());
      }
      case Instant t -> {
        out.u8(INSTANT);
        out.zigzag(t.getEpochSecond());
        out.varint(t.getNano());
      }
      case Duration t -> {
        out.u8(DURATION);
        out.zigzag(t.getSeconds());
        out.varint(t.getNano());
      }
      case LocalDate t -> {
        out.u8(LOCAL_DATE);
        out.zigzag(t.toEpochDay());
      }
      case NDArray a -> {
        out.u8(NDARRAY);
        byte[] header = NDArrayCodec.header(a);
        out.bytes(header, 0, header.length);
        ByteBuffer view = out.view(a.byteSize());
        if (view != null) {
          view.put(a.buffer());
        }
      }
      case Optional<?> o -> {
        enter(depth);
        if (o.isEmpty()) {
          out.u8(OPTIONAL_EMPTY);
        } else {
          out.u8(OPTIONAL);
          try {
            write(out, o.get(), depth + 1);
          } catch (NotEncodable e) {
            throw e.at(".get()");
          }
        }
      }
      case Record r -> record(out, r, depth);
      case List<?> l -> {
        enter(depth);
        int kind = listKind(l);
        if (kind < 0) {
          throw notRebuilt(l);
        }
        out.u8(LIST);
        out.u8(kind);
        int size = l.size();
        out.varint(size);
        int i = 0;
        for (Object element : l) {
          try {
            write(out, element, depth + 1);
          } catch (NotEncodable e) {
            throw e.at("[" + i + "]");
          }
          i++;
        }
        if (i != size) {
          throw new NotEncodable("the list changed while it was encoded");
        }
      }
      case Set<?> s -> set(out, s, depth);
      case Map<?, ?> m -> map(out, m, depth);
      default -> throw new NotEncodable("a " + value.getClass().getName()
          + " is none of the types " + StandardCodec.ID + " encodes");
    }
  }

  private static void enter(int depth) {
    if (depth >= MAX_DEPTH) {
      throw new NotEncodable("containers nest deeper than " + MAX_DEPTH
          + " (or the value is cyclic)");
    }
  }

  private static void record(Sink out, Record r, int depth) {
    enter(depth);
    RecordShape shape = RecordShape.of(r.getClass());
    if (shape.problem() != null) {
      throw new NotEncodable(shape.problem());
    }
    out.u8(RECORD);
    out.utf8(r.getClass().getName());
    out.varint(shape.names().length);
    for (int i = 0; i < shape.names().length; i++) {
      try {
        component(out, r, shape, i, depth);
      } catch (NotEncodable e) {
        throw e.at("." + shape.names()[i] + "()");
      }
    }
  }

  private static void component(Sink out, Record r, RecordShape shape, int i, int depth) {
    Object component;
    try {
      component = shape.accessors()[i].invoke(r);
    } catch (InvocationTargetException e) {
      throw new NotEncodable("its accessor threw " + e.getCause());
    } catch (IllegalAccessException e) {
      throw new NotEncodable("its accessor is not accessible: " + e.getMessage());
    }
    if (!holdsDecoded(shape.types()[i], component)) {
      throw new NotEncodable("the component is declared " + shape.types()[i].getName()
          + ", which cannot hold the " + component.getClass().getName()
          + "'s decoded form (declare an interface such as List, Set or Map, or the class)");
    }
    write(out, component, depth + 1);
  }

  private static void set(Sink out, Set<?> set, int depth) {
    enter(depth);
    int kind = setKind(set);
    if (kind < 0) {
      throw notRebuilt(set);
    }
    List<Encoded> elements = new ArrayList<>(Math.min(set.size(), 1 << 16));
    int i = 0;
    for (Object element : set) {
      try {
        elements.add(Encoded.of(element, depth));
      } catch (NotEncodable e) {
        throw e.at("{" + i + "}");
      }
      i++;
    }
    List<Encoded> sorted = new ArrayList<>(elements);
    sorted.sort(null);
    for (int j = 1; j < sorted.size(); j++) {
      if (sorted.get(j - 1).compareTo(sorted.get(j)) == 0) {
        throw new NotEncodable("two of the set's elements encode alike, which only a set breaking"
            + " the Set contract (such as an identity-based one) can hold");
      }
    }
    out.u8(SET);
    out.u8(kind);
    out.varint(elements.size());
    for (Encoded element : StandardCodec.order(kind) == StandardCodec.Order.ENCODED ? sorted
        : elements) {
      out.bytes(element.bytes, 0, element.length);
    }
  }

  private static void map(Sink out, Map<?, ?> map, int depth) {
    enter(depth);
    int kind = mapKind(map);
    if (kind < 0) {
      throw notRebuilt(map);
    }
    record Entry(Encoded key, Object value, int index) implements Comparable<Entry> {
      @Override
      public int compareTo(Entry other) {
        return key.compareTo(other.key);
      }
    }
    List<Entry> entries = new ArrayList<>(Math.min(map.size(), 1 << 16));
    int i = 0;
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      try {
        entries.add(new Entry(Encoded.of(entry.getKey(), depth), entry.getValue(), i));
      } catch (NotEncodable e) {
        throw e.at("{key " + i + "}");
      }
      i++;
    }
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(null);
    for (int j = 1; j < sorted.size(); j++) {
      if (sorted.get(j - 1).compareTo(sorted.get(j)) == 0) {
        throw new NotEncodable("two of the map's keys encode alike, which only a map breaking"
            + " the Map contract (such as an identity-based one) can hold");
      }
    }
    out.u8(MAP);
    out.u8(kind);
    out.varint(entries.size());
    for (Entry entry : StandardCodec.order(kind) == StandardCodec.Order.ENCODED ? sorted
        : entries) {
      out.bytes(entry.key.bytes, 0, entry.key.length);
      try {
        write(out, entry.value, depth + 1);
      } catch (NotEncodable e) {
        throw e.at("{value " + entry.index + "}");
      }
    }
  }

  /** The encoding of a set's element or a map's key, ordered as unsigned bytes. */
  private record Encoded(byte[] bytes, int length) implements Comparable<Encoded> {
    static Encoded of(Object value, int depth) {
      Sink sink = Sink.keeping(16);
      write(sink, value, depth + 1);
      return new Encoded(sink.buf, (int) sink.size);
    }

    @Override
    public int compareTo(Encoded other) {
      return Arrays.compareUnsigned(bytes, 0, length, other.bytes, 0, other.length);
    }
  }

  /**
   * Where the bytes go: a growing array, or nowhere (only counted). Either refuses to grow past
   * {@link StandardCodec#MAX_SIZE}.
   */
  private static final class Sink {
    private byte[] buf; // null when only counting
    private long size;

    private Sink(byte[] buf) {
      this.buf = buf;
    }

    static Sink counting() {
      return new Sink(null);
    }

    static Sink keeping(int capacity) {
      return new Sink(new byte[capacity]);
    }

    /** Claims the next {@code n} bytes, returning where they start (meaningless when counting). */
    private int claim(long n) {
      long end = size + n;
      if (end > MAX_SIZE) {
        throw new NotEncodable("it encodes to more than " + MAX_SIZE + " bytes");
      }
      int at = (int) size;
      size = end;
      if (buf != null && end > buf.length) {
        buf = Arrays.copyOf(buf, (int) Math.min(MAX_SIZE, Math.max(end, 2L * buf.length)));
      }
      return at;
    }

    /**
     * Claims the next {@code n} bytes and returns a little-endian view to write them through, or
     * null when only counting.
     */
    ByteBuffer view(long n) {
      int at = claim(n);
      return buf == null ? null
          : ByteBuffer.wrap(buf, at, (int) n).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    void u8(int b) {
      int at = claim(1);
      if (buf != null) {
        buf[at] = (byte) b;
      }
    }

    void le16(int v) {
      int at = claim(2);
      if (buf != null) {
        buf[at] = (byte) v;
        buf[at + 1] = (byte) (v >>> 8);
      }
    }

    void le32(int v) {
      int at = claim(4);
      if (buf != null) {
        for (int i = 0; i < 4; i++) {
          buf[at + i] = (byte) (v >>> (8 * i));
        }
      }
    }

    void le64(long v) {
      int at = claim(8);
      if (buf != null) {
        for (int i = 0; i < 8; i++) {
          buf[at + i] = (byte) (v >>> (8 * i));
        }
      }
    }

    /** Writes {@code v}, an unsigned 64-bit integer, as a varint. */
    void varint(long v) {
      int length = (64 - Long.numberOfLeadingZeros(v | 1) + 6) / 7;
      int at = claim(length);
      if (buf != null) {
        for (int i = 0; i < length - 1; i++) {
          buf[at + i] = (byte) (v & 0x7F | 0x80);
          v >>>= 7;
        }
        buf[at + length - 1] = (byte) v;
      }
    }

    void zigzag(long v) {
      varint((v << 1) ^ (v >> 63));
    }

    void bytes(byte[] b, int offset, int length) {
      int at = claim(length);
      if (buf != null) {
        System.arraycopy(b, offset, buf, at, length);
      }
    }

    void bigInteger(BigInteger b) {
      int length = b.bitLength() / 8 + 1; // the length of toByteArray()
      varint(length);
      if (buf == null) {
        claim(length);
      } else {
        byte[] bytes = b.toByteArray();
        bytes(bytes, 0, bytes.length);
      }
    }

    /** Writes {@code s} as a len and its UTF-8; refuses one with an unpaired surrogate. */
    void utf8(String s) {
      long length = utf8Length(s);
      if (length < 0) {
        throw new NotEncodable("the string has an unpaired surrogate at index " + (-length - 1)
            + ", which UTF-8 cannot hold (a char[] can)");
      }
      varint(length);
      if (buf == null) {
        claim(length);
      } else {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        bytes(bytes, 0, bytes.length);
      }
    }

    /** Returns the UTF-8 length of {@code s}, or -1 - i for an unpaired surrogate at i. */
    private static long utf8Length(String s) {
      long length = s.length();
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          continue;
        }
        if (c < 0x800) {
          length += 1;
        } else if (!Character.isSurrogate(c)) {
          length += 2;
        } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          length += 2; // four bytes for the two chars
          i++;
        } else {
          return -1 - i;
        }
      }
      return length;
    }
  }

  /**
   * Why a value cannot be encoded, and where in it; thrown up the walk without a stack trace.
   */
  private static final class NotEncodable extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final StringBuilder path = new StringBuilder();

    NotEncodable(String reason) {
      super(reason, null, false, false);
    }

    NotEncodable at(String step) {
      path.insert(0, step);
      return this;
    }

    String where() {
      return "the value" + (path.isEmpty() ? "" : " at " + path);
    }
  }
}
