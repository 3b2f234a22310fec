package dev.open.dag.store;

import static dev.open.dag.store.StandardCodecTest.CODEC;
import static dev.open.dag.store.StandardCodecTest.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.SequencedCollection;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * A loaded collection behaves as the computed one: same class (for the JDK's internal unmodifiable
 * classes, same interface and unmodifiability), equal, same iteration order where it is defined,
 * equally mutable; and what could not be rebuilt so is refused.
 */
class CollectionFidelityTest {

  /** Round-trips {@code value} and checks what every collection must keep. */
  @SuppressWarnings("unchecked")
  private static <T> T same(T value) {
    Object decoded = roundTrip(value);
    assertThat(decoded).isEqualTo(value);
    assertThat(value).isEqualTo(decoded);
    assertThat(decoded.hashCode()).isEqualTo(value.hashCode());
    return (T) decoded;
  }

  /** Checks that {@code decoded} iterates as {@code value}. */
  private static void sameOrder(Object value, Object decoded) {
    assertThat(new ArrayList<>(iterable(decoded))).isEqualTo(new ArrayList<>(iterable(value)));
  }

  private static Collection<?> iterable(Object value) {
    return value instanceof Map<?, ?> m ? m.entrySet().stream().map(e -> Arrays.asList(e.getKey(),
        e.getValue())).toList() : (Collection<?>) value;
  }

  @Test
  void mutableListsComeBackAsTheSameMutableClass() {
    ArrayList<String> arrayList = new ArrayList<>(List.of("b", "a"));
    ArrayList<String> decoded = same(arrayList); // the reviewer's ClassCastException
    assertThat(decoded).isExactlyInstanceOf(ArrayList.class).containsExactly("b", "a");
    decoded.add("c"); // a dependant that mutates its input
    assertThat(decoded).containsExactly("b", "a", "c");

    LinkedList<Object> linked = new LinkedList<>(Arrays.asList(1, null, 2));
    LinkedList<Object> decodedLinked = same(linked);
    assertThat(decodedLinked).isExactlyInstanceOf(LinkedList.class).containsExactly(1, null, 2);
    decodedLinked.addFirst(0);

    CopyOnWriteArrayList<Object> cow = new CopyOnWriteArrayList<>(List.of(3, 1));
    CopyOnWriteArrayList<Object> decodedCow = same(cow);
    assertThat(decodedCow).isExactlyInstanceOf(CopyOnWriteArrayList.class).containsExactly(3, 1);
    decodedCow.add(2);

    List<Object> fixed = Arrays.asList("x", null, "y");
    List<Object> decodedFixed = same(fixed);
    assertThat(decodedFixed.getClass()).isSameAs(fixed.getClass());
    assertThat(decodedFixed).containsExactly("x", null, "y");
    decodedFixed.set(1, "set"); // fixed size, settable
    assertThatThrownBy(() -> decodedFixed.add("z"))
        .isInstanceOf(UnsupportedOperationException.class);

    assertThat(same(new ArrayList<>())).isExactlyInstanceOf(ArrayList.class).isEmpty();
  }

  @Test
  void unmodifiableListsComeBackUnmodifiableInOrder() {
    ArrayList<Object> withNull = new ArrayList<>(Arrays.asList("z", null, "a"));
    for (List<Object> list : List.<List<Object>>of(List.of("z", "y", "a"), List.of("z"),
        List.of(), List.copyOf(List.<Object>of(3, 2, 1)), Collections.unmodifiableList(withNull),
        Collections.unmodifiableList(new LinkedList<>(withNull)), Collections.emptyList(),
        Collections.singletonList(null), Collections.nCopies(3, "n"),
        Stream.<Object>of("q", null).toList())) {
      List<Object> decoded = same(list);
      sameOrder(list, decoded);
      assertThatThrownBy(() -> decoded.add("more")).as("%s", list.getClass())
          .isInstanceOf(UnsupportedOperationException.class);
      assertThat(StandardEncoder.listKind(decoded)).isEqualTo(StandardCodec.UNMODIFIABLE_LIST);
    }
  }

