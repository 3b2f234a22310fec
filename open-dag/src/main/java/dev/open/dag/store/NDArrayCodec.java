package dev.open.dag.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

/**
 * The built-in codec of {@link NDArray}s, id {@value #ID}. Encoding copies nothing: the entry is a
 * small header and, as a second part, a read-only view of the array's own buffer. Decoding a
 * direct (or mapped) buffer copies nothing either: the array is a view of the entry's elements;
 * only a heap buffer is copied, into a direct one, so that a decoded array is always off-heap.
 *
 * <h2>Format (a compatibility promise: a new format is a new id)</h2>
 *
 * <p>All multi-byte integers are little-endian.
 *
 * <pre>
 * offset   size      field
 * 0        4         magic: the ASCII bytes "ONDA" (0x4F 0x4E 0x44 0x41)
 * 4        1         format version: 0x01
 * 5        1         element type: 0x01 float64, 0x02 float32, 0x03 int64, 0x04 int32,
 *                    0x05 int16, 0x06 int8, 0x07 uint64, 0x08 uint32, 0x09 uint16,
 *                    0x0A uint8, 0x0B bool (one byte per element, as the array holds it)
 * 6        1         layout: 0x43 ('C', row-major) or 0x46 ('F', column-major)
 * 7        1         reserved: 0x00
 * 8        4         ndim: the number of dimensions, 0 to 2^31 - 1 (0 for a 0-d array)
 * 12       4 × ndim  each dimension, 0 to 2^31 - 1, outermost first
 * 12+4·ndim 0 or 4   zero bytes, so that the header's length H is a multiple of 8
 * H        n         the elements: n = itemSize × the product of the dimensions (1 for ndim 0)
 *                    bytes, little-endian, in the layout's order; nothing follows them
 * </pre>
 *
 * <p>Since the header's length is a multiple of 8, the elements are naturally aligned whenever the
 * store places an entry at an offset that is a multiple of 8.
 *
 * <p>Byte order: an {@code NDArray} holds its elements little-endian by definition (its typed
 * views read its buffer little-endian whatever order the {@code ByteBuffer} it wraps was set to),
 * so the elements are written exactly as the array's buffer holds them and never need swapping.
 * Equal arrays (type, layout, shape and element bytes) therefore encode to equal bytes.
 *
 * <p>{@link StandardCodec} writes an array nested in another value as its tag followed by exactly
 * this encoding, header and elements; a reader finds the elements' length in the header.
 */
final class NDArrayCodec implements ValueCodec {

  /** The codec's id. */
  static final String ID = "open.ndarray.v1";

  private static final byte[] MAGIC = {'O', 'N', 'D', 'A'};
  private static final int VERSION = 1;
  private static final int FIXED_HEADER = 12;

  /** The element types by their code, 1 to 11; index 0 is unused. */
  private static final DType[] TYPES = {
      null, DType.FLOAT64, DType.FLOAT32, DType.INT64, DType.INT32, DType.INT16, DType.INT8,
      DType.UINT64, DType.UINT32, DType.UINT16, DType.UINT8, DType.BOOL};

  @Override
  public String id() {
    return ID;
  }

  @Override
  public boolean canEncode(Object value) {
    return value instanceof NDArray;
  }

  /**
   * Returns the header and a read-only view of the array's elements, in that order; neither
   * copies the elements.
   */
  @Override
  public List<ByteBuffer> encode(Object value) {
    if (!(value instanceof NDArray array)) {
      throw new IllegalArgumentException(ID + " encodes NDArrays, not "
          + (value == null ? "null" : value.getClass().getName()));
    }
    return List.of(ByteBuffer.wrap(header(array)).asReadOnlyBuffer(),
        array.buffer().asReadOnlyBuffer());
  }

  /**
   * Returns the array; a view of {@code data}'s elements when {@code data} is direct, else a
   * direct copy of them.
   */
  @Override
  public Object decode(ByteBuffer data) {
    Objects.requireNonNull(data, "data");
    ByteBuffer bytes = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    Header header = readHeader(bytes, bytes.position(), bytes.limit());
    int elements = bytes.position() + header.length();
    if (bytes.limit() - elements != header.dataLength()) {
      throw new IllegalArgumentException("not an " + ID + " entry: " + (bytes.limit() - elements)
          + " bytes of elements follow the header, shape " + Arrays.toString(header.shape())
          + " of " + header.dtype() + " needs " + header.dataLength());
    }
    return array(bytes, elements, header);
  }

  @Override
  public String toString() {
    return ID;
  }

  /**
   * A parsed header.
   *
   * @param dtype the element type
   * @param order the layout
   * @param shape the dimensions
   * @param length the header's length in bytes, padding included
   * @param dataLength the length of the elements that follow it
   */
  record Header(DType dtype, NDArray.Order order, int[] shape, int length, int dataLength) {}

