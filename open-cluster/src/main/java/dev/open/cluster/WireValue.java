package dev.open.cluster;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.List;

import dev.open.dag.store.ValueCodec;
import dev.open.dag.store.ValueCodecs;

/**
 * A value as it crosses the cluster: the id of the {@link ValueCodec} that encoded it and its
 * bytes. Every member decodes it with its own codecs, which are the same, every member running the
 * same application.
 *
 * @param codec the codec's id
 * @param bytes the encoded value
 */
record WireValue(String codec, byte[] bytes) implements Serializable {

  /**
   * Encodes {@code value} with the first codec that can.
   *
   * @param what names the value in the error, such as "the value of node 'fit'"
   * @throws ValueNotEncodableException if no codec can
   */
  static WireValue encode(ValueCodecs codecs, Object value, String what) {
    ValueCodec codec = codecs.forValue(value).orElseThrow(() -> new ValueNotEncodableException(
        what + " (" + (value == null ? "null" : value.getClass().getName()) + ") cannot cross "
            + "the cluster: no ValueCodec encodes it; register one with "
            + "ClusterExecutor.Builder.withValueCodecs, on every member"));
    List<ByteBuffer> parts = codec.encode(value);
    long size = 0;
    for (ByteBuffer part : parts) {
      size += part.remaining();
    }
    if (size > Integer.MAX_VALUE - 64) {
      throw new ValueNotEncodableException(what + " is " + size + " bytes encoded; a value "
          + "crossing the cluster is at most 2 GiB");
    }
    byte[] bytes = new byte[(int) size];
    int at = 0;
    for (ByteBuffer part : parts) {
      int n = part.remaining();
      part.duplicate().get(bytes, at, n);
      at += n;
    }
    return new WireValue(codec.id(), bytes);
  }

  /** Decodes the value with this member's codec of the same id. */
  Object decode(ValueCodecs codecs) {
    ValueCodec codec = codecs.byId(codec()).orElseThrow(() -> new IllegalStateException(
        "a value encoded with codec '" + codec() + "' arrived, and this member has no such "
            + "codec: every member must register the same codecs"));
    return codec.decode(ByteBuffer.wrap(bytes));
  }

  /** No codec can encode a value that must cross the cluster. */
  static final class ValueNotEncodableException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    ValueNotEncodableException(String message) {
      super(message);
    }
  }
}