  @Test
  void hashSetsAndMapsComeBackAsTheSameMutableClass() {
    HashSet<Object> set = new HashSet<>(Arrays.asList("b", null, "a", 3));
    HashSet<Object> decodedSet = same(set);
    assertThat(decodedSet).isExactlyInstanceOf(HashSet.class);
    decodedSet.add("c");

    HashMap<Object, Object> map = new HashMap<>();
    map.put(null, 1);
    map.put("v", null);
    HashMap<Object, Object> decodedMap = same(map);
    assertThat(decodedMap).isExactlyInstanceOf(HashMap.class);
    decodedMap.put("k", "v");

    ConcurrentHashMap<Object, Object> concurrent = new ConcurrentHashMap<>(Map.of("a", 1, "b", 2));
    ConcurrentHashMap<Object, Object> decodedConcurrent = same(concurrent);
    assertThat(decodedConcurrent).isExactlyInstanceOf(ConcurrentHashMap.class);
    decodedConcurrent.put("c", 3);

    Set<Object> keySet = ConcurrentHashMap.newKeySet();
    keySet.addAll(List.of(1, 2, 3));
    Set<Object> decodedKeySet = same(keySet);
    assertThat(decodedKeySet).isExactlyInstanceOf(ConcurrentHashMap.KeySetView.class);
    decodedKeySet.add(4);
    assertThat(decodedKeySet).contains(4);
  }

  @Test
  void linkedSetsAndMapsKeepTheirInsertionOrder() {
    LinkedHashMap<String, Integer> map = new LinkedHashMap<>();
    map.put("b", 2);
    map.put("a", 1);
    map.put("c", 3);
    LinkedHashMap<String, Integer> decoded = same(map); // the reviewer's b, a
    assertThat(decoded).isExactlyInstanceOf(LinkedHashMap.class);
    assertThat(decoded.keySet()).containsExactly("b", "a", "c");
    decoded.put("d", 4);
    assertThat(decoded.lastEntry().getKey()).isEqualTo("d");

    LinkedHashSet<Object> set = new LinkedHashSet<>(Arrays.asList("z", null, "a", 5));
    LinkedHashSet<Object> decodedSet = same(set);
    assertThat(decodedSet).isExactlyInstanceOf(LinkedHashSet.class).containsExactly("z", null,
        "a", 5);
    decodedSet.add("m");
  }

  @Test
  void naturalTreesComeBackAsTreesThatLookUpByCompareTo() {
    TreeMap<String, Integer> map = new TreeMap<>(Map.of("b", 2, "a", 1, "c", 3));
    TreeMap<String, Integer> decoded = same(map);
    assertThat(decoded).isExactlyInstanceOf(TreeMap.class);
    assertThat(decoded.comparator()).isNull();
    assertThat(decoded.keySet()).containsExactly("a", "b", "c");
    assertThat(decoded.headMap("b")).containsOnlyKeys("a");
    decoded.put("aa", 0);
    assertThat(decoded.keySet()).containsExactly("a", "aa", "b", "c");

    // compareTo, not equals: 1.0 and 1.00 are one key
    TreeSet<java.math.BigDecimal> decimals = new TreeSet<>(List.of(new java.math.BigDecimal(
        "1.0"), java.math.BigDecimal.TEN));
    TreeSet<java.math.BigDecimal> decodedDecimals = same(decimals);
    assertThat(decodedDecimals).isExactlyInstanceOf(TreeSet.class);
    assertThat(decodedDecimals.contains(new java.math.BigDecimal("1.00"))).isTrue();
    assertThat(decodedDecimals.first()).hasToString("1.0");

    TreeSet<Integer> ints = new TreeSet<>(List.of(-5, 300, 7, 0)); // not the encoded bytes' order
    TreeSet<Integer> decodedInts = same(ints);
    assertThat(decodedInts).containsExactly(-5, 0, 7, 300);
    decodedInts.add(1);
    assertThat(same(new TreeMap<>())).isExactlyInstanceOf(TreeMap.class);
  }

