package dev.open.dag.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

class NDArrayCodecTest {
  private final NDArrayCodec codec = new NDArrayCodec();

  static Stream<Arguments> arrays() {
    List<Arguments> cases = new ArrayList<>();
    int[][] shapes = {{}, {0}, {1}, {7}, {2, 3}, {3, 0, 2}, {2, 3, 4}, {1, 1, 1, 1, 5}};
    long seed = 0;
    for (DType dtype : DType.values()) {
      for (NDArray.Order order : NDArray.Order.values()) {
        for (int[] shape : shapes) {
          cases.add(Arguments.of(dtype, order, shape, seed++));
        }
      }
    }
    return cases.stream();
  }

  /** A random array; its bytes are drawn from {@code seed}. */
  static NDArray random(DType dtype, NDArray.Order order, int[] shape, long seed, boolean direct) {
    long bytes = dtype.itemSize();
    for (int d : shape) {
      bytes *= d;
    }
    byte[] content = new byte[(int) bytes];
    new Random(seed).nextBytes(content);
    ByteBuffer data = direct ? ByteBuffer.allocateDirect(content.length) : ByteBuffer.allocate(
        content.length);
    data.put(content).flip();
    return NDArray.wrap(data, dtype, order, shape);
  }

  static ByteBuffer concat(List<ByteBuffer> parts, boolean direct) {
    int size = parts.stream().mapToInt(ByteBuffer::remaining).sum();
    ByteBuffer all = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    parts.forEach(p -> all.put(p.duplicate()));
    return all.flip();
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("arrays")
  void roundTripsEveryTypeLayoutAndShape(DType dtype, NDArray.Order order, int[] shape,
      long seed) {
    NDArray array = random(dtype, order, shape, seed, true);
    List<ByteBuffer> parts = codec.encode(array);

    assertThat(codec.canEncode(array)).isTrue();
    assertThat(parts).hasSize(2);
    assertThat(parts.get(0).remaining() % 8).isZero();
    assertThat(parts.get(0).remaining()).isEqualTo(NDArrayCodec.headerLength(shape.length));
    assertThat(parts.get(1)).isEqualTo(array.buffer());
    for (boolean direct : new boolean[] {true, false}) {
      NDArray decoded = (NDArray) codec.decode(concat(parts, direct));
      assertThat(decoded).as("seed %d direct %s", seed, direct).isEqualTo(array);
      assertThat(decoded.shape()).containsExactly(shape);
      assertThat(decoded.order()).isEqualTo(order);
      assertThat(decoded.dtype()).isEqualTo(dtype);
      assertThat(decoded.isDirect()).isTrue();
    }
    // a heap array encodes to the same bytes as a direct one of the same content
    assertThat(concat(codec.encode(random(dtype, order, shape, seed, false)), false))
        .isEqualTo(concat(parts, false));
  }

  @Test
  void headerIsTheDocumentedBytes() {
    NDArray array = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
    List<ByteBuffer> parts = codec.encode(array);

    assertThat(HexFormat.of().formatHex(bytes(parts.get(0))))
        .isEqualTo("4f4e4441" + "01" + "01" + "43" + "00" + "02000000" + "02000000" + "03000000"
            + "00000000");
    NDArray f = NDArray.wrap(ByteBuffer.allocateDirect(3), DType.BOOL, NDArray.Order.F, 3);
    assertThat(HexFormat.of().formatHex(bytes(codec.encode(f).get(0))))
        .isEqualTo("4f4e4441" + "01" + "0b" + "46" + "00" + "01000000" + "03000000");
    NDArray scalar = NDArray.allocate(DType.INT16);
    assertThat(HexFormat.of().formatHex(bytes(codec.encode(scalar).get(0))))
        .isEqualTo("4f4e4441" + "01" + "05" + "43" + "00" + "00000000" + "00000000");
  }

  @Test
  void typeCodesAreTheDocumentedOnes() {
    DType[] byCode = {DType.FLOAT64, DType.FLOAT32, DType.INT64, DType.INT32, DType.INT16,
        DType.INT8, DType.UINT64, DType.UINT32, DType.UINT16, DType.UINT8, DType.BOOL};
    for (int i = 0; i < byCode.length; i++) {
      assertThat(bytes(codec.encode(NDArray.allocate(byCode[i], 1)).get(0))[5])
          .as("%s", byCode[i]).isEqualTo((byte) (i + 1));
    }
  }

  @Test
  void encodingSharesTheArraysMemory() {
    NDArray array = NDArray.allocate(DType.FLOAT64, 8 * 1024 * 1024); // 64 MiB off-heap
    List<ByteBuffer> parts = codec.encode(array);
    ByteBuffer data = parts.get(1);

    assertThat(data.isDirect()).isTrue();
    assertThat(data.isReadOnly()).isTrue();
    assertThat(data.remaining()).isEqualTo(64 << 20);
    assertThat(parts.get(0).remaining()).isEqualTo(16);
    array.asDoubleBuffer().put(5_000_000, 42.5);
    assertThat(data.duplicate().order(ByteOrder.LITTLE_ENDIAN).getDouble(8 * 5_000_000))
        .isEqualTo(42.5);
    assertThatThrownBy(() -> data.put(0, (byte) 1)).isInstanceOf(
        java.nio.ReadOnlyBufferException.class);
  }

  @Test
  void decodingADirectBufferSharesItsMemory() {
    NDArray array = NDArray.allocate(DType.INT32, 2048, 2048); // 16 MiB
    ByteBuffer entry = concat(codec.encode(array), true);
    NDArray decoded = (NDArray) codec.decode(entry);
    int header = (int) NDArrayCodec.headerLength(2);

    entry.order(ByteOrder.LITTLE_ENDIAN).putInt(header + 4 * 12345, 777);
    assertThat(decoded.asIntBuffer().get(12345)).isEqualTo(777);
    decoded.asIntBuffer().put(7, -1);
    assertThat(entry.getInt(header + 4 * 7)).isEqualTo(-1);
    assertThat(entry.position()).isZero(); // decode leaves the buffer as it was
  }

  @Test
  void decodingAReadOnlyDirectBufferGivesAReadOnlyView() {
    ByteBuffer entry = concat(codec.encode(NDArray.of(new long[] {1, 2, 3})), true)
        .asReadOnlyBuffer();
    NDArray decoded = (NDArray) codec.decode(entry);

    assertThat(decoded.toLongArray()).containsExactly(1, 2, 3);
    assertThat(decoded.buffer().isReadOnly()).isTrue();
  }

  @Test
  void decodingAHeapBufferCopiesIntoADirectOne() {
    ByteBuffer entry = concat(codec.encode(NDArray.of(new int[] {1, 2, 3, 4}, 2, 2)), false);
    NDArray decoded = (NDArray) codec.decode(entry);

    assertThat(decoded.isDirect()).isTrue();
    entry.putInt(16, 99);
    assertThat(decoded.toIntArray()).containsExactly(1, 2, 3, 4);
  }

  @Test
  void decodesFromTheBuffersPositionToItsLimit() {
    NDArray array = NDArray.of(new float[] {1.5f, -2f}, 1, 2);
    ByteBuffer entry = concat(codec.encode(array), false);
    ByteBuffer framed = ByteBuffer.allocate(entry.remaining() + 13);
    framed.position(5);
    framed.put(entry);
    framed.position(5).limit(5 + entry.capacity());

    assertThat(codec.decode(framed)).isEqualTo(array);
    assertThat(framed.position()).isEqualTo(5);
  }

  @Test
  void aBigEndianOrderedBufferIsReadLittleEndianAsTheArrayReadsIt() {
    // NDArray reads the buffer it wraps little-endian whatever its order, so its elements are
    // little-endian bytes by definition and the codec never swaps them.
    ByteBuffer bigEndian = ByteBuffer.allocateDirect(16).order(ByteOrder.BIG_ENDIAN);
    bigEndian.putLong(0, 1L).putLong(8, 0x0102030405060708L);
    NDArray array = NDArray.wrap(bigEndian, DType.INT64, NDArray.Order.C, 2);
    long[] elements = array.toLongArray();
    List<ByteBuffer> parts = codec.encode(array);

    assertThat(bytes(parts.get(1))).containsExactly(0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7,
        8);
    NDArray decoded = (NDArray) codec.decode(concat(parts, true));
    assertThat(decoded).isEqualTo(array);
    assertThat(decoded.toLongArray()).containsExactly(elements);
    // the entry's own order flag does not matter either
    assertThat(codec.decode(concat(parts, false).order(ByteOrder.BIG_ENDIAN))).isEqualTo(array);
  }

  @Test
  void equalArraysEncodeEquallyAndDifferentOnesNot() {
    NDArray a = NDArray.of(new double[] {1, 2, 3, 4}, 2, 2);
    NDArray b = NDArray.wrap(ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
        .putDouble(1).putDouble(2).putDouble(3).putDouble(4).flip(), DType.FLOAT64,
        NDArray.Order.C, 2, 2);
    assertThat(StoredValue.of(codec.id(), codec.encode(a)).contentHash())
        .isEqualTo(StoredValue.of(codec.id(), codec.encode(b)).contentHash());
    assertThat(StoredValue.of(codec.id(), codec.encode(a.reshape(4))).contentHash())
        .isNotEqualTo(StoredValue.of(codec.id(), codec.encode(a)).contentHash());
  }

  @Test
  void refusesOtherValues() {
    assertThat(codec.canEncode(null)).isFalse();
    assertThat(codec.canEncode(new double[] {1})).isFalse();
    assertThat(codec.canEncode(List.of(NDArray.of(new double[] {1})))).isFalse();
    assertThatThrownBy(() -> codec.encode("x")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("open.ndarray.v1 encodes NDArrays, not java.lang.String");
    assertThat(codec.id()).isEqualTo("open.ndarray.v1");
  }

  @Test
  void refusesBadEntries() {
    byte[] good = bytes(concat(codec.encode(NDArray.of(new int[] {1, 2, 3})), false));
    assertThat(decodeError(good, 0, (byte) 'X')).contains("no magic");
    assertThat(decodeError(good, 4, (byte) 2)).contains("format version 2");
    assertThat(decodeError(good, 5, (byte) 0)).contains("element type code 0");
    assertThat(decodeError(good, 5, (byte) 12)).contains("element type code 12");
    assertThat(decodeError(good, 6, (byte) 'c')).contains("layout byte 0x63");
    assertThat(decodeError(good, 7, (byte) 1)).contains("reserved byte");
    assertThat(decodeError(good, 11, (byte) 0x80)).contains("dimensions do not fit");
    assertThat(decodeError(good, 15, (byte) 0x80)).contains("dimension 0 is");
    assertThat(decodeError(good, 12, (byte) 4)).contains("needs 16 bytes of elements, 12 follow");
    assertThat(decodeError(good, 12, (byte) 2)).contains("12 bytes of elements follow the header,"
        + " shape [2] of INT32 needs 8");
    byte[] padded = bytes(concat(codec.encode(NDArray.of(new int[] {1, 2}, 1, 2)), false));
    assertThat(decodeError(padded, 20, (byte) 1)).contains("padding is not zero");
    assertThatThrownBy(() -> codec.decode(ByteBuffer.allocate(11)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shorter than a header");
  }

  private String decodeError(byte[] good, int offset, byte value) {
    byte[] bad = good.clone();
    bad[offset] = value;
    try {
      codec.decode(ByteBuffer.wrap(bad));
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    throw new AssertionError("decoded with byte " + offset + " = " + value);
  }

  static byte[] bytes(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }
}
