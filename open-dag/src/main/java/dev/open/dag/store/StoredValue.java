package dev.open.dag.store;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * A node's value as a store keeps it: the id of the {@link ValueCodec} that encoded it, the
 * SHA-256 of the encoded bytes (what dependants' keys are made of), and the bytes themselves, in
 * one or more parts (an encoder may hand over an array's off-heap data as a part of its own, so
 * that storing it copies nothing).
 *
 * @param codec the id of the codec that encoded the value
 * @param contentHash the value's content hash ({@link #contentHash(String, List)})
 * @param parts the encoded bytes, from each buffer's position to its limit: views of the caller's
 *     memory, which a store reads during {@code store} and never writes (see {@link
 *     ResultStore}); a loaded value's parts are the loader's to keep and modify
 */
public record StoredValue(String codec, String contentHash, List<ByteBuffer> parts) {

  /**
   * Checks and snapshots the arguments.
   *
   * @param codec the id of the codec that encoded the value
   * @param contentHash the SHA-256 of the parts
   * @param parts the encoded bytes
   */
  public StoredValue {
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(contentHash, "contentHash");
    parts = parts.stream().map(ByteBuffer::duplicate).toList(); // positions are ours
  }

  /**
   * Returns the value encoded by {@code codec} as {@code parts}, with their content hash.
   *
   * @param codec the id of the codec that encoded it
   * @param parts the encoded bytes
   * @return the stored value
   */
  public static StoredValue of(String codec, List<ByteBuffer> parts) {
    return new StoredValue(codec, contentHash(codec, parts), parts);
  }

  /**
   * Returns the content hash of a value encoded by {@code codec} as {@code parts}: the SHA-256 of
   * the codec id (its UTF-8 length as 4 bytes, then its bytes) followed by the parts, each from
   * its position to its limit, in order, as 64 lower-case hex digits. The codec id is hashed so
   * that two codecs' equal bytes for different values never make equal keys downstream. Leaves
   * the buffers' positions where they were.
   *
   * @param codec the id of the codec that encoded the value
   * @param parts the bytes
   * @return the hash
   */
  public static String contentHash(String codec, List<ByteBuffer> parts) {
    java.security.MessageDigest sha = KeyRecipe.sha256();
    byte[] id = codec.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    sha.update(ByteBuffer.allocate(4).putInt(0, id.length));
    sha.update(id);
    for (ByteBuffer part : parts) {
      sha.update(part.duplicate());
    }
    return java.util.HexFormat.of().formatHex(sha.digest());
  }

  /** {@return the number of encoded bytes} */
  public long size() {
    long size = 0;
    for (ByteBuffer part : parts) {
      size += part.remaining();
    }
    return size;
  }
}
