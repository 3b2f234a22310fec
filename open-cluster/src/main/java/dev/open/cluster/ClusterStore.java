package dev.open.cluster;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;

import dev.open.dag.store.CacheKey;
import dev.open.dag.store.KeyRecipe;
import dev.open.dag.store.ResultStore;
import dev.open.dag.store.StoredValue;

/**
 * The cluster's {@link ResultStore}: entries in the {@code IMap} {@value #VALUES}, keyed by the
 * cache key's hex, so that they survive the loss of a member (the map's backup, one by default)
 * and any member that takes over a run finds them. {@link #store} returns once Hazelcast has the
 * entry and its synchronous backups.
 *
 * <p>Keys are {@code scope/hex}: a run's own scope ({@code run-<id>}) keeps its values apart from
 * every other run's — enough for a takeover, which reuses them — and are deleted once the run
 * has ended; the empty scope is shared by the runs of every member that asks for memoization,
 * and its entries stay until Hazelcast's map configuration evicts them.
 *
 * <p>An entry is {@code [codec id, length-prefixed UTF-8][content hash, 64 ASCII hex digits]
 * [value bytes]}. Recipes, which explain a miss by what changed since the last key stored for a
 * node, matter only across runs: the memoized scope keeps them in {@value #RECIPES}, keyed by DAG
 * and node name; a run's own scope keeps none (one write per node saved).
 */
final class ClusterStore implements ResultStore {
  static final String VALUES = "open.values";
  static final String RECIPES = "open.recipes";
  private static final int HASH_LENGTH = 64;

  private final IMap<String, byte[]> values;
  private final IMap<String, byte[]> recipes;
  private final String scope;
  /** How long entries live while their run goes on, in ms; 0 for the map's own configuration. */
  private final long ttlMillis;
  /** The keys of a run's own scope this store wrote or read: deleted when the run ends. */
  private final Set<String> touched = ConcurrentHashMap.newKeySet();
  /**
   * Whether nothing can be stored under this scope yet: a run's own scope, at its first
   * coordinator. Its lookups are then answered here, without a round trip that cannot find
   * anything (takeovers and memoized runs look up for real).
   */
  private final boolean empty;

  /**
   * The store of a run's values in {@code scope}. A run's own values live {@code ttl} from
   * their last write, a safety net for a run nobody finishes, until {@link #dropAll} deletes them
   * when the run ends.
   */
  ClusterStore(HazelcastInstance hz, String scope, Duration ttl, boolean empty) {
    this.values = hz.getMap(VALUES);
    this.recipes = hz.getMap(RECIPES);
    this.scope = scope;
    this.ttlMillis = scope.isEmpty() ? 0 : ttl.toMillis();
    this.empty = empty && !scope.isEmpty();
  }

  /**
   * Deletes every entry of a run's own scope this store wrote or read, once the run has ended:
   * nothing can use them any more (the report holds the values it keeps). Pipelined: one
   * asynchronous delete per entry, waited for together.
   */
  void dropAll() {
    List<CompletableFuture<Boolean>> deletes = new ArrayList<>(touched.size());
    for (String key : touched) {
      deletes.add(values.deleteAsync(key).toCompletableFuture());
    }
    CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new)).join();
  }

  /** The scope of run {@code id}'s values when it does not memoize across runs. */
  static String runScope(long id) {
    return "run-" + id;
  }

  @Override
  public Optional<StoredValue> load(CacheKey key) {
    if (empty) {
      return Optional.empty();
    }
    String name = scope + '/' + key.hex();
    byte[] entry = values.get(name);
    if (entry == null) {
      return Optional.empty();
    }
    if (ttlMillis > 0) {
      touched.add(name);
    }
    ByteBuffer in = ByteBuffer.wrap(entry);
    int codecLength = Short.toUnsignedInt(in.getShort());
    String codec = new String(entry, 2, codecLength, StandardCharsets.UTF_8);
    String hash = new String(entry, 2 + codecLength, HASH_LENGTH, StandardCharsets.US_ASCII);
    int at = 2 + codecLength + HASH_LENGTH;
    ByteBuffer payload = ByteBuffer.wrap(entry, at, entry.length - at).slice();
    return Optional.of(new StoredValue(codec, hash, List.of(payload)));
  }

  @Override
  public void store(CacheKey key, StoredValue value) {
    byte[] codec = value.codec().getBytes(StandardCharsets.UTF_8);
    long size = 2L + codec.length + HASH_LENGTH + value.size();
    if (size > Integer.MAX_VALUE - 64) {
      throw new IllegalArgumentException("an entry of the cluster's store is at most 2 GiB, this "
          + "one is " + size + " bytes");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size);
    out.putShort((short) codec.length).put(codec)
        .put(value.contentHash().getBytes(StandardCharsets.US_ASCII));
    for (ByteBuffer part : value.parts()) {
      out.put(part.duplicate());
    }
    String name = scope + '/' + key.hex();
    put(values, name, out.array());
    if (ttlMillis > 0) {
      touched.add(name);
    }
  }

  @Override
  public Optional<KeyRecipe> lastRecipe(String dag, String node) throws IOException {
    if (!scope.isEmpty()) {
      return Optional.empty();
    }
    byte[] bytes = recipes.get(recipeKey(dag, node));
    if (bytes == null) {
      return Optional.empty();
    }
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
      String d = in.readUTF();
      String dv = in.readUTF();
      String n = in.readUTF();
      String nv = in.readUTF();
      String code = in.readUTF();
      int count = in.readInt();
      Map<String, String> inputs = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        inputs.put(in.readUTF(), in.readUTF());
      }
      return Optional.of(new KeyRecipe(d, dv, n, nv, code, inputs));
    }
  }

  @Override
  public void recordRecipe(KeyRecipe recipe) {
    if (!scope.isEmpty()) {
      return;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(recipe.dag());
      out.writeUTF(recipe.dagVersion());
      out.writeUTF(recipe.node());
      out.writeUTF(recipe.nodeVersion());
      out.writeUTF(recipe.code());
      out.writeInt(recipe.inputs().size());
      for (Map.Entry<String, String> input : recipe.inputs().entrySet()) {
        out.writeUTF(input.getKey());
        out.writeUTF(input.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    put(recipes, recipeKey(recipe.dag(), recipe.node()), bytes.toByteArray());
  }

  private void put(IMap<String, byte[]> map, String key, byte[] value) {
    if (ttlMillis > 0) {
      map.set(key, value, ttlMillis, TimeUnit.MILLISECONDS);
    } else {
      map.set(key, value);
    }
  }

  private static String recipeKey(String dag, String node) {
    return dag + '\u0000' + node;
  }

  @Override
  public String toString() {
    return "ClusterStore[" + VALUES + ", scope '" + scope + "']";
  }
}
