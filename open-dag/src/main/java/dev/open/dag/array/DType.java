package dev.open.dag.array;

import java.util.Locale;

/**
 * The element type of an {@link NDArray}. Names follow NumPy; {@link #descr()} is the NumPy type
 * string (little-endian) used on the worker protocol.
 */
public enum DType {
  /** 64-bit IEEE 754 float ({@code <f8}). */
  FLOAT64(8, "f8"),
  /** 32-bit IEEE 754 float ({@code <f4}). */
  FLOAT32(4, "f4"),
  /** 64-bit signed integer ({@code <i8}). */
  INT64(8, "i8"),
  /** 32-bit signed integer ({@code <i4}). */
  INT32(4, "i4"),
  /** 16-bit signed integer ({@code <i2}). */
  INT16(2, "i2"),
  /** 8-bit signed integer ({@code |i1}). */
  INT8(1, "i1"),
  /** 64-bit unsigned integer ({@code <u8}), held in Java's {@code long} bits. */
  UINT64(8, "u8"),
  /** 32-bit unsigned integer ({@code <u4}), held in Java's {@code int} bits. */
  UINT32(4, "u4"),
  /** 16-bit unsigned integer ({@code <u2}), held in Java's {@code short} bits. */
  UINT16(2, "u2"),
  /** 8-bit unsigned integer ({@code |u1}), held in Java's {@code byte} bits. */
  UINT8(1, "u1"),
  /** Boolean, one byte 0 or 1 ({@code |b1}). */
  BOOL(1, "b1");

  private final int itemSize;
  private final String code;

  DType(int itemSize, String code) {
    this.itemSize = itemSize;
    this.code = code;
  }

  /** {@return the size of one element in bytes} */
  public int itemSize() {
    return itemSize;
  }

  /** {@return the little-endian NumPy type string, such as {@code "<f8"} or {@code "|u1"}} */
  public String descr() {
    return (itemSize == 1 ? "|" : "<") + code;
  }

  /**
   * Parses a NumPy type string.
   *
   * @param descr such as {@code "<f8"}, {@code ">i4"}, {@code "|b1"}; {@code "="} means native
   *     (little-endian here)
   * @return the type; its byte order is reported by {@link #isBigEndian(String)}
   * @throws IllegalArgumentException for a type OPEN does not support, naming it
   */
  public static DType fromDescr(String descr) {
    if (descr == null || descr.length() < 3) {
      throw new IllegalArgumentException("unsupported dtype " + descr);
    }
    char order = descr.charAt(0);
    if (order != '<' && order != '>' && order != '|' && order != '=') {
      throw new IllegalArgumentException("unsupported dtype " + descr + " (byte order '" + order + "')");
    }
    String code = descr.substring(1).toLowerCase(Locale.ROOT);
    for (DType type : values()) {
      if (type.code.equals(code)) {
        if (order == '|' && type.itemSize != 1) {
          throw new IllegalArgumentException("dtype " + descr + " needs a byte order");
        }
        return type;
      }
    }
    throw new IllegalArgumentException("unsupported dtype " + descr);
  }

  /**
   * Returns whether a NumPy type string is big-endian (multi-byte elements with {@code '>'}).
   *
   * @param descr a type string accepted by {@link #fromDescr(String)}
   * @return true for big-endian
   */
  public static boolean isBigEndian(String descr) {
    return descr.charAt(0) == '>' && fromDescr(descr).itemSize > 1;
  }
}
