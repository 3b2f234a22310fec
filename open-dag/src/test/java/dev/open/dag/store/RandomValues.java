package dev.open.dag.store;

import java.lang.reflect.Array;
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
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;
import dev.open.dag.store.StandardCodecTest.Color;
import dev.open.dag.store.StandardCodecTest.Empty;
import dev.open.dag.store.StandardCodecTest.Group;
import dev.open.dag.store.StandardCodecTest.Named;
import dev.open.dag.store.StandardCodecTest.Pair;
import dev.open.dag.store.StandardCodecTest.Point;

/**
 * Random values for {@link StandardCodec}, every draw from seeds. What the value is comes from
 * one seed, how it is built (which List, Set and Map implementations, in which order entries are
 * inserted, the capacity of hash tables) from another: two generators with the same first seed
 * and different second seeds build equal values differently.
 *
 * <p>Inside set elements and map keys ("key" positions) it makes no primitive arrays (which
 * compare by identity) and only the canonical NaN (sets keep one of equal NaNs, whichever comes
 * first). With {@code poison}, one leaf, at a position drawn from the first seed, is a value the
 * codec cannot encode.
 */
final class RandomValues {
  private static final int MAX_DEPTH = 6;

  private final Random what;
  private final Random how;
  private int budget;
  private int leaves;
  private final int poisonAt;
  private boolean poisoned;
  private boolean arrays;

  RandomValues(long seed, long buildSeed, boolean poison) {
    this.what = new Random(seed);
    this.how = new Random(buildSeed);
    this.budget = 5 + what.nextInt(200);
    this.poisonAt = poison ? what.nextInt(30) : -1;
  }

  /** Returns the value (with a poison leaf somewhere, if asked for). */
  Object next() {
    Object value = value(0, false);
    if (poisonAt >= 0 && !poisoned) {
      Object bad = poison(false);
      value = what.nextBoolean() ? Arrays.asList(value, bad)
          : new Named("wrapped", Optional.of(Arrays.asList(bad, value)));
    }
    return value;
  }

  /** Returns whether the value holds primitive arrays (so that only deep equality holds). */
  boolean hasArrays() {
    return arrays;
  }

  private Object value(int depth, boolean key) {
    budget--;
    if (depth < MAX_DEPTH && budget > 0 && what.nextInt(10) < (depth == 0 ? 8 : 4)) {
      return container(depth, key);
    }
    if (leaves++ == poisonAt) {
      poisoned = true;
      return poison(key);
    }
    return leaf(key);
  }

  private Object container(int depth, boolean key) {
    return switch (what.nextInt(5)) {
      case 0 -> list(depth, key);
      case 1 -> set(depth);
      case 2 -> map(depth, key);
      case 3 -> Optional.ofNullable(value(depth + 1, key));
      default -> record(depth, key);
    };
  }

