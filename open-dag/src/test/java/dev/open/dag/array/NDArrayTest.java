package dev.open.dag.array;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

class NDArrayTest {

  @Test
  void copiesValuesInAndOut() {
    NDArray a = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);

    assertThat(a.dtype()).isEqualTo(DType.FLOAT64);
    assertThat(a.shape()).containsExactly(2, 3);
    assertThat(a.ndim()).isEqualTo(2);
    assertThat(a.size()).isEqualTo(6);
    assertThat(a.byteSize()).isEqualTo(48);
    assertThat(a.isDirect()).isTrue();
    assertThat(a.order()).isEqualTo(NDArray.Order.C);
    assertThat(a.toDoubleArray()).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(a.buffer().getDouble(8)).isEqualTo(2.0);
    assertThat(NDArray.of(new long[] {7}).toLongArray()).containsExactly(7);
    assertThat(NDArray.of(new int[] {1, 2}).toIntArray()).containsExactly(1, 2);
    assertThat(NDArray.of(new float[] {1.5f}).toFloatArray()).containsExactly(1.5f);
    assertThat(NDArray.of(new byte[] {9, 8}).toByteArray()).containsExactly(9, 8);
  }

  @Test
  void wrapsWithoutCopyingAndViewsShareContent() {
    ByteBuffer bytes = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
    NDArray a = NDArray.wrap(bytes, DType.INT32, NDArray.Order.F, 2, 2);
    a.asIntBuffer().put(3, 42);

    assertThat(bytes.getInt(12)).isEqualTo(42);
    assertThat(a.reshape(4).toIntArray()).containsExactly(0, 0, 0, 42);
    assertThat(a.order()).isEqualTo(NDArray.Order.F);
  }

  @Test
  void equalityIsByContent() {
    assertThat(NDArray.of(new double[] {1, 2}, 2, 1)).isEqualTo(NDArray.of(new double[] {1, 2}, 2, 1))
        .isNotEqualTo(NDArray.of(new double[] {1, 2}, 1, 2))
        .hasToString("NDArray[<f8 [2, 1] C, direct]");
  }

  @Test
  void refusesBadShapesAndTypes() {
    assertThatThrownBy(() -> NDArray.of(new double[] {1, 2, 3}, 2, 2))
        .hasMessage("shape [2, 2] holds 4 elements, values has 3");
    assertThatThrownBy(() -> NDArray.allocate(DType.INT8, 2, -1))
        .hasMessage("negative dimension in shape [2, -1]");
    assertThatThrownBy(() -> NDArray.allocate(DType.FLOAT64, 1 << 16, 1 << 16))
        .hasMessageContaining("exceeds 2147483647 bytes");
    assertThatThrownBy(() -> NDArray.wrap(ByteBuffer.allocate(10), DType.FLOAT64, NDArray.Order.C, 2))
        .hasMessage("data has 10 bytes, shape [2] of FLOAT64 needs 16");
    assertThatThrownBy(() -> NDArray.of(new int[] {1}).asDoubleBuffer())
        .isInstanceOf(IllegalStateException.class).hasMessage("array is INT32, not [FLOAT64]");
    assertThatThrownBy(() -> NDArray.of(new int[] {1, 2}).reshape(3))
        .hasMessage("cannot reshape [2] to [3]");
  }

  @Test
  void parsesNumpyTypeStrings() {
    assertThat(DType.fromDescr("<f8")).isEqualTo(DType.FLOAT64);
    assertThat(DType.fromDescr(">i4")).isEqualTo(DType.INT32);
    assertThat(DType.isBigEndian(">i4")).isTrue();
    assertThat(DType.isBigEndian("|u1")).isFalse();
    assertThat(DType.fromDescr("|b1")).isEqualTo(DType.BOOL);
    assertThat(DType.FLOAT32.descr()).isEqualTo("<f4");
    assertThat(DType.UINT8.descr()).isEqualTo("|u1");
    assertThatThrownBy(() -> DType.fromDescr("<c16")).hasMessage("unsupported dtype <c16");
    assertThatThrownBy(() -> DType.fromDescr("|f8")).hasMessage("dtype |f8 needs a byte order");
  }
}
