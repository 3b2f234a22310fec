package dev.open.dag.array;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional array of one {@link DType}, its elements in a little-endian {@link ByteBuffer}
 * (off-heap unless wrapped otherwise). The one array type of all backends: Rust kernels read it in
 * place, the worker protocol sends its bytes unchanged and NumPy maps them without copying.
 *
 * <p>Elements are laid out densely in {@link #order()}: {@code C} (row-major, the last index
 * varies fastest) or {@code F} (column-major, as Julia and Fortran). The shape and type never
 * change; the elements are mutable through {@link #buffer()} and the typed views. Not
 * thread-safe for concurrent writes. At most {@link Integer#MAX_VALUE} bytes.
 *
 * <pre>{@code
 * NDArray a = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);   // 2×3, C order
 * double[] copy = a.toDoubleArray();
 * DoubleBuffer view = a.asDoubleBuffer();                          // no copy
 * }</pre>
 */
public final class NDArray {

  /** Memory layout of the elements. */
  public enum Order {
    /** Row-major: the last index varies fastest (C, NumPy's default). */
    C,
    /** Column-major: the first index varies fastest (Fortran, Julia). */
    F
  }

  private final DType dtype;
  private final int[] shape;
  private final Order order;
  private final ByteBuffer data;

  private NDArray(DType dtype, int[] shape, Order order, ByteBuffer data) {
    this.dtype = dtype;
    this.shape = shape;
    this.order = order;
    this.data = data;
  }

  /**
   * Allocates a zeroed, off-heap array in C order.
   *
   * @param dtype the element type
   * @param shape the dimensions, each at least 0
   * @return the array
   */
  public static NDArray allocate(DType dtype, int... shape) {
    Objects.requireNonNull(dtype, "dtype");
    long bytes = checkedBytes(dtype, shape);
    ByteBuffer data = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    return new NDArray(dtype, shape.clone(), Order.C, data);
  }

  /**
   * Wraps existing bytes without copying them.
   *
   * @param data the elements, from its position to its limit; must be little-endian ordered or
   *     hold single-byte elements
   * @param dtype the element type
   * @param order the layout
   * @param shape the dimensions; their product times the item size must equal the bytes remaining
   * @return the array, sharing {@code data}'s content
   */
  public static NDArray wrap(ByteBuffer data, DType dtype, Order order, int... shape) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(order, "order");
    long bytes = checkedBytes(dtype, shape);
    if (data.remaining() != bytes) {
      throw new IllegalArgumentException("data has " + data.remaining() + " bytes, shape "
          + Arrays.toString(shape) + " of " + dtype + " needs " + bytes);
    }
    return new NDArray(dtype, shape.clone(), order,
        data.slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  /**
   * Copies {@code values} into a new off-heap float64 array in C order.
   *
   * @param values the elements in row-major order
   * @param shape the dimensions (default: one dimension of {@code values.length})
   * @return the array
   */
  public static NDArray of(double[] values, int... shape) {
    NDArray a = allocate(DType.FLOAT64, shapeFor(values.length, shape));
    a.data.asDoubleBuffer().put(values);
    return a;
  }

  /**
   * Copies {@code values} into a new off-heap float32 array in C order.
   *
   * @param values the elements in row-major order
   * @param shape the dimensions (default: one dimension of {@code values.length})
   * @return the array
   */
  public static NDArray of(float[] values, int... shape) {
    NDArray a = allocate(DType.FLOAT32, shapeFor(values.length, shape));
    a.data.asFloatBuffer().put(values);
    return a;
  }

  /**
   * Copies {@code values} into a new off-heap int64 array in C order.
   *
   * @param values the elements in row-major order
   * @param shape the dimensions (default: one dimension of {@code values.length})
   * @return the array
   */
  public static NDArray of(long[] values, int... shape) {
    NDArray a = allocate(DType.INT64, shapeFor(values.length, shape));
    a.data.asLongBuffer().put(values);
    return a;
  }

  /**
   * Copies {@code values} into a new off-heap int32 array in C order.
   *
   * @param values the elements in row-major order
   * @param shape the dimensions (default: one dimension of {@code values.length})
   * @return the array
   */
  public static NDArray of(int[] values, int... shape) {
    NDArray a = allocate(DType.INT32, shapeFor(values.length, shape));
    a.data.asIntBuffer().put(values);
    return a;
  }

  /**
   * Copies {@code values} into a new off-heap uint8 array in C order.
   *
   * @param values the elements in row-major order
   * @param shape the dimensions (default: one dimension of {@code values.length})
   * @return the array
   */
  public static NDArray of(byte[] values, int... shape) {
    NDArray a = allocate(DType.UINT8, shapeFor(values.length, shape));
    a.data.put(0, values);
    return a;
  }

  /** {@return the element type} */
  public DType dtype() {
    return dtype;
  }

  /** {@return a copy of the dimensions} */
  public int[] shape() {
    return shape.clone();
  }

  /**
   * Returns one dimension.
   *
   * @param axis 0 to {@code ndim() - 1}
   * @return its length
   */
  public int dim(int axis) {
    return shape[axis];
  }

  /** {@return the number of dimensions} */
  public int ndim() {
    return shape.length;
  }

  /** {@return the number of elements (1 for a 0-d array)} */
  public long size() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** {@return the size of the elements in bytes} */
  public int byteSize() {
    return data.capacity();
  }

  /** {@return the layout of the elements} */
  public Order order() {
    return order;
  }

  /** {@return whether the elements are off-heap (zero-copy for native code)} */
  public boolean isDirect() {
    return data.isDirect();
  }

  /** {@return a little-endian view of the elements (position 0), sharing their content} */
  public ByteBuffer buffer() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** {@return a view of float64 elements, sharing their content} */
  public DoubleBuffer asDoubleBuffer() {
    requireType(DType.FLOAT64);
    return buffer().asDoubleBuffer();
  }

  /** {@return a view of float32 elements, sharing their content} */
  public FloatBuffer asFloatBuffer() {
    requireType(DType.FLOAT32);
    return buffer().asFloatBuffer();
  }

  /** {@return a view of int64/uint64 elements, sharing their content} */
  public LongBuffer asLongBuffer() {
    requireType(DType.INT64, DType.UINT64);
    return buffer().asLongBuffer();
  }

  /** {@return a view of int32/uint32 elements, sharing their content} */
  public IntBuffer asIntBuffer() {
    requireType(DType.INT32, DType.UINT32);
    return buffer().asIntBuffer();
  }

  /** {@return a copy of float64 elements, in storage order} */
  public double[] toDoubleArray() {
    double[] out = new double[(int) size()];
    asDoubleBuffer().get(out);
    return out;
  }

  /** {@return a copy of float32 elements, in storage order} */
  public float[] toFloatArray() {
    float[] out = new float[(int) size()];
    asFloatBuffer().get(out);
    return out;
  }

  /** {@return a copy of int64/uint64 elements, in storage order} */
  public long[] toLongArray() {
    long[] out = new long[(int) size()];
    asLongBuffer().get(out);
    return out;
  }

  /** {@return a copy of int32/uint32 elements, in storage order} */
  public int[] toIntArray() {
    int[] out = new int[(int) size()];
    asIntBuffer().get(out);
    return out;
  }

  /** {@return a copy of the raw element bytes (little-endian), in storage order} */
  public byte[] toByteArray() {
    byte[] out = new byte[data.capacity()];
    data.get(0, out);
    return out;
  }

  /**
   * Returns the same elements seen with another shape of the same size and layout.
   *
   * @param newShape the dimensions
   * @return a view sharing this array's content
   */
  public NDArray reshape(int... newShape) {
    long bytes = checkedBytes(dtype, newShape);
    if (bytes != data.capacity()) {
      throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
          + Arrays.toString(newShape));
    }
    return new NDArray(dtype, newShape.clone(), order, data);
  }

  /** Equal when type, shape, order and element bytes are equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof NDArray other && dtype == other.dtype && order == other.order
        && Arrays.equals(shape, other.shape) && data.equals(other.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, order, Arrays.hashCode(shape), data.hashCode());
  }

  @Override
  public String toString() {
    return "NDArray[" + dtype.descr() + " " + Arrays.toString(shape) + " " + order
        + (data.isDirect() ? ", direct" : ", heap") + "]";
  }

  private void requireType(DType... allowed) {
    for (DType t : allowed) {
      if (t == dtype) {
        return;
      }
    }
    throw new IllegalStateException("array is " + dtype + ", not " + Arrays.toString(allowed));
  }

  private static int[] shapeFor(int length, int[] shape) {
    if (shape == null || shape.length == 0) {
      return new int[] {length};
    }
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    if (n != length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
          + " elements, values has " + length);
    }
    return shape;
  }

  private static long checkedBytes(DType dtype, int[] shape) {
    Objects.requireNonNull(shape, "shape");
    long n = dtype.itemSize();
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype
            + " exceeds " + Integer.MAX_VALUE + " bytes");
      }
    }
    return n;
  }
}
