package dev.open.dag.store;

import static dev.open.dag.store.DirectoryStoreTest.assertSame;
import static dev.open.dag.store.DirectoryStoreTest.key;
import static dev.open.dag.store.DirectoryStoreTest.randomValue;
import static org.assertj.core.api.Assertions.assertThat;

import dev.open.dag.store.DirectoryStoreTest.Warnings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A damaged entry is a miss: truncated at any offset, with bits flipped anywhere, with a header
 * lying about lengths, or filed under another key, it loads as absent, is logged at WARN with its
 * key, file and reason, and is deleted; storing the key again then works. Damage is looked for
 * both by reading (small entries) and by mapping (large ones): the trials alternate.
 */
class DirectoryStoreCorruptionTest {
  @TempDir Path dir;

  /** Puts {@code bytes} where {@code key}'s entry goes, loads it, and checks it is a miss. */
  private static void assertMiss(DirectoryStore store, CacheKey key, byte[] bytes,
      Warnings warnings, String reason) throws IOException {
    Path file = store.entryFile(key);
    Files.createDirectories(file.getParent());
    Files.write(file, bytes);

    assertThat(store.load(key)).isEmpty();
    assertThat(warnings.take()).singleElement().asString()
        .contains(key.hex(), file.toString(), "is corrupt", "treating it as absent", reason);
    assertThat(file).doesNotExist();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void aTruncatedEntryIsAMiss(long seed) throws IOException {
    Random random = new Random(seed);
    DirectoryStore store = DirectoryStore.builder(dir).withFsync(false).build();
    StoredValue value = randomValue(random, random.nextInt(20_000));
    CacheKey key = key("truncated " + seed);
    store.store(key, value);
    byte[] whole = Files.readAllBytes(store.entryFile(key));

    Set<Integer> lengths = new TreeSet<>(Set.of(0, 1, EntryFormat.FIXED_HEADER,
        whole.length - EntryFormat.TRAILER, whole.length - 1));
    while (lengths.size() < 30) {
      lengths.add(random.nextInt(whole.length));
    }
    DirectoryStore mapping = DirectoryStore.builder(dir).withMapThreshold(0).build();
    try (Warnings warnings = new Warnings()) {
      int trial = 0;
      for (int length : lengths) {
        assertMiss(trial++ % 2 == 0 ? store : mapping, key, Arrays.copyOf(whole, length), warnings,
            "truncated");
      }
      store.store(key, value);
      assertSame(store.load(key).orElseThrow(), value);
      assertThat(warnings.take()).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void anEntryWithFlippedBitsIsAMiss(long seed) throws IOException {
    Random random = new Random(seed);
    DirectoryStore store = DirectoryStore.builder(dir).withFsync(false).build();
    StoredValue value = randomValue(random, 1 + random.nextInt(20_000));
    CacheKey key = key("flipped " + seed);
    store.store(key, value);
    byte[] whole = Files.readAllBytes(store.entryFile(key));

    DirectoryStore mapping = DirectoryStore.builder(dir).withMapThreshold(0).build();
    try (Warnings warnings = new Warnings()) {
      for (int trial = 0; trial < 40; trial++) {
        byte[] damaged = whole.clone();
        // 1 to 3 distinct bits, anywhere (CRC32C finds every such error in entries < 256 MiB);
        // every fourth trial damages the header, where lengths and the magic live.
        int bits = 1 + random.nextInt(3);
        Set<Integer> flipped = new TreeSet<>();
        while (flipped.size() < bits) {
          int range = trial % 4 == 0 ? EntryFormat.FIXED_HEADER : whole.length;
          flipped.add(random.nextInt(range * 8));
        }
        for (int bit : flipped) {
          damaged[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        assertMiss(trial % 2 == 0 ? store : mapping, key, damaged, warnings, "");
      }
      store.store(key, value);
      assertSame(store.load(key).orElseThrow(), value);
      assertThat(warnings.take()).isEmpty();
    }
  }

  /** Returns a 100-byte file whose header claims a {@code payloadLength} payload. */
  private static byte[] header(CacheKey key, int headerLength, long payloadLength) {
    ByteBuffer file = ByteBuffer.allocate(100);
    file.put(EntryFormat.MAGIC).putInt(headerLength).put(HexFormat.of().parseHex(key.hex()))
        .put(new byte[32]).putLong(payloadLength).putShort((short) 4)
        .put("test".getBytes(StandardCharsets.US_ASCII));
    return file.array();
  }

  @Test
  void aHeaderClaimingMoreThanTheFileHoldsIsAMissWithoutAllocatingIt() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    CacheKey key = key("huge");
    try (Warnings warnings = new Warnings()) {
      assertMiss(store, key, header(key, EntryFormat.FIXED_HEADER + 4, 1L << 62), warnings,
          "payload length 4611686018427387904 does not match the file's 100 bytes");
      assertMiss(store, key, header(key, EntryFormat.FIXED_HEADER + 4, -1), warnings,
          "payload length -1");
      assertMiss(store, key, header(key, Integer.MAX_VALUE, 10), warnings,
          "header length 2147483647 does not fit a file of 100 bytes");
      assertMiss(store, key, header(key, -5, 10), warnings, "header length -5");
      // Lengths that add up, but a codec id longer than the header.
      byte[] lying = header(key, EntryFormat.FIXED_HEADER + 4, 100 - EntryFormat.FIXED_HEADER - 8);
      lying[84] = (byte) 0xff;
      assertMiss(store, key, lying, warnings, "codec id length 65284");
    }
  }

  @Test
  void aFileThatIsNotAnEntryIsAMiss() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    CacheKey key = key("foreign");
    byte[] text = "#!/bin/sh\necho this is not an entry of any store\n".repeat(5)
        .getBytes(StandardCharsets.US_ASCII);
    try (Warnings warnings = new Warnings()) {
      assertMiss(store, key, text, warnings, "not an entry file");
    }
  }

  @Test
  void anEntryFiledUnderAnotherKeyIsAMiss() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    StoredValue value = randomValue(new Random(9), 500);
    store.store(key("a"), value);
    byte[] entryOfA = Files.readAllBytes(store.entryFile(key("a")));
    try (Warnings warnings = new Warnings()) {
      assertMiss(store, key("b"), entryOfA, warnings,
          "holds the entry of key " + key("a").shortHex());
    }
    assertSame(store.load(key("a")).orElseThrow(), value);
  }

  @Test
  void aCorruptEntryReplacedMeanwhileIsNotDeleted() throws IOException {
    DirectoryStore store = DirectoryStore.open(dir);
    StoredValue value = randomValue(new Random(10), 500);
    CacheKey key = key("raced");
    store.store(key, value);
    Path file = store.entryFile(key);
    byte[] good = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(good, 10));
    Object corruptOne =
        Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    // A writer replaces it (a new file renamed over it) after a reader found it corrupt.
    Path temp = file.resolveSibling(".replacement.tmp");
    Files.write(temp, good);
    Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

    StoreFiles.deleteIfSame(file, corruptOne);

    assertSame(store.load(key).orElseThrow(), value);
  }
}
