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
 * @param contentHash the SHA-256 of the parts, in order, as 64 lower-case hex digits
 * @param parts the encoded bytes, from each buffer's position to its limit; read-only views
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
    parts = parts.stream().map(ByteBuffer::asReadOnlyBuffer).toList();
  }

  /**
   * Returns the value encoded by {@code codec} as {@code parts}, with their content hash.
   *
   * @param codec the id of the codec that encoded it
   * @param parts the encoded bytes
   * @return the stored value
   */
  public static StoredValue of(String codec, List<ByteBuffer> parts) {
    return new StoredValue(codec, contentHash(parts), parts);
  }

  /**
   * Returns the SHA-256 of {@code parts}, each from its position to its limit, in order, as 64
   * lower-case hex digits. Leaves the buffers' positions where they were.
   *
   * @param parts the bytes
   * @return the hash
   */
  public static String contentHash(List<ByteBuffer> parts) {
    java.security.MessageDigest sha = KeyRecipe.sha256();
    for (ByteBuffer part : parts) {
      sha.update(part.duplicate());
    }
    return java.util.HexFormat.of().formatHex(sha.digest());
  }

  /** Returns the number of encoded bytes. */
  public long size() {
    long size = 0;
    for (ByteBuffer part : parts) {
      size += part.remaining();
    }
    return size;
  }
}
