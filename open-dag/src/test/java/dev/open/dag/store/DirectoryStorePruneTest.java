package dev.open.dag.store;

import static dev.open.dag.store.DirectoryStoreTest.key;
import static dev.open.dag.store.DirectoryStoreTest.randomValue;
import static org.assertj.core.api.Assertions.assertThat;

import dev.open.dag.store.DirectoryStore.PruneResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pruning by last use: by age, and down to a size, least recently used first. */
class DirectoryStorePruneTest {
  @TempDir Path dir;

  private DirectoryStore store;
  private final List<CacheKey> keys = new ArrayList<>();
  private final List<Long> sizes = new ArrayList<>();
  private final Instant now = Instant.now();

  /** Stores ten entries, the i-th of 1000 + 100 i bytes, last used i hours ago. */
  @BeforeEach
  void tenEntries() throws IOException {
    store = DirectoryStore.builder(dir).withFsync(false).build();
    Random random = new Random(42);
    for (int i = 0; i < 10; i++) {
      CacheKey key = key("entry " + i);
      store.store(key, randomValue(random, 1000 + 100 * i));
      usedHoursAgo(key, i);
      keys.add(key);
      sizes.add(Files.size(store.entryFile(key)));
    }
  }

  private void usedHoursAgo(CacheKey key, int hours) throws IOException {
    Files.setLastModifiedTime(store.entryFile(key),
        FileTime.from(now.minus(Duration.ofHours(hours))));
  }

  private long bytesOf(int from, int to) {
    return sizes.subList(from, to).stream().mapToLong(Long::longValue).sum();
  }

  private List<Boolean> present() {
    return keys.stream().map(k -> Files.exists(store.entryFile(k))).toList();
  }

  @Test
  void prunesEntriesNotUsedForLongerThanAnAge() throws IOException {
    PruneResult result = store.pruneOlderThan(Duration.ofMinutes(5 * 60 + 30));

    assertThat(result).isEqualTo(new PruneResult(4, bytesOf(6, 10), 6, bytesOf(0, 6)));
    assertThat(present()).containsExactly(true, true, true, true, true, true, false, false, false,
        false);
    assertThat(store.load(keys.get(6))).isEmpty();
    assertThat(store.load(keys.get(5))).isPresent();

    assertThat(store.pruneOlderThan(Duration.ofDays(365)))
        .isEqualTo(new PruneResult(0, 0, 6, bytesOf(0, 6)));
    assertThat(store.pruneOlderThan(Duration.ofSeconds(Long.MAX_VALUE)).removedEntries()).isZero();
  }

  @Test
  void aLoadMakesAnEntryRecentlyUsed() throws IOException {
    store.load(keys.get(9)).orElseThrow();

    store.pruneOlderThan(Duration.ofMinutes(30));

    assertThat(present()).containsExactly(true, false, false, false, false, false, false, false,
        false, true);
  }

  @Test
  void prunesTheLeastRecentlyUsedEntriesToASize() throws IOException {
    store.load(keys.get(8)).orElseThrow(); // now the most recently used
    long limit = bytesOf(0, 3) + sizes.get(8);

    PruneResult result = store.pruneToSize(limit);

    assertThat(present()).containsExactly(true, true, true, false, false, false, false, false,
        true, false);
    assertThat(result).isEqualTo(new PruneResult(6, bytesOf(3, 8) + sizes.get(9), 4, limit));

    PruneResult again = store.pruneToSize(limit - 1); // one byte less: the oldest one goes
    assertThat(again).isEqualTo(new PruneResult(1, sizes.get(2), 3, limit - sizes.get(2)));
    assertThat(present()).containsExactly(true, true, false, false, false, false, false, false,
        true, false);

    assertThat(store.pruneToSize(0)).isEqualTo(new PruneResult(3, limit - sizes.get(2), 0, 0));
    assertThat(store.pruneToSize(0)).isEqualTo(new PruneResult(0, 0, 0, 0));
  }

  @Test
  void pruningDeletesStaleTempFilesAndLeavesEverythingElse() throws IOException {
    Path shard = store.entryFile(keys.get(0)).getParent();
    Path stale = Files.writeString(shard.resolve(".x.00000000000000ff.tmp"), "killed writer");
    Path fresh = Files.writeString(shard.resolve(".y.00000000000000ff.tmp"), "writing");
    Path staleRecipe = Files.writeString(dir.resolve("recipes/.r.00000000000000ff.tmp"), "k");
    Path other = Files.writeString(shard.resolve("README"), "not an entry");
    for (Path file : List.of(stale, staleRecipe, other)) {
      Files.setLastModifiedTime(file, FileTime.from(now.minus(Duration.ofHours(2))));
    }
    store.recordRecipe(new KeyRecipe("d", "", "n", "", "java", Map.of()));

    PruneResult result = store.pruneToSize(0);

    assertThat(result.keptEntries()).isZero();
    assertThat(result.removedEntries()).isEqualTo(10);
    assertThat(stale).doesNotExist();
    assertThat(staleRecipe).doesNotExist();
    assertThat(fresh).exists();
    assertThat(other).exists();
    assertThat(store.lastRecipe("d", "n")).isPresent();
  }
}
