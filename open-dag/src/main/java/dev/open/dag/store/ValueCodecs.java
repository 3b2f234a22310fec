package dev.open.dag.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An ordered set of {@link ValueCodec}s: a value is encoded by the first codec that can encode it
 * and decoded by the codec whose id its entry names. Immutable and thread-safe.
 *
 * <p>The built-ins, {@link #standard()}, are tried in this order:
 *
 * <ol>
 *   <li>{@code "open.ndarray.v1"}: an {@link dev.open.dag.array.NDArray}, as a small header and
 *       the array's own buffer, copied neither when encoded nor when decoded from a direct or
 *       mapped buffer;
 *   <li>{@code "open.std.v2"}: null, the boxed primitives, strings, {@code BigInteger}, {@code
 *       BigDecimal}, arrays of primitives, enums, {@code Instant}, {@code Duration}, {@code
 *       LocalDate}, and lists, sets, maps, {@code Optional}s and records of those and of {@code
 *       NDArray}s, nested at most 512 deep. Lists, sets and maps decode as unmodifiable ones (sets
 *       and maps keeping their encoded order); sets and maps encode in an order fixed by their
 *       content, so equal values encode to equal bytes whatever their implementation. Floats and
 *       doubles are kept bit for bit, NaN payloads included.
 * </ol>
 *
 * <p>Each built-in format is fixed for its id: a new format will be a new id, and entries of the
 * old one stay readable.
 */
public final class ValueCodecs {

  private static final ValueCodecs STANDARD =
      new ValueCodecs(List.of(new NDArrayCodec(), new StandardCodec()));

  private final List<ValueCodec> codecs;

  private ValueCodecs(List<ValueCodec> codecs) {
    this.codecs = List.copyOf(codecs);
  }

  /** {@return the built-in codecs: {@code "open.ndarray.v1"}, then {@code "open.std.v2"}} */
  public static ValueCodecs standard() {
    return STANDARD;
  }

  /**
   * Returns these codecs with {@code codec} tried first.
   *
   * @param codec a codec whose id none of these has
   * @return a new set
   * @throws IllegalArgumentException if one of these has the same id, naming it
   */
  public ValueCodecs with(ValueCodec codec) {
    Objects.requireNonNull(codec, "codec");
    String id = Objects.requireNonNull(codec.id(), "codec.id()");
    if (byId(id).isPresent()) {
      throw new IllegalArgumentException("a codec with id '" + id + "' is already there");
    }
    List<ValueCodec> list = new ArrayList<>(codecs.size() + 1);
    list.add(codec);
    list.addAll(codecs);
    return new ValueCodecs(list);
  }

  /** {@return the codecs in the order they are tried (an unmodifiable list)} */
  public List<ValueCodec> codecs() {
    return codecs;
  }

  /**
   * Returns the first codec that can encode {@code value}.
   *
   * @param value a node's value, possibly null
   * @return the codec, or empty when none can
   */
  public Optional<ValueCodec> forValue(Object value) {
    for (ValueCodec codec : codecs) {
      if (codec.canEncode(value)) {
        return Optional.of(codec);
      }
    }
    return Optional.empty();
  }

  /**
   * Returns the codec with id {@code id}.
   *
   * @param id a codec id, as stored in an entry
   * @return the codec, or empty when none has it
   */
  public Optional<ValueCodec> byId(String id) {
    Objects.requireNonNull(id, "id");
    for (ValueCodec codec : codecs) {
      if (id.equals(codec.id())) {
        return Optional.of(codec);
      }
    }
    return Optional.empty();
  }

  /** Returns the codecs' ids, in the order they are tried. */
  @Override
  public String toString() {
    return "ValueCodecs" + codecs.stream().map(ValueCodec::id).toList();
  }
}
