package dev.open.dag.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.open.dag.array.NDArray;

class ValueCodecsTest {

  /** Encodes StringBuilders as their text. */
  static class BuilderCodec implements ValueCodec {
    private final String id;

    BuilderCodec(String id) {
      this.id = id;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public boolean canEncode(Object value) {
      return value instanceof StringBuilder;
    }

    @Override
    public List<ByteBuffer> encode(Object value) {
      return List.of(ByteBuffer.wrap(value.toString().getBytes(
          java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Override
    public Object decode(ByteBuffer data) {
      return new StringBuilder(java.nio.charset.StandardCharsets.UTF_8.decode(data));
    }
  }

  @Test
  void standardIsTheArrayCodecThenTheStandardOne() {
    ValueCodecs standard = ValueCodecs.standard();

    assertThat(standard.codecs()).extracting(ValueCodec::id)
        .containsExactly("open.ndarray.v1", "open.std.v2");
    assertThat(standard).hasToString("ValueCodecs[open.ndarray.v1, open.std.v2]");
    assertThat(ValueCodecs.standard()).isSameAs(standard);
    assertThatThrownBy(() -> standard.codecs().clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void findsTheFirstCodecThatCanEncodeAValue() {
    ValueCodecs standard = ValueCodecs.standard();

    assertThat(standard.forValue(NDArray.of(new double[] {1}))).map(ValueCodec::id)
        .contains("open.ndarray.v1");
    assertThat(standard.forValue(List.of(NDArray.of(new double[] {1})))).map(ValueCodec::id)
        .contains("open.std.v2");
    assertThat(standard.forValue(null)).map(ValueCodec::id).contains("open.std.v2");
    assertThat(standard.forValue(Map.of("a", 1))).map(ValueCodec::id).contains("open.std.v2");
    assertThat(standard.forValue(new StringBuilder("x"))).isEmpty();
    assertThat(standard.forValue(Thread.currentThread())).isEmpty();
  }

  @Test
  void findsCodecsById() {
    ValueCodecs standard = ValueCodecs.standard();

    assertThat(standard.byId("open.std.v2")).containsSame(standard.codecs().get(1));
    assertThat(standard.byId("open.ndarray.v1")).containsSame(standard.codecs().get(0));
    assertThat(standard.byId("open.std.v1")).isEmpty(); // the format before collection kinds
    assertThat(standard.byId("open.std.v3")).isEmpty();
  }

  @Test
  void withTriesTheNewCodecFirstAndLeavesTheOriginalAlone() {
    ValueCodecs standard = ValueCodecs.standard();
    BuilderCodec builders = new BuilderCodec("test.builder.v1");
    ValueCodecs more = standard.with(builders);

    assertThat(more.codecs()).extracting(ValueCodec::id)
        .containsExactly("test.builder.v1", "open.ndarray.v1", "open.std.v2");
    assertThat(standard.codecs()).hasSize(2);
    assertThat(more.forValue(new StringBuilder("x"))).containsSame(builders);
    assertThat(more.byId("test.builder.v1")).containsSame(builders);
    ValueCodec codec = more.forValue(new StringBuilder("héllo")).orElseThrow();
    assertThat(codec.decode(codec.encode(new StringBuilder("héllo")).get(0)))
        .hasToString("héllo");
  }

  @Test
  void aCodecCanTakeOverATypeFromTheBuiltIns() {
    ValueCodec strings = new BuilderCodec("test.strings.v1") {
      @Override
      public boolean canEncode(Object value) {
        return value instanceof String;
      }
    };
    assertThat(ValueCodecs.standard().with(strings).forValue("x")).containsSame(strings);
  }

  @Test
  void refusesADuplicateIdNamingIt() {
    ValueCodecs more = ValueCodecs.standard().with(new BuilderCodec("test.builder.v1"));

    assertThatThrownBy(() -> more.with(new BuilderCodec("test.builder.v1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a codec with id 'test.builder.v1' is already there");
    assertThatThrownBy(() -> ValueCodecs.standard().with(new BuilderCodec("open.std.v2")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'open.std.v2'");
  }

  @Test
  void checksNullsNamingTheArgument() {
    ValueCodecs standard = ValueCodecs.standard();

    assertThatThrownBy(() -> standard.with(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("codec");
    assertThatThrownBy(() -> standard.with(new BuilderCodec(null)))
        .isInstanceOf(NullPointerException.class).hasMessage("codec.id()");
    assertThatThrownBy(() -> standard.byId(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("id");
    assertThatThrownBy(() -> standard.codecs().get(0).decode(null))
        .isInstanceOf(NullPointerException.class).hasMessage("data");
    assertThatThrownBy(() -> standard.codecs().get(1).decode(null))
        .isInstanceOf(NullPointerException.class).hasMessage("data");
  }

  @Test
  void isSafeToShareAcrossThreads() throws Exception {
    ValueCodecs standard = ValueCodecs.standard();
    List<Object> values = List.of(List.of(1, "a"), Map.of("k", Optional.of(2.5)),
        NDArray.of(new long[] {1, 2}));
    try (var executor = java.util.concurrent.Executors.newFixedThreadPool(4)) {
      List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
      for (int t = 0; t < 16; t++) {
        results.add(executor.submit(() -> {
          for (int i = 0; i < 200; i++) {
            for (Object value : values) {
              ValueCodec codec = standard.forValue(value).orElseThrow();
              ByteBuffer entry = NDArrayCodecTest.concat(codec.encode(value), false);
              if (!codec.decode(entry).equals(value)) {
                return false;
              }
            }
          }
          return true;
        }));
      }
      for (var result : results) {
        assertThat(result.get()).isTrue();
      }
    }
  }
}