  /** Returns the header's length for {@code ndim} dimensions: 12 + 4 × ndim, rounded up to 8. */
  static long headerLength(long ndim) {
    return (FIXED_HEADER + 4 * ndim + 7) & ~7L;
  }

  /** Returns the header of {@code array}. */
  static byte[] header(NDArray array) {
    int[] shape = array.shape();
    ByteBuffer out = ByteBuffer.allocate((int) headerLength(shape.length))
        .order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).put((byte) VERSION).put((byte) code(array.dtype()))
        .put((byte) (array.order() == NDArray.Order.C ? 'C' : 'F')).put((byte) 0)
        .putInt(shape.length);
    for (int dim : shape) {
      out.putInt(dim);
    }
    return out.array(); // the padding is the array's initial zeros
  }

  /**
   * Parses and checks the header at {@code start}, and that the elements it announces fit before
   * {@code end}; reads absolute positions, moving nothing.
   *
   * @param bytes little-endian bytes
   * @param start where the header starts
   * @param end where the bytes available end
   * @return the header
   * @throws IllegalArgumentException if it is not a valid header or the elements do not fit
   */
  static Header readHeader(ByteBuffer bytes, int start, int end) {
    long available = end - start;
    if (available < FIXED_HEADER) {
      throw new IllegalArgumentException("not an " + ID + " entry: " + available
          + " bytes, shorter than a header (" + FIXED_HEADER + ")");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes.get(start + i) != MAGIC[i]) {
        throw new IllegalArgumentException("not an " + ID + " entry: no magic 'ONDA'");
      }
    }
    int version = bytes.get(start + 4) & 0xFF;
    if (version != VERSION) {
      throw new IllegalArgumentException("not an " + ID + " entry: format version " + version);
    }
    int code = bytes.get(start + 5) & 0xFF;
    if (code == 0 || code >= TYPES.length) {
      throw new IllegalArgumentException("not an " + ID + " entry: element type code " + code);
    }
    DType dtype = TYPES[code];
    NDArray.Order order = switch (bytes.get(start + 6)) {
      case 'C' -> NDArray.Order.C;
      case 'F' -> NDArray.Order.F;
      default -> throw new IllegalArgumentException("not an " + ID + " entry: layout byte 0x"
          + Integer.toHexString(bytes.get(start + 6) & 0xFF));
    };
    if (bytes.get(start + 7) != 0) {
      throw new IllegalArgumentException("not an " + ID + " entry: reserved byte is not 0");
    }
    int ndim = bytes.getInt(start + 8);
    long length = headerLength(Integer.toUnsignedLong(ndim));
    if (ndim < 0 || length > available) {
      throw new IllegalArgumentException("not an " + ID + " entry: " + Integer.toUnsignedLong(ndim)
          + " dimensions do not fit in " + available + " bytes");
    }
    int[] shape = new int[ndim];
    long dataLength = dtype.itemSize();
    for (int i = 0; i < ndim; i++) {
      shape[i] = bytes.getInt(start + FIXED_HEADER + 4 * i);
      if (shape[i] < 0) {
        throw new IllegalArgumentException("not an " + ID + " entry: dimension " + i + " is "
            + Integer.toUnsignedLong(shape[i]));
      }
      dataLength = shape[i] != 0 && dataLength > Long.MAX_VALUE / shape[i] ? Long.MAX_VALUE
          : dataLength * shape[i]; // saturating, and 0 if any dimension is
    }
    for (long i = FIXED_HEADER + 4L * ndim; i < length; i++) {
      if (bytes.get(start + (int) i) != 0) {
        throw new IllegalArgumentException("not an " + ID + " entry: padding is not zero");
      }
    }
    if (dataLength > available - length) {
      throw new IllegalArgumentException("not an " + ID + " entry: shape "
          + Arrays.toString(shape) + " of " + dtype + " needs "
          + (dataLength == Long.MAX_VALUE ? "more than 2^63 - 2" : dataLength)
          + " bytes of elements, "
          + (available - length) + " follow the header");
    }
    return new Header(dtype, order, shape, (int) length, (int) dataLength);
  }

  /**
   * Returns the array whose elements start at {@code elements}: a view when {@code bytes} is
   * direct, a direct copy otherwise.
   */
  static NDArray array(ByteBuffer bytes, int elements, Header header) {
    ByteBuffer data = bytes.slice(elements, header.dataLength());
    if (!data.isDirect()) {
      ByteBuffer copy = ByteBuffer.allocateDirect(header.dataLength());
      copy.put(data).flip();
      data = copy;
    }
    return NDArray.wrap(data, header.dtype(), header.order(), header.shape());
  }

  private static int code(DType dtype) {
    for (int code = 1; code < TYPES.length; code++) {
      if (TYPES[code] == dtype) {
        return code;
      }
    }
    throw new IllegalStateException("no code for element type " + dtype);
  }
}
