package dev.open.ports;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

/**
 * Converts a decoded worker result to the Java type a caller asked for in a {@link
 * dev.open.dag.FunctionRef}: {@code Object}, the value's own type, or one of these conversions:
 *
 * <ul>
 *   <li>numbers to {@code Integer}, {@code Long}, {@code Short}, {@code Byte} (when the value is
 *       integral and fits), {@code Double}, {@code Float}, {@code BigInteger}, {@code
 *       BigDecimal};
 *   <li>an {@link NDArray} to {@code double[]}, {@code float[]}, {@code long[]} or {@code int[]}
 *       (a copy, in storage order) when its element type matches;
 *   <li>a list of numbers to {@code double[]}, {@code long[]} or {@code int[]}.
 * </ul>
 *
 * Anything else is a {@link ClassCastException} naming both types and the function.
 */
final class ResultTypes {
  private ResultTypes() {}

  /**
   * Converts {@code value} to {@code type}.
   *
   * @param value a decoded result
   * @param type the wanted type
   * @param function the function that produced it, for the error message
   * @return the converted value
   * @throws ClassCastException when there is no conversion
   */
  static Object convert(Object value, Class<?> type, String function) {
    if (value == null || type.isInstance(value)) {
      return value;
    }
    Object converted = null;
    if (value instanceof Number n) {
      converted = number(n, type);
    } else if (value instanceof NDArray a) {
      converted = array(a, type);
    } else if (value instanceof List<?> list) {
      converted = list(list, type);
    }
    if (converted == null) {
      throw new ClassCastException(function + " returned " + describe(value) + ", which is not a "
          + type.getName());
    }
    return converted;
  }

  private static Object number(Number n, Class<?> type) {
    boolean integral = n instanceof Long || n instanceof BigInteger;
    if (type == Double.class) {
      return n.doubleValue();
    }
    if (type == Float.class) {
      return n.floatValue();
    }
    if (type == BigDecimal.class) {
      return n instanceof BigInteger b ? new BigDecimal(b) : BigDecimal.valueOf(n.doubleValue());
    }
    if (!integral) {
      return null;
    }
    BigInteger big = n instanceof BigInteger b ? b : BigInteger.valueOf(n.longValue());
    if (type == BigInteger.class) {
      return big;
    }
    try {
      if (type == Long.class) {
        return big.longValueExact();
      }
      if (type == Integer.class) {
        return big.intValueExact();
      }
      if (type == Short.class) {
        return big.shortValueExact();
      }
      if (type == Byte.class) {
        return big.byteValueExact();
      }
    } catch (ArithmeticException e) {
      return null;
    }
    return null;
  }

  private static Object array(NDArray a, Class<?> type) {
    if (type == double[].class && a.dtype() == DType.FLOAT64) {
      return a.toDoubleArray();
    }
    if (type == float[].class && a.dtype() == DType.FLOAT32) {
      return a.toFloatArray();
    }
    if (type == long[].class && (a.dtype() == DType.INT64 || a.dtype() == DType.UINT64)) {
      return a.toLongArray();
    }
    if (type == int[].class && (a.dtype() == DType.INT32 || a.dtype() == DType.UINT32)) {
      return a.toIntArray();
    }
    return null;
  }

  private static Object list(List<?> list, Class<?> type) {
    for (Object element : list) {
      if (!(element instanceof Number)) {
        return null;
      }
    }
    if (type == double[].class) {
      return list.stream().mapToDouble(e -> ((Number) e).doubleValue()).toArray();
    }
    if (type == long[].class && list.stream().allMatch(e -> e instanceof Long)) {
      return list.stream().mapToLong(e -> (Long) e).toArray();
    }
    if (type == int[].class && list.stream().allMatch(e -> e instanceof Long l
        && l == (int) (long) l)) {
      return list.stream().mapToInt(e -> (int) (long) (Long) e).toArray();
    }
    return null;
  }

  private static String describe(Object value) {
    return value instanceof NDArray a ? "an " + a : "a " + value.getClass().getName();
  }
}
