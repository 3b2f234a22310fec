package dev.open.dag.store;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Encodes node values of some types to bytes and back, so that a {@link ResultStore} can keep
 * them. Register your own with {@link ValueCodecs#with}; the built-ins ({@link
 * ValueCodecs#standard()}) cover primitives, strings, arrays, {@code NDArray}, lists, maps and
 * records of those.
 *
 * <p>A codec must be deterministic — equal values encode to equal bytes — since the encoded bytes'
 * hash is what dependants' keys are made of; and {@code decode(encode(v))} must equal {@code v}.
 * Implementations are stateless and thread-safe.
 */
public interface ValueCodec {

  /**
   * {@return the codec's id, stored with every entry it encodes and used to find it again: stable
   * across releases, such as {@code "open.std.v2"}; a new format is a new id}
   */
  String id();

  /**
   * Says whether this codec can encode {@code value} (wholly: a list of values it cannot encode is
   * not encodable).
   *
   * @param value a node's value, possibly null
   * @return true if {@link #encode} will succeed
   */
  boolean canEncode(Object value);

  /**
   * Encodes {@code value}.
   *
   * @param value a value for which {@link #canEncode} is true
   * @return the bytes, in one or more parts (each from its position to its limit)
   */
  List<ByteBuffer> encode(Object value);

  /**
   * Decodes what {@link #encode} produced.
   *
   * @param data the bytes of one entry, from position to limit (possibly a direct or mapped
   *     buffer the decoded value may keep a view of)
   * @return the value
   * @throws IllegalArgumentException if the bytes are not this codec's
   */
  Object decode(ByteBuffer data);
}
