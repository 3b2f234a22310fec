package dev.open.dag.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.LongStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.open.dag.array.NDArray;

/**
 * Properties of {@link StandardCodec} over seeded random values ({@link RandomValues}); the seed is
 * in each test's name and each assertion's message.
 */
class StandardCodecPropertyTest {
  private static final StandardCodec CODEC = new StandardCodec();

  /** Seeds 0 to 299, or as many as the system property {@code open.store.seeds} says. */
  static LongStream seeds() {
    return LongStream.range(0, Long.getLong("open.store.seeds", 300));
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void roundTripsDeterministicallyAndCanonically(long seed) {
    RandomValues first = new RandomValues(seed, 1, false);
    Object value = first.next();
    Object twin = new RandomValues(seed, 2, false).next();
    Object triplet = new RandomValues(seed, seed * 31 + 7, false).next();

    assertThat(CODEC.canEncode(value)).as("seed %d: canEncode", seed).isTrue();
    assertThat(CODEC.canEncode(twin)).as("seed %d: canEncode the twin", seed).isTrue();
    byte[] bytes = StandardCodecTest.encode(value);
    assertThat(StandardCodecTest.encode(twin)).as("seed %d: the twin's bytes", seed)
        .isEqualTo(bytes);
    assertThat(StandardCodecTest.encode(triplet)).as("seed %d: the triplet's bytes", seed)
        .isEqualTo(bytes);

    Object decoded = StandardCodecTest.decode(bytes);
    Object fromDirect = CODEC.decode(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip());
    assertThat(fidelity(twin)).as("seed %d: the twin's classes and orders", seed)
        .isEqualTo(fidelity(value));
    assertThat(fidelity(decoded)).as("seed %d: decoded classes and orders", seed)
        .isEqualTo(fidelity(value));
    assertThat(fidelity(fromDirect)).as("seed %d: decoded classes and orders, direct", seed)
        .isEqualTo(fidelity(value));
    assertThat(normalize(decoded)).as("seed %d: decoded", seed).isEqualTo(normalize(value));
    assertThat(normalize(fromDirect)).as("seed %d: decoded, direct", seed)
        .isEqualTo(normalize(value));
    if (!first.hasArrays()) {
      assertThat(decoded).as("seed %d: decoded equals", seed).isEqualTo(value);
      assertThat(value).as("seed %d: equals decoded", seed).isEqualTo(decoded);
      assertThat(fromDirect).as("seed %d: decoded from direct equals", seed).isEqualTo(value);
    }
    assertThat(CODEC.canEncode(decoded)).as("seed %d: canEncode decoded", seed).isTrue();
    assertThat(StandardCodecTest.encode(decoded)).as("seed %d: re-encoded", seed)
        .isEqualTo(bytes);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void refusesAnUnsupportedValueAnywhereInside(long seed) {
    Object value = new RandomValues(seed, 1, true).next();

    assertThat(CODEC.canEncode(value)).as("seed %d: canEncode", seed).isFalse();
    assertThatThrownBy(() -> CODEC.encode(value)).as("seed %d: encode", seed)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("open.std.v2 cannot encode the value");
    assertThat(ValueCodecs.standard().forValue(value)).as("seed %d: forValue", seed).isEmpty();
  }

  /** Checks that the generator makes what the properties above need, so that they mean much. */
  @org.junit.jupiter.api.Test
  void theGeneratorCoversEveryKindAndBuildsTwinsDifferently() {
    Set<String> kinds = new HashSet<>();
    int differentOrders = 0;
    int largest = 0;
    int deepPoison = 0;
    for (long seed : seeds().toArray()) {
      Object value = new RandomValues(seed, 1, false).next();
      Object twin = new RandomValues(seed, 2, false).next();
      kinds(value, kinds);
      largest = Math.max(largest, StandardCodecTest.encode(value).length);
      if (!iterationOrder(value).equals(iterationOrder(twin))) {
        differentOrders++;
      }
      Object poisoned = new RandomValues(seed, 1, true).next();
      try {
        CODEC.encode(poisoned);
      } catch (IllegalArgumentException e) {
        String where = e.getMessage().replaceAll(":.*", "");
        if (where.chars().filter(c -> c == '[' || c == '{' || c == '.').count() >= 3) {
          deepPoison++;
        }
      }
    }
    assertThat(kinds).containsAll(List.of("null", "Boolean", "Byte", "Short", "Integer", "Long",
        "Float", "Double", "Character", "String", "BigInteger", "BigDecimal", "byte[]", "short[]",
        "int[]", "long[]", "float[]", "double[]", "boolean[]", "char[]", "StandardCodecTest$Color",
        "DType", "Instant", "Duration", "LocalDate", "NDArray", "Optional",
        "StandardCodecTest$Point", "StandardCodecTest$Named", "StandardCodecTest$Pair",
        "StandardCodecTest$Group", "StandardCodecTest$Empty", "ArrayList", "LinkedList",
        "Arrays$ArrayList", "ImmutableCollections$ListN", "ImmutableCollections$List12",
        "Collections$UnmodifiableRandomAccessList", "Collections$UnmodifiableList",
        "Collections$EmptyList", "Collections$SingletonList", "CopyOnWriteArrayList", "HashSet",
        "LinkedHashSet", "TreeSet", "ConcurrentHashMap$KeySetView", "ImmutableCollections$SetN",
        "ImmutableCollections$Set12", "Collections$UnmodifiableSet",
        "Collections$UnmodifiableSequencedSet", "Collections$SingletonSet",
        "Collections$EmptySet", "HashMap", "LinkedHashMap", "TreeMap", "ConcurrentHashMap",
        "ImmutableCollections$MapN", "Collections$UnmodifiableMap",
        "Collections$UnmodifiableSequencedMap", "Collections$SingletonMap",
        "Collections$EmptyMap"));
    assertThat(differentOrders).as("twins iterating differently").isGreaterThan(50);
    assertThat(largest).as("the largest encoding").isGreaterThan(4000);
    assertThat(deepPoison).as("poison at least 3 levels deep").isGreaterThan(20);
  }

  private static void kinds(Object value, Set<String> kinds) {
    if (value == null) {
      kinds.add("null");
      return;
    }
    String name = value instanceof Enum<?> e ? e.getDeclaringClass().getName()
        : value.getClass().isArray() ? value.getClass().getComponentType().getName() + "[]"
        : value.getClass().getName();
    kinds.add(name.substring(name.lastIndexOf('.') + 1));
    switch (value) {
      case Optional<?> o -> o.ifPresent(v -> kinds(v, kinds));
      case Iterable<?> i -> i.forEach(v -> kinds(v, kinds));
      case Map<?, ?> m -> m.forEach((k, v) -> {
        kinds(k, kinds);
        kinds(v, kinds);
      });
      default -> { }
    }
    if (value instanceof Record r) {
      for (RecordComponent component : r.getClass().getRecordComponents()) {
        try {
          kinds(component.getAccessor().invoke(r), kinds);
        } catch (ReflectiveOperationException e) {
          throw new AssertionError(e);
        }
      }
    }
  }

  /**
   * Returns what of {@code value} a decoded value must keep beyond equality: each collection's
   * class (for the JDK's unmodifiable ones, which decode to other internal classes, the kind),
   * and the order of lists and of the sets and maps whose order is defined; leaves normalized.
   */
  static Object fidelity(Object value) {
    return switch (value) {
      case Optional<?> o -> List.of("Optional", o.map(StandardCodecPropertyTest::fidelity));
      case Record r -> record(r, StandardCodecPropertyTest::fidelity);
      case List<?> l -> {
        int kind = StandardEncoder.listKind(l);
        List<Object> elements = new ArrayList<>();
        l.forEach(e -> elements.add(fidelity(e)));
        yield List.of(kind == StandardCodec.UNMODIFIABLE_LIST ? "unmodifiable list"
            : l.getClass(), elements);
      }
      case Set<?> s -> {
        int kind = StandardEncoder.setKind(s);
        Collection<Object> elements = StandardCodec.order(kind) == StandardCodec.Order.ENCODED
            ? new HashSet<>() : new ArrayList<>();
        s.forEach(e -> elements.add(fidelity(e)));
        yield List.of(kind >= StandardCodec.UNMODIFIABLE ? "unmodifiable set " + kind
            : s.getClass(), elements);
      }
      case Map<?, ?> m -> {
        int kind = StandardEncoder.mapKind(m);
        Collection<Object> entries = StandardCodec.order(kind) == StandardCodec.Order.ENCODED
            ? new HashSet<>() : new ArrayList<>();
        m.forEach((k, v) -> entries.add(List.of(fidelity(k), fidelity(v))));
        yield List.of(kind >= StandardCodec.UNMODIFIABLE ? "unmodifiable map " + kind
            : m.getClass(), entries);
      }
      case null, default -> normalize(value);
    };
  }

  /** Returns the leaves of {@code value} in iteration order. */
  private static List<Object> iterationOrder(Object value) {
    List<Object> out = new ArrayList<>();
    switch (value) {
      case Optional<?> o -> o.ifPresent(v -> out.addAll(iterationOrder(v)));
      case Iterable<?> i -> i.forEach(v -> out.addAll(iterationOrder(v)));
      case Map<?, ?> m -> m.forEach((k, v) -> {
        out.addAll(iterationOrder(k));
        out.addAll(iterationOrder(v));
      });
      case null, default -> out.add(normalize(value));
    }
    return out;
  }

  /** A record as its class and each component mapped by {@code each}, in declaration order. */
  private static List<Object> record(Record r, java.util.function.UnaryOperator<Object> each) {
    List<Object> out = new ArrayList<>();
    out.add(r.getClass());
    for (RecordComponent component : r.getClass().getRecordComponents()) {
      try {
        component.getAccessor().setAccessible(true);
        out.add(each.apply(component.getAccessor().invoke(r)));
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(e);
      }
    }
    return out;
  }

  /**
   * Returns a form of {@code value} whose equals is deep and exact: arrays as lists, floats and
   * doubles as their raw bits, records as their class and components.
   */
  static Object normalize(Object value) {
    return switch (value) {
      case null -> List.of("null");
      case Float f -> List.of("float", Float.floatToRawIntBits(f));
      case Double d -> List.of("double", Double.doubleToRawLongBits(d));
      case NDArray a -> a;
      case Optional<?> o -> o.map(StandardCodecPropertyTest::normalize);
      case Record r -> record(r, StandardCodecPropertyTest::normalize);
      case List<?> l -> {
        List<Object> out = new ArrayList<>();
        l.forEach(e -> out.add(normalize(e)));
        yield out;
      }
      case Set<?> s -> {
        Set<Object> out = new HashSet<>();
        s.forEach(e -> out.add(normalize(e)));
        yield out;
      }
      case Map<?, ?> m -> {
        Map<Object, Object> out = new HashMap<>();
        m.forEach((k, v) -> out.put(normalize(k), normalize(v)));
        yield out;
      }
      default -> {
        if (!value.getClass().isArray()) {
          yield value;
        }
        List<Object> out = new ArrayList<>();
        out.add(value.getClass());
        for (int i = 0; i < Array.getLength(value); i++) {
          out.add(normalize(Array.get(value, i)));
        }
        yield out;
      }
    };
  }
}
