package dev.open.dag.store;

import java.util.List;
import java.util.Optional;

/**
 * An ordered set of {@link ValueCodec}s: a value is encoded by the first codec that can encode it
 * and decoded by the codec whose id its entry names. Immutable and thread-safe.
 */
public final class ValueCodecs {
  // TODO(store helper): implement; this skeleton fixes the API the executor uses.
  private ValueCodecs() {}

  /** Returns the built-in codecs. */
  public static ValueCodecs standard() {
    throw new UnsupportedOperationException();
  }

  /**
   * Returns these codecs with {@code codec} tried first.
   *
   * @param codec a codec whose id none of these has
   * @return a new set
   */
  public ValueCodecs with(ValueCodec codec) {
    throw new UnsupportedOperationException();
  }

  /** Returns the codecs in the order they are tried. */
  public List<ValueCodec> codecs() {
    throw new UnsupportedOperationException();
  }

  /**
   * Returns the first codec that can encode {@code value}.
   *
   * @param value a node's value, possibly null
   * @return the codec, or empty when none can
   */
  public Optional<ValueCodec> forValue(Object value) {
    throw new UnsupportedOperationException();
  }

  /**
   * Returns the codec with id {@code id}.
   *
   * @param id a codec id, as stored in an entry
   * @return the codec, or empty when none has it
   */
  public Optional<ValueCodec> byId(String id) {
    throw new UnsupportedOperationException();
  }
}