  @Test
  void unmodifiableSetsAndMapsComeBackUnmodifiableWithTheirDefinedOrder() {
    LinkedHashSet<String> linked = new LinkedHashSet<>(List.of("z", "a", "m"));
    TreeSet<String> tree = new TreeSet<>(linked);
    for (Set<String> set : List.<Set<String>>of(Set.of("z", "a", "m"), Set.of("z"), Set.of(),
        Set.copyOf(linked), Collections.unmodifiableSet(new HashSet<>(linked)),
        Collections.emptySet(), Collections.singleton("s"),
        Collections.unmodifiableSet(linked), Collections.unmodifiableSequencedSet(linked),
        Collections.unmodifiableSet(tree), Collections.unmodifiableSequencedSet(tree))) {
      Set<String> decoded = same(set);
      assertThatThrownBy(() -> decoded.add("more")).as("%s", set.getClass())
          .isInstanceOf(UnsupportedOperationException.class);
      if (set.spliterator().hasCharacteristics(java.util.Spliterator.ORDERED)) {
        sameOrder(set, decoded);
      }
      if (set instanceof SequencedCollection<?>) {
        assertThat(decoded).isInstanceOf(SequencedCollection.class);
      }
    }
    assertThat(((java.util.SequencedSet<String>) same(Collections.unmodifiableSet(tree)))
        .getFirst()).isEqualTo("a");

    LinkedHashMap<String, Integer> linkedMap = new LinkedHashMap<>();
    linkedMap.put("z", 1);
    linkedMap.put("a", 2);
    TreeMap<String, Integer> treeMap = new TreeMap<>(linkedMap);
    for (Map<String, Integer> map : List.<Map<String, Integer>>of(Map.of("z", 1, "a", 2),
        Map.of(), Map.of("k", 1), Map.copyOf(linkedMap),
        Collections.unmodifiableMap(new HashMap<>(linkedMap)), Collections.emptyMap(),
        Collections.singletonMap("s", 1), Collections.unmodifiableMap(linkedMap),
        Collections.unmodifiableSequencedMap(linkedMap), Collections.unmodifiableMap(treeMap),
        Collections.unmodifiableSequencedMap(treeMap))) {
      Map<String, Integer> decoded = same(map);
      assertThatThrownBy(() -> decoded.put("more", 0)).as("%s", map.getClass())
          .isInstanceOf(UnsupportedOperationException.class);
      if (map.keySet().spliterator().hasCharacteristics(java.util.Spliterator.ORDERED)) {
        sameOrder(map, decoded);
      }
      if (map instanceof SequencedMap<?, ?>) {
        assertThat(decoded).isInstanceOf(SequencedMap.class);
      }
    }
  }

  @Test
  void nestedCollectionsKeepTheirClassesAndOrders() {
    LinkedHashMap<String, List<Object>> outer = new LinkedHashMap<>();
    outer.put("second", new ArrayList<>(List.of(new TreeSet<>(List.of(3, 1)))));
    outer.put("first", new LinkedList<>(List.of(new LinkedHashMap<>(Map.of("k", "v")))));
    LinkedHashMap<String, List<Object>> decoded = same(outer);
    assertThat(decoded.keySet()).containsExactly("second", "first");
    assertThat(decoded.get("second")).isExactlyInstanceOf(ArrayList.class);
    assertThat(decoded.get("second").get(0)).isExactlyInstanceOf(TreeSet.class);
    assertThat(decoded.get("first")).isExactlyInstanceOf(LinkedList.class);
    assertThat(decoded.get("first").get(0)).isExactlyInstanceOf(LinkedHashMap.class);
  }

  /** A subclass is not its superclass: decoding would lose what it adds. */
  static final class Tagged extends ArrayList<Object> {
    private static final long serialVersionUID = 1L;
  }

