package dev.open.dag.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/** Round trips, the directory's format, recipes and argument checks; helpers for the others. */
class DirectoryStoreTest {
  @TempDir Path dir;

  // ---- helpers shared by the DirectoryStore*Test classes ----

  /** Returns a key made from {@code text}. */
  static CacheKey key(String text) {
    return CacheKey.of(KeyRecipe.sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * Returns a value of {@code size} random bytes cut into random parts: heap, direct and read-only,
   * some starting at a non-zero position.
   */
  static StoredValue randomValue(Random random, int size) {
    byte[] bytes = new byte[size];
    random.nextBytes(bytes);
    List<ByteBuffer> parts = new ArrayList<>();
    int at = 0;
    do {
      int length = Math.min(size - at, random.nextInt(size / 2 + 2));
      int before = random.nextInt(4);
      ByteBuffer part = random.nextBoolean() ? ByteBuffer.allocateDirect(before + length + 3)
          : ByteBuffer.allocate(before + length + 3);
      part.position(before).put(bytes, at, length).flip().position(before);
      parts.add(random.nextBoolean() ? part.asReadOnlyBuffer() : part);
      at += length;
    } while (at < size);
    return StoredValue.of("test.codec.v1", parts);
  }

  /** Returns the concatenated bytes of {@code value}'s parts. */
  static byte[] bytes(StoredValue value) {
    ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(value.size()));
    value.parts().forEach(p -> all.put(p.duplicate()));
    return all.array();
  }

  /** Asserts that {@code loaded} is {@code expected}: codec, content hash and bytes. */
  static void assertSame(StoredValue loaded, StoredValue expected) {
    assertThat(loaded.codec()).isEqualTo(expected.codec());
    assertThat(loaded.contentHash()).isEqualTo(expected.contentHash());
    assertThat(loaded.parts()).hasSize(1);
    assertThat(loaded.parts().get(0).isDirect()).isTrue();
    assertThat(loaded.parts().get(0).isReadOnly()).as("a loaded value is the loader's").isFalse();
    assertThat(bytes(loaded)).isEqualTo(bytes(expected));
  }

  /** Captures the store's warnings while open (the test configuration shows only errors). */
  static final class Warnings implements AutoCloseable {
    private final ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(DirectoryStore.class);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Level level = logger.getLevel();

    Warnings() {
      appender.start();
      logger.addAppender(appender);
      logger.setLevel(Level.WARN);
      logger.setAdditive(false);
    }

    /** Returns the warnings so far, formatted, and forgets them. */
    List<String> take() {
      List<String> messages;
      synchronized (appender) { // AppenderBase.doAppend holds it
        messages = appender.list.stream().filter(e -> e.getLevel() == Level.WARN)
            .map(ILoggingEvent::getFormattedMessage).toList();
        appender.list.clear();
      }
      return messages;
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
      logger.setLevel(level);
      logger.setAdditive(true);
    }
  }

  // ---- round trips ----

  @Test
  void loadsWhatItStored() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    StoredValue value = StoredValue.of("open.std.v1",
        List.of(ByteBuffer.wrap("hello, ".getBytes(StandardCharsets.UTF_8)),
            ByteBuffer.allocateDirect(5).put("world".getBytes(StandardCharsets.UTF_8)).flip()));
    CacheKey key = key("a");

    assertThat(store.load(key)).isEmpty();
    store.store(key, value);

    StoredValue loaded = store.load(key).orElseThrow();
    assertSame(loaded, value);
    assertThat(loaded.parts().get(0).position()).isZero();
    assertThat(new String(bytes(loaded), StandardCharsets.UTF_8)).isEqualTo("hello, world");
    assertThat(store.entryFile(key)).isEqualTo(
        dir.resolve("entries").resolve(key.hex().substring(0, 2)).resolve(key.hex()));
    // The header (86 bytes and the codec id) is padded to 128, so the payload starts aligned.
    assertThat(store.entryFile(key)).hasSize(128 + 12 + EntryFormat.TRAILER);
    assertThat(DirectoryStore.open(dir).load(key)).isPresent(); // another instance sees it
  }

