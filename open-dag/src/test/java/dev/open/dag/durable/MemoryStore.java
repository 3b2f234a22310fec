package dev.open.dag.durable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import dev.open.dag.store.CacheKey;
import dev.open.dag.store.KeyRecipe;
import dev.open.dag.store.ResultStore;
import dev.open.dag.store.StoredValue;

/** A result store in memory, with seams to fail writes and to corrupt entries. */
final class MemoryStore implements ResultStore {
  final Map<CacheKey, StoredValue> entries = new ConcurrentHashMap<>();
  final Map<String, KeyRecipe> recipes = new ConcurrentHashMap<>();
  final AtomicInteger loads = new AtomicInteger();
  final AtomicInteger stores = new AtomicInteger();
  volatile boolean failWrites;

  @Override
  public Optional<StoredValue> load(CacheKey key) {
    loads.incrementAndGet();
    return Optional.ofNullable(entries.get(key));
  }

  @Override
  public void store(CacheKey key, StoredValue value) throws IOException {
    if (failWrites) {
      throw new IOException("disk full (a test's store)");
    }
    stores.incrementAndGet();
    // Keep a copy: the parts may be views of the caller's memory.
    ByteBuffer copy = ByteBuffer.allocate((int) value.size());
    for (ByteBuffer part : value.parts()) {
      copy.put(part.duplicate());
    }
    entries.put(key, new StoredValue(value.codec(), value.contentHash(), List.of(copy.flip())));
  }

  @Override
  public Optional<KeyRecipe> lastRecipe(String dag, String node) {
    return Optional.ofNullable(recipes.get(dag + "\0" + node));
  }

  @Override
  public void recordRecipe(KeyRecipe recipe) {
    recipes.put(recipe.dag() + "\0" + recipe.node(), recipe);
  }

  /** Replaces every entry's bytes with garbage of the same codec. */
  void corruptAll() {
    entries.replaceAll((k, v) -> new StoredValue(v.codec(), v.contentHash(),
        List.of(ByteBuffer.wrap(new byte[] {(byte) 0xff, 0x13, 0x37}))));
  }
}
