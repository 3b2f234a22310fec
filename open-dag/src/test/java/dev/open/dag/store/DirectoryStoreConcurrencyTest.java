package dev.open.dag.store;

import static dev.open.dag.store.DirectoryStoreTest.assertSame;
import static dev.open.dag.store.DirectoryStoreTest.bytes;
import static dev.open.dag.store.DirectoryStoreTest.key;
import static dev.open.dag.store.DirectoryStoreTest.randomValue;
import static org.assertj.core.api.Assertions.assertThat;

import dev.open.dag.store.DirectoryStoreTest.Warnings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many virtual threads store and load the same and different keys at once, with prunes among
 * them: every load returns nothing or exactly the value stored, and nothing is ever corrupt.
 */
class DirectoryStoreConcurrencyTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  @Timeout(120)
  void loadsSeeWholeValuesOrNothing(long seed) throws Exception {
    Random random = new Random(seed);
    DirectoryStore store = DirectoryStore.builder(dir).withFsync(seed == 1)
        .withMapThreshold(seed == 2 ? 0 : DirectoryStore.MAP_THRESHOLD).build(); // 2 maps all
    int keyCount = 12;
    List<CacheKey> keys = new ArrayList<>();
    List<StoredValue> values = new ArrayList<>();
    for (int i = 0; i < keyCount; i++) {
      keys.add(key(seed + " key " + i));
      values.add(randomValue(random, i % 4 == 0 ? 300_000 + random.nextInt(300_000)
          : random.nextInt(5_000)));
    }
    List<byte[]> expected = values.stream().map(DirectoryStoreTest::bytes).toList();
    int tasks = 600;
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger hits = new AtomicInteger();
    try (Warnings warnings = new Warnings();
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < tasks; t++) {
        long taskSeed = random.nextLong();
        futures.add(threads.submit(() -> {
          Random r = new Random(taskSeed);
          start.await();
          for (int op = 0; op < 10; op++) {
            int i = r.nextInt(3) == 0 ? 0 : r.nextInt(keyCount); // key 0 is hot
            int what = r.nextInt(20);
            if (what < 8) {
              store.store(keys.get(i), values.get(i));
            } else if (what < 19) {
              Optional<StoredValue> loaded = store.load(keys.get(i));
              if (loaded.isPresent()) {
                hits.incrementAndGet();
                assertThat(loaded.get().contentHash()).isEqualTo(values.get(i).contentHash());
                assertThat(Arrays.equals(bytes(loaded.get()), expected.get(i)))
                    .as("value of key %d", i).isTrue();
              }
            } else if (r.nextBoolean()) {
              store.pruneToSize(r.nextInt(2_000_000));
            } else {
              store.pruneOlderThan(java.time.Duration.ZERO);
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> future : futures) {
        future.get(100, TimeUnit.SECONDS);
      }
      assertThat(warnings.take()).as("no load or store ever saw a corrupt entry").isEmpty();
    }
    assertThat(hits.get()).isPositive();
    for (int i = 0; i < keyCount; i++) {
      store.store(keys.get(i), values.get(i));
      assertSame(store.load(keys.get(i)).orElseThrow(), values.get(i));
    }
  }
}