  @Test
  void storesAnEmptyValue() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    StoredValue empty = StoredValue.of("c", List.of());
    store.store(key("empty"), empty);
    assertSame(store.load(key("empty")).orElseThrow(), empty);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void partsOfEveryKindRoundTrip(long seed) throws IOException {
    Random random = new Random(seed);
    DirectoryStore store = DirectoryStore.builder(dir).withFsync(random.nextBoolean()).build();
    for (int i = 0; i < 5; i++) {
      int size = switch (random.nextInt(4)) {
        case 0 -> random.nextInt(16);
        case 1 -> random.nextInt(10_000);
        case 2 -> random.nextInt(200_000);
        default -> StoreFiles.HEAP_SLICE * 3 + random.nextInt(StoreFiles.HEAP_SLICE);
      };
      StoredValue value = randomValue(random, size);
      List<Integer> positions = value.parts().stream().map(ByteBuffer::position).toList();
      CacheKey key = key(seed + "/" + i);
      store.store(key, value);
      assertThat(value.parts().stream().map(ByteBuffer::position).toList())
          .as("store leaves the parts' positions").isEqualTo(positions);
      assertSame(store.load(key).orElseThrow(), value);
    }
  }

  @Test
  void aLargeHeapPartRoundTripsInSlices() throws IOException {
    byte[] bytes = new byte[StoreFiles.HEAP_SLICE * 3 + 12345];
    new Random(7).nextBytes(bytes);
    StoredValue value = StoredValue.of("c", List.of(ByteBuffer.wrap(bytes, 3, bytes.length - 3),
        ByteBuffer.wrap(bytes).asReadOnlyBuffer().position(5)));
    DirectoryStore store = DirectoryStore.open(dir);
    store.store(key("heap"), value);
    assertSame(store.load(key("heap")).orElseThrow(), value);
  }