  @Test
  void refusesWhatItCouldNotRebuild() {
    TreeMap<String, Integer> insensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    insensitive.put("a", 1); // the reviewer's m.get("A")
    TreeSet<Integer> reversed = new TreeSet<>(Comparator.reverseOrder());
    reversed.addAll(List.of(1, 2));
    HashMap<String, Integer> backing = new HashMap<>(Map.of("a", 1));
    Tagged tagged = new Tagged();
    tagged.add(1);
    Map<Object, String> refused = new java.util.IdentityHashMap<>();
    refused.put(insensitive, "a java.util.TreeMap with a comparator is not a collection");
    refused.put(reversed, "a java.util.TreeSet with a comparator is not a collection");
    refused.put(Collections.unmodifiableMap(insensitive), "Collections$UnmodifiableMap");
    refused.put(Collections.unmodifiableSet(reversed), "Collections$UnmodifiableSet");
    refused.put(tagged, CollectionFidelityTest.class.getName() + "$Tagged");
    refused.put(new ArrayList<Object>() { }, "CollectionFidelityTest$");
    refused.put(backing.keySet(), "java.util.HashMap$KeySet");
    refused.put(backing.values(), "java.util.HashMap$Values");
    refused.put(backing.entrySet(), "java.util.HashMap$EntrySet");
    refused.put(new ConcurrentHashMap<>(backing).keySet(), "KeySetView");
    refused.put(new ArrayList<>(List.of(1, 2)).subList(0, 1), "SubList");
    refused.put(insensitive.descendingMap(), "TreeMap$DescendingSubMap");
    refused.put(Collections.synchronizedMap(new HashMap<>()), "SynchronizedMap");
    refused.put(Collections.checkedList(new ArrayList<>(), Object.class), "CheckedRandomAccess");
    refused.put(java.util.EnumSet.of(StandardCodecTest.Color.RED), "java.util.RegularEnumSet");
    refused.put(new java.util.concurrent.ConcurrentSkipListMap<>(), "ConcurrentSkipListMap");
    refused.put(Collections.unmodifiableSortedMap(new TreeMap<>()), "UnmodifiableSortedMap");
    refused.put(List.of(new ArrayList<>(List.of(insensitive))), "the value at [0][0]: a java.util"
        + ".TreeMap with a comparator");
    refused.put(new StandardCodecTest.Named("n", reversed), "the value at .value(): a java.util"
        + ".TreeSet with a comparator");
    for (Map.Entry<Object, String> entry : refused.entrySet()) {
      Object value = entry.getKey();
      assertThat(CODEC.canEncode(value)).as("canEncode %s", entry.getValue()).isFalse();
      assertThatThrownBy(() -> CODEC.encode(value)).as("encode %s", entry.getValue())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(StandardCodec.ID + " cannot encode ")
          .hasMessageContaining(entry.getValue());
      assertThat(ValueCodecs.standard().forValue(value)).as("%s", entry.getValue()).isEmpty();
    }
  }

  /** Records whose components are declared concrete collection classes. */
  record Declared(ArrayList<String> list, LinkedHashMap<String, Integer> map,
      TreeSet<Integer> sorted, HashSet<Object> set, LinkedList<Object> queue) {}

  record Interfaces(SequencedCollection<Object> ordered, SequencedMap<String, Object> map,
      Collection<Object> any) {}

  @Test
  void recordsMayDeclareTheClassesItRebuilds() {
    LinkedHashMap<String, Integer> map = new LinkedHashMap<>();
    map.put("b", 1);
    map.put("a", 2);
    Declared declared = new Declared(new ArrayList<>(List.of("x")), map,
        new TreeSet<>(List.of(2, 1)), new HashSet<>(List.of("h")), new LinkedList<>());
    Declared decoded = same(declared);
    assertThat(decoded.map().keySet()).containsExactly("b", "a");
    decoded.list().add("y");

    Interfaces interfaces = new Interfaces(Collections.unmodifiableSequencedSet(
        new LinkedHashSet<>(List.of(1))), Collections.unmodifiableSequencedMap(map), Set.of(1));
    Interfaces decodedInterfaces = same(interfaces);
    assertThat(decodedInterfaces.map().sequencedKeySet()).containsExactly("b", "a");

    Declared sortedByComparator = new Declared(new ArrayList<>(), map,
        new TreeSet<>(Comparator.reverseOrder()), new HashSet<>(), new LinkedList<>());
    assertThat(CODEC.canEncode(sortedByComparator)).isFalse();
  }
}