  private List<Object> list(int depth, boolean key) {
    int n = width();
    List<Object> elements = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      elements.add(value(depth + 1, key));
    }
    boolean nulls = elements.contains(null);
    return switch (what.nextInt(5)) { // the class is part of the value
      case 0 -> elements;
      case 1 -> new LinkedList<>(elements);
      case 2 -> Arrays.asList(elements.toArray());
      case 3 -> new CopyOnWriteArrayList<>(elements);
      default -> switch (how.nextInt(n < 2 ? 5 : 3)) { // one of the JDK's unmodifiable lists
        case 0 -> nulls ? elements.stream().toList() : List.copyOf(elements);
        case 1 -> Collections.unmodifiableList(new LinkedList<>(elements));
        case 2 -> Collections.unmodifiableList(elements);
        default -> n == 0 ? Collections.emptyList() : Collections.singletonList(elements.get(0));
      };
    };
  }

  private Set<Object> set(int depth) {
    int n = width();
    LinkedHashSet<Object> content = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      Object element = value(depth + 1, true);
      if (!content.add(element)) { // keep what was drawn (it may be the poison): made unique
        content.add(Arrays.asList(element, "again", i));
      }
    }
    List<Object> order = new ArrayList<>(content); // hash-ordered classes: any insertion order
    Collections.shuffle(order, how);
    boolean nulls = content.contains(null);
    boolean strings = content.stream().allMatch(e -> e instanceof String);
    int kind = what.nextInt(8); // the class, and for ordered ones the order, are the value's
    if (kind == 2 && !strings || kind == 6 && !strings || kind == 3 && nulls) {
      kind = 0;
    }
    return switch (kind) {
      case 1 -> content;
      case 2 -> new TreeSet<>(order);
      case 3 -> {
        Set<Object> set = ConcurrentHashMap.newKeySet(1 + how.nextInt(64));
        set.addAll(order);
        yield set;
      }
      case 4 -> switch (how.nextInt(n < 2 ? 4 : 2)) {
        case 0 -> nulls ? Collections.unmodifiableSet(hashSet(order)) : Set.copyOf(order);
        case 1 -> Collections.unmodifiableSet(hashSet(order));
        default -> n == 0 ? Collections.emptySet() : Collections.singleton(order.get(0));
      };
      case 5 -> how.nextBoolean() || n < 2 ? Collections.unmodifiableSequencedSet(content)
          : Collections.unmodifiableSet(content);
      case 6 -> how.nextBoolean() ? Collections.unmodifiableSet(new TreeSet<>(order))
          : Collections.unmodifiableSequencedSet(new TreeSet<>(order));
      default -> hashSet(order);
    };
  }

  /** Returns a HashSet of a capacity drawn from the build seed. */
  private Set<Object> hashSet(List<Object> order) {
    Set<Object> set = new HashSet<>(1 + how.nextInt(64));
    set.addAll(order);
    return set;
  }

  private Map<Object, Object> map(int depth, boolean key) {
    int n = width();
    LinkedHashMap<Object, Object> content = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      Object k = value(depth + 1, true);
      Object v = value(depth + 1, key);
      if (content.containsKey(k)) { // keep what was drawn (either may be the poison, which
        // may equal a key already there: an empty set, a list, a view): made unique
        content.put(Arrays.asList(k, "again", i), v);
      } else {
        content.put(k, v);
      }
    }
    List<Map.Entry<Object, Object>> order = new ArrayList<>(content.entrySet());
    Collections.shuffle(order, how);
    boolean nulls = content.containsKey(null) || content.containsValue(null);
    boolean strings = content.keySet().stream().allMatch(k -> k instanceof String);
    int kind = what.nextInt(8);
    if (kind == 2 && !strings || kind == 6 && !strings || kind == 3 && nulls) {
      kind = 0;
    }
    return switch (kind) {
      case 1 -> content;
      case 2 -> fill(new TreeMap<>(), order);
      case 3 -> fill(new ConcurrentHashMap<>(1 + how.nextInt(64)), order);
      case 4 -> switch (how.nextInt(n < 2 ? 4 : 2)) {
        case 0 -> nulls ? Collections.unmodifiableMap(hashMap(order)) : Map.copyOf(hashMap(order));
        case 1 -> Collections.unmodifiableMap(hashMap(order));
        default -> n == 0 ? Collections.emptyMap()
            : Collections.singletonMap(order.get(0).getKey(), order.get(0).getValue());
      };
      case 5 -> how.nextBoolean() || n < 2 ? Collections.unmodifiableSequencedMap(content)
          : Collections.unmodifiableMap(content);
      case 6 -> how.nextBoolean() ? Collections.unmodifiableMap(fill(new TreeMap<>(), order))
          : Collections.unmodifiableSequencedMap(fill(new TreeMap<>(), order));
      default -> hashMap(order);
    };
  }

  private Map<Object, Object> hashMap(List<Map.Entry<Object, Object>> order) {
    return fill(new HashMap<>(1 + how.nextInt(64)), order);
  }

  private static <M extends Map<Object, Object>> M fill(M map,
      List<Map.Entry<Object, Object>> order) {
    order.forEach(e -> map.put(e.getKey(), e.getValue()));
    return map;
  }

  /** Returns a collection's size: mostly small, now and then wide. */
  private int width() {
    return what.nextInt(8) == 0 ? what.nextInt(60) : what.nextInt(6);
  }

  private Object record(int depth, boolean key) {
    return switch (what.nextInt(5)) {
      case 0 -> new Point(what.nextInt(), what.nextLong(), doubleValue(key));
      case 1 -> new Named(string(), value(depth + 1, key));
      case 2 -> new Pair<>(value(depth + 1, key), value(depth + 1, key));
      case 3 -> new Group(list(depth + 1, key), set(depth + 1), map(depth + 1, key),
          Optional.ofNullable(value(depth + 1, key)));
      default -> new Empty();
    };
  }

  private Object leaf(boolean key) {
    return switch (what.nextInt(18)) {
      case 0 -> null;
      case 1 -> what.nextBoolean();
      case 2 -> (byte) what.nextInt();
      case 3 -> (short) what.nextInt();
      case 4 -> pick(new int[] {0, 1, -1, 63, 64, -65, Integer.MIN_VALUE, Integer.MAX_VALUE,
          what.nextInt(), what.nextInt(1000)});
      case 5 -> pick(new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, what.nextLong(),
          what.nextInt()});
      case 6 -> floatValue(key);
      case 7 -> doubleValue(key);
      case 8 -> (char) what.nextInt(0x10000);
      case 9 -> string();
      case 10 -> bigInteger();
      case 11 -> new BigDecimal(bigInteger(), what.nextInt(3) == 0 ? what.nextInt()
          : what.nextInt(41) - 20);
      case 12 -> key ? string() : array();
      case 13 -> what.nextBoolean() ? Color.values()[what.nextInt(3)]
          : DType.values()[what.nextInt(DType.values().length)];
      case 14 -> Instant.ofEpochSecond(Instant.MIN.getEpochSecond() + (long) (what.nextDouble()
          * (Instant.MAX.getEpochSecond() - (double) Instant.MIN.getEpochSecond())),
          what.nextInt(1_000_000_000));
      case 15 -> Duration.ofSeconds(what.nextLong(), what.nextInt(1_000_000_000));
      case 16 -> LocalDate.ofEpochDay(LocalDate.MIN.toEpochDay() + (long) (what.nextDouble()
          * (LocalDate.MAX.toEpochDay() - (double) LocalDate.MIN.toEpochDay())));
      default -> ndarray();
    };
  }

  private Object pick(Object values) {
    return Array.get(values, what.nextInt(Array.getLength(values)));
  }

  private float floatValue(boolean key) {
    return switch (what.nextInt(6)) {
      case 0 -> key ? Float.NaN : Float.intBitsToFloat(0x7fc00000 | what.nextInt(1 << 22));
      case 1 -> -0f;
      case 2 -> Float.NEGATIVE_INFINITY;
      case 3 -> Float.MIN_VALUE;
      default -> {
        float f = Float.intBitsToFloat(what.nextInt());
        yield key && Float.isNaN(f) ? Float.NaN : f;
      }
    };
  }

  private double doubleValue(boolean key) {
    return switch (what.nextInt(6)) {
      case 0 -> key ? Double.NaN
          : Double.longBitsToDouble(0x7ff8_0000_0000_0000L | what.nextLong() >>> 13);
      case 1 -> -0d;
      case 2 -> Double.POSITIVE_INFINITY;
      case 3 -> Double.MIN_VALUE;
      default -> {
        double d = Double.longBitsToDouble(what.nextLong());
        yield key && Double.isNaN(d) ? Double.NaN : d;
      }
    };
  }

  private String string() {
    int n = what.nextInt(4) == 0 ? 0 : what.nextInt(12);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int kind = what.nextInt(4);
      int codePoint = switch (kind) {
        case 0 -> 0x20 + what.nextInt(0x5f);
        case 1 -> what.nextInt(0x800);
        case 2 -> {
          int c = what.nextInt(0x10000);
          yield Character.isSurrogate((char) c) ? 'x' : c;
        }
        default -> 0x10000 + what.nextInt(0x100000); // a surrogate pair
      };
      s.appendCodePoint(codePoint);
    }
    return new String(s); // never the same instance twice
  }

  private BigInteger bigInteger() {
    BigInteger b = new BigInteger(what.nextInt(what.nextInt(8) == 0 ? 2000 : 80), what);
    return what.nextBoolean() ? b.negate() : b;
  }

  private Object array() {
    arrays = true;
    int n = what.nextInt(what.nextInt(10) == 0 ? 300 : 10);
    return switch (what.nextInt(8)) {
      case 0 -> {
        byte[] a = new byte[n];
        what.nextBytes(a);
        yield a;
      }
      case 1 -> {
        short[] a = new short[n];
        for (int i = 0; i < n; i++) {
          a[i] = (short) what.nextInt();
        }
        yield a;
      }
      case 2 -> what.ints(n).toArray();
      case 3 -> what.longs(n).toArray();
      case 4 -> {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
          a[i] = floatValue(false);
        }
        yield a;
      }
      case 5 -> {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
          a[i] = doubleValue(false);
        }
        yield a;
      }
      case 6 -> {
        boolean[] a = new boolean[n];
        for (int i = 0; i < n; i++) {
          a[i] = what.nextBoolean();
        }
        yield a;
      }
      default -> {
        char[] a = new char[n];
        for (int i = 0; i < n; i++) {
          a[i] = (char) what.nextInt(0x10000);
        }
        yield a;
      }
    };
  }

  private NDArray ndarray() {
    DType dtype = DType.values()[what.nextInt(DType.values().length)];
    int[] shape = new int[what.nextInt(4)];
    long bytes = dtype.itemSize();
    for (int i = 0; i < shape.length; i++) {
      shape[i] = what.nextInt(4);
      bytes *= shape[i];
    }
    byte[] content = new byte[(int) bytes];
    what.nextBytes(content);
    ByteBuffer data = how.nextBoolean() ? ByteBuffer.allocateDirect(content.length)
        : ByteBuffer.allocate(content.length);
    data.put(content).flip();
    return NDArray.wrap(data, dtype, what.nextBoolean() ? NDArray.Order.C : NDArray.Order.F,
        shape);
  }

  /** Returns a value the codec cannot encode; in a key position, one that can be hashed. */
  private Object poison(boolean key) {
    int kinds = key ? 20 : 21;
    return switch (what.nextInt(kinds)) {
      case 0 -> new Object();
      case 1 -> Thread.currentThread();
      case 2 -> (Runnable) () -> { };
      case 3 -> new StringBuilder("sb");
      case 4 -> Optional.of(new Object());
      case 5 -> new ArrayDeque<>(List.of(1));
      case 6 -> LocalDateTime.of(2020, 1, 1, 0, 0);
      case 7 -> new String[] {"a"};
      case 8 -> "lone " + (char) (0xd800 + what.nextInt(0x800));
      case 9 -> new BigInteger("5") { };
      case 10 -> StandardCodecTest.Abstract.ofSet();
      case 11 -> StandardCodecTest.nested(513);
      case 12 -> {
        IdentityHashMap<Object, Object> identity = new IdentityHashMap<>();
        identity.put(new String("k"), 1);
        identity.put(new String("k"), 2);
        yield identity;
      }
      case 13 -> new StandardCodecTest.Throwing(1);
      case 14 -> new Integer[] {1};
      case 15 -> {
        TreeMap<String, Integer> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        sorted.put("a", 1);
        yield sorted;
      }
      case 16 -> new ArrayList<Object>(List.of(2)) { };
      case 17 -> new HashMap<>(Map.of("k", 1)).keySet();
      case 18 -> Collections.unmodifiableSortedSet(new TreeSet<>(Set.of("s")));
      case 19 -> new TreeSet<>(Comparator.reverseOrder());
      default -> {
        List<Object> cyclic = new ArrayList<>();
        cyclic.add("x");
        cyclic.add(cyclic);
        yield cyclic;
      }
    };
  }
}