  @Test
  void aLargeDirectPartRoundTrips() throws IOException {
    int size = 64 << 20;
    ByteBuffer part = ByteBuffer.allocateDirect(size);
    Random random = new Random(64);
    while (part.remaining() >= 8) {
      part.putLong(random.nextLong());
    }
    part.flip();
    StoredValue value = StoredValue.of("open.ndarray.v1", List.of(
        ByteBuffer.wrap(new byte[] {1, 2, 3}), part, ByteBuffer.wrap(new byte[] {4})));
    DirectoryStore store = DirectoryStore.open(dir);
    store.store(key("large"), value);

    StoredValue loaded = store.load(key("large")).orElseThrow();
    ByteBuffer payload = loaded.parts().get(0);
    assertThat(payload.isDirect()).isTrue();
    assertThat(payload.remaining()).isEqualTo(size + 4);
    assertThat(payload.get(0)).isEqualTo((byte) 1);
    assertThat(payload.slice(3, size)).isEqualTo(part); // ByteBuffer.equals: the remaining bytes
    assertThat(payload.get(size + 3)).isEqualTo((byte) 4);
    assertThat(loaded.contentHash()).isEqualTo(StoredValue.contentHash(loaded.codec(), loaded.parts()));
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 1 << 20, Long.MAX_VALUE})
  void aLoadedValueOutlivesItsEntryFile(long mapThreshold) throws IOException {
    DirectoryStore store = DirectoryStore.builder(dir).withMapThreshold(mapThreshold).build();
    StoredValue value = randomValue(new Random(8), 3 << 20);
    store.store(key("k"), value);
    StoredValue loaded = store.load(key("k")).orElseThrow();

    Files.delete(store.entryFile(key("k"))); // as a prune would
    assertSame(loaded, value);
    StoredValue other = randomValue(new Random(9), 3 << 20);
    store.store(key("k"), other); // a new file where it was
    assertSame(loaded, value);
    assertSame(store.load(key("k")).orElseThrow(), other);
  }

  @Test
  void storingAnIntactEntryAgainKeepsItsFileAndMarksItUsed() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    StoredValue value = randomValue(new Random(1), 5000);
    store.store(key("k"), value);
    Path file = store.entryFile(key("k"));
    Object inode = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    FileTime old = FileTime.from(Instant.now().minus(Duration.ofDays(3)));
    Files.setLastModifiedTime(file, old);

    store.store(key("k"), value);

    assertThat(Files.readAttributes(file, BasicFileAttributes.class).fileKey()).isEqualTo(inode);
    assertThat(Files.getLastModifiedTime(file)).isGreaterThan(old);
  }

  @Test
  void storingOverACorruptEntryReplacesIt() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    StoredValue value = randomValue(new Random(2), 5000);
    store.store(key("k"), value);
    Path file = store.entryFile(key("k"));
    byte[] bytes = Files.readAllBytes(file);
    bytes[EntryFormat.FIXED_HEADER + 100] ^= 0x10;
    Files.write(file, bytes);

    try (Warnings warnings = new Warnings()) {
      store.store(key("k"), value);
      assertThat(warnings.take()).singleElement().asString()
          .contains(key("k").hex(), file.toString(), "checksum", "storing it again");
      assertSame(store.load(key("k")).orElseThrow(), value);
      assertThat(warnings.take()).isEmpty();
    }
  }

  @Test
  void loadMarksTheEntryUsed() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    store.store(key("k"), randomValue(new Random(3), 10));
    FileTime old = FileTime.from(Instant.now().minus(Duration.ofDays(3)));
    Files.setLastModifiedTime(store.entryFile(key("k")), old);
    store.load(key("k")).orElseThrow();
    assertThat(Files.getLastModifiedTime(store.entryFile(key("k")))).isGreaterThan(old);
  }

  // ---- the directory's format ----

  @Test
  void createsAStoreInANewDirectory() throws IOException {
    Path nested = dir.resolve("a/b/store");
    DirectoryStore store = ResultStore.directory(nested);
    assertThat(store.directory()).isEqualTo(nested.toAbsolutePath());
    assertThat(Files.readString(nested.resolve("FORMAT"))).isEqualTo("open-result-store 1\n");
    assertThat(nested.resolve("entries")).isDirectory();
    assertThat(nested.resolve("recipes")).isDirectory();
    try (var files = Files.list(nested)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("FORMAT", "entries", "recipes");
    }
  }

  @Test
  void createsAStoreInAnEmptyDirectoryAndReopensIt() throws IOException {
    DirectoryStore.open(dir).store(key("k"), randomValue(new Random(4), 100));
    DirectoryStore again = DirectoryStore.open(dir);
    assertThat(again.load(key("k"))).isPresent();
  }

  @Test
  void refusesAStoreOfAnotherFormat() throws IOException {
    Files.writeString(dir.resolve("FORMAT"), "open-result-store 2\n");
    assertThatThrownBy(() -> DirectoryStore.open(dir)).isInstanceOf(StoreException.class)
        .hasMessage(dir.toAbsolutePath() + " holds a result store of format 2; this OPEN reads "
            + "format 1");
    assertThat(dir.resolve("entries")).doesNotExist();
  }

  @Test
  void refusesADirectoryThatIsNotAStore() throws IOException {
    Files.writeString(dir.resolve("notes.txt"), "mine");
    assertThatThrownBy(() -> DirectoryStore.open(dir)).isInstanceOf(StoreException.class)
        .hasMessageContaining(dir.toAbsolutePath().toString())
        .hasMessageContaining("not an OPEN result store")
        .hasMessageContaining("notes.txt")
        .hasMessageContaining("no FORMAT file");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(dir.resolve("notes.txt"));
    }
  }

  @Test
  void refusesAForeignFormatFileAndAFile() throws IOException {
    Files.writeString(dir.resolve("FORMAT"), "something else\n");
    assertThatThrownBy(() -> DirectoryStore.open(dir)).isInstanceOf(StoreException.class)
        .hasMessageContaining("its FORMAT file reads 'something else'");

    Path file = Files.writeString(dir.resolve("plain"), "x");
    assertThatThrownBy(() -> DirectoryStore.open(file)).isInstanceOf(StoreException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining("not a directory");
  }

  @Test
  void openingDeletesOnlyStaleTempFiles() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    store.store(key("k"), randomValue(new Random(5), 100));
    Path shard = store.entryFile(key("k")).getParent();
    Path stale = Files.writeString(shard.resolve("." + key("x").hex() + ".0123456789abcdef.tmp"),
        "half");
    Path staleRecipe = Files.writeString(dir.resolve("recipes/.r.0123456789abcdef.tmp"), "half");
    Path fresh = Files.writeString(shard.resolve("." + key("y").hex() + ".0123456789abcdef.tmp"),
        "being written");
    FileTime twoHoursAgo = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
    Files.setLastModifiedTime(stale, twoHoursAgo);
    Files.setLastModifiedTime(staleRecipe, twoHoursAgo);

    DirectoryStore.open(dir);

    assertThat(stale).doesNotExist();
    assertThat(staleRecipe).doesNotExist();
    assertThat(fresh).exists();
    assertThat(store.load(key("k"))).isPresent();
  }

  // ---- recipes ----

  @Test
  void recordsTheLastRecipeOfANode() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    Map<String, String> inputs = new LinkedHashMap<>();
    inputs.put("zeta", "1".repeat(64));
    inputs.put("alpha ü", "2".repeat(64));
    KeyRecipe first = new KeyRecipe("shop", "", "total", "v1", "java", inputs);
    KeyRecipe second = new KeyRecipe("shop", "2", "total", "v1", "py:mod.f@abc", Map.of());

    assertThat(store.lastRecipe("shop", "total")).isEmpty();
    store.recordRecipe(first);
    KeyRecipe read = store.lastRecipe("shop", "total").orElseThrow();
    assertThat(read).isEqualTo(first);
    assertThat(read.inputs().keySet()).containsExactly("zeta", "alpha ü");
    assertThat(read.key()).isEqualTo(first.key());

    store.recordRecipe(second);
    assertThat(store.lastRecipe("shop", "total")).contains(second);
    assertThat(store.lastRecipe("shop", "other")).isEmpty();
    assertThat(store.recipeFile("shop", "total").getFileName().toString())
        .isEqualTo(HexFormat.of().formatHex(KeyRecipe.sha256()
            .digest("shop\0total".getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void namesJoinedAlikeDoNotShareARecipe() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    store.recordRecipe(new KeyRecipe("a\0b", "", "c", "", "java", Map.of()));
    assertThat(store.recipeFile("a", "b\0c")).isEqualTo(store.recipeFile("a\0b", "c"));
    assertThat(store.lastRecipe("a", "b\0c")).isEmpty();
    assertThat(store.lastRecipe("a\0b", "c")).isPresent();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4})
  void aDamagedRecipeIsAbsent(long seed) throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    KeyRecipe recipe = new KeyRecipe("d", "1", "n", "", "java", Map.of("x", "3".repeat(64)));
    Random random = new Random(seed);
    try (Warnings warnings = new Warnings()) {
      for (int trial = 0; trial < 20; trial++) {
        store.recordRecipe(recipe);
        Path file = store.recipeFile("d", "n");
        byte[] bytes = Files.readAllBytes(file);
        if (random.nextBoolean()) {
          bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
        } else {
          bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
        }
        Files.write(file, bytes);

        assertThat(store.lastRecipe("d", "n")).isEmpty();
        assertThat(warnings.take()).singleElement().asString()
            .contains("d/n", file.toString(), "corrupt");
        assertThat(file).doesNotExist();
      }
    }
  }

  // ---- arguments ----

  @Test
  void checksItsArguments() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    assertThatThrownBy(() -> DirectoryStore.builder(null)).hasMessage("directory");
    assertThatThrownBy(() -> DirectoryStore.builder(dir).withFsync(true).withFsync(false))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("fsync");
    assertThatThrownBy(() -> store.load(null)).hasMessage("key");
    assertThatThrownBy(() -> store.store(null, StoredValue.of("c", List.of())))
        .hasMessage("key");
    assertThatThrownBy(() -> store.store(key("k"), null)).hasMessage("value");
    assertThatThrownBy(() -> store.store(key("k"), new StoredValue("c", "ABC", List.of())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("value.contentHash");
    assertThatThrownBy(() -> store.store(key("k"), StoredValue.of("", List.of())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("value.codec");
    assertThatThrownBy(() -> store.store(key("k"), StoredValue.of("c".repeat(1025), List.of())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("value.codec");
    assertThatThrownBy(() -> store.lastRecipe(null, "n")).hasMessage("dag");
    assertThatThrownBy(() -> store.lastRecipe("d", null)).hasMessage("node");
    assertThatThrownBy(() -> store.recordRecipe(null)).hasMessage("recipe");
    assertThatThrownBy(() -> store.pruneOlderThan(null)).hasMessage("age");
    assertThatThrownBy(() -> store.pruneOlderThan(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("age");
    assertThatThrownBy(() -> store.pruneToSize(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBytes");
    assertThat(store.load(key("k"))).isEmpty();
  }

  @Test
  void closeLeavesTheStoreUsable() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    store.close();
    store.store(key("k"), randomValue(new Random(6), 10));
    assertThat(store.load(key("k"))).isPresent();
  }

  /** A large entry is mapped copy-on-write: the loader may write to it, the file never changes. */
  @Test
  void writingALoadedMappedValueLeavesTheEntryAsItWas() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    byte[] data = new byte[2 << 20]; // over the 1 MiB above which entries are mapped
    java.util.Arrays.fill(data, (byte) 7);
    CacheKey key = key("mapped");
    store.store(key, StoredValue.of("open.test", List.of(ByteBuffer.wrap(data))));

    ByteBuffer loaded = store.load(key).orElseThrow().parts().get(0);
    loaded.put(0, (byte) 99);
    assertThat(loaded.get(0)).isEqualTo((byte) 99);

    assertThat(store.load(key).orElseThrow().parts().get(0).get(0)).isEqualTo((byte) 7);
    assertThat(DirectoryStore.open(dir).load(key).orElseThrow().parts().get(0).get(0))
        .isEqualTo((byte) 7);
  }
}
