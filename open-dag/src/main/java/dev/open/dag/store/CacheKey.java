package dev.open.dag.store;

import java.util.HexFormat;
import java.util.Objects;

/**
 * The content address of a node's value: the SHA-256 of its {@link KeyRecipe} (the DAG, the node,
 * their versions, the code it calls and the content of its inputs). Two keys are equal exactly
 * when their hashes are.
 *
 * @param hex the 64 lower-case hexadecimal digits of the hash
 */
public record CacheKey(String hex) {
  private static final HexFormat HEX = HexFormat.of();

  /**
   * Checks the form of {@code hex}.
   *
   * @param hex the 64 lower-case hexadecimal digits of the hash
   * @throws IllegalArgumentException if it is anything else
   */
  public CacheKey {
    Objects.requireNonNull(hex, "hex");
    if (hex.length() != 64 || !hex.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
      throw new IllegalArgumentException("a cache key is 64 lower-case hex digits, got '" + hex + "'");
    }
  }

  /**
   * Returns the key of a 32-byte hash.
   *
   * @param sha256 the hash
   * @return the key
   */
  public static CacheKey of(byte[] sha256) {
    if (sha256.length != 32) {
      throw new IllegalArgumentException("a cache key is 32 bytes, got " + sha256.length);
    }
    return new CacheKey(HEX.formatHex(sha256));
  }

  /** {@return the first 12 hex digits, for messages} */
  public String shortHex() {
    return hex.substring(0, 12);
  }

  @Override
  public String toString() {
    return hex;
  }
}
