package dev.open.dag;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.open.dag.spi.Backend;
import dev.open.dag.store.CacheKey;
import dev.open.dag.store.KeyRecipe;
import dev.open.dag.store.ResultStore;
import dev.open.dag.store.StoredValue;
import dev.open.dag.store.ValueCodec;
import dev.open.dag.store.ValueCodecs;

/**
 * One run's use of a {@link ResultStore}: makes each node's key from its recipe (DAG, node,
 * versions, code, and the content hashes of its inputs' values), looks it up before the node runs,
 * stores the value after it ran, and remembers, per node, the content hash of its value (what its
 * dependants' keys are made of) and what happened ({@link CacheOutcome}).
 *
 * <p>Keys are made of input <em>values</em>, not of the parents' keys: a parent that reran and
 * produced the same value leaves its dependants' keys unchanged. A node whose value no codec can
 * encode has no content hash, so its dependants cannot be keyed (they run, and say why).
 *
 * <p>Thread-safe: a node's slots are written by the one thread that runs it, before the node's
 * final state is published, and read by its dependants after that (as {@link RunState}'s arrays).
 */
final class NodeCache {
  private static final Logger LOG = LoggerFactory.getLogger(DagExecutor.class);

  private final Dag dag;
  private final ResultStore store;
  private final ValueCodecs codecs;
  private final boolean executorDefault;
  /** The content hash of node i's value; null when it has none (no codec, or not finished). */
  private final String[] contentHash;
  private final CacheOutcome[] outcomes;
  /** Per backend (by identity: two pools may share a name) and function, once per run. */
  private final Map<FunctionKey, String> codeIdentities = new ConcurrentHashMap<>();

  /** A backend, compared by identity, and one of its functions. */
  private record FunctionKey(Backend backend, String function) {
    @Override
    public boolean equals(Object o) {
      return o instanceof FunctionKey k && k.backend == backend && k.function.equals(function);
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(backend) * 31 + function.hashCode();
    }
  }

  private NodeCache(Dag dag, DagExecutor config) {
    this.dag = dag;
    this.store = config.store;
    this.codecs = config.codecs;
    this.executorDefault = config.cacheByDefault;
    this.contentHash = new String[dag.size()];
    this.outcomes = new CacheOutcome[dag.size()];
  }

  /** Returns the run's cache, or null when the executor has no store. */
  static NodeCache of(Dag dag, DagExecutor config) {
    return config.store == null ? null : new NodeCache(dag, config);
  }

  /** What a lookup found: a value to use, or the key (if any) to store the computed value under. */
  static final class Lookup {
    final CacheKey key;
    final KeyRecipe recipe;
    final boolean hit;
    final Object value;
    final String hash;
    /** The entry under the key could not be decoded: the computed value must replace it. */
    final boolean replace;

    private Lookup(CacheKey key, KeyRecipe recipe, boolean hit, Object value, String hash,
        boolean replace) {
      this.key = key;
      this.recipe = recipe;
      this.hit = hit;
      this.value = value;
      this.hash = hash;
      this.replace = replace;
    }

    static Lookup miss(CacheKey key, KeyRecipe recipe, boolean replace) {
      return new Lookup(key, recipe, false, null, null, replace);
    }
  }

  private static final Lookup NO_KEY = new Lookup(null, null, false, null, null, false);

  // Every entry point below is guarded: whatever a codec, a backend or the store throws (an
  // Error of linkage or of memory included) costs the cache of that node, never the run.

  Lookup lookup(int i, Node<?> node) {
    try {
      return lookupUnguarded(i, node);
    } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
      outcomes[i] = failed(node, "looking it up", e);
      return NO_KEY;
    }
  }

  Lookup lookupElement(Node<?> node, Object element) {
    try {
      return lookupElementUnguarded(node, element);
    } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
      failed(node, "looking an element up", e);
      return NO_KEY;
    }
  }

  void afterRun(int i, Node<?> node, Lookup lookup, Object value) {
    try {
      afterRunUnguarded(i, node, lookup, value);
    } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
      contentHash[i] = null;
      outcomes[i] = failed(node, "storing its value", e);
    }
  }

  void afterFailure(int i, Lookup lookup) {
    try {
      afterFailureUnguarded(i, lookup);
    } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
      outcomes[i] = failed(dag.node(i), "explaining its miss", e);
    }
  }

  String afterElement(Node<?> node, Lookup lookup, Object value, AtomicInteger unstored) {
    try {
      return afterElementUnguarded(node, lookup, value, unstored);
    } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
      failed(node, "storing an element", e);
      unstored.incrementAndGet();
      return null;
    }
  }

  void afterMap(int i, Node<?> node, String[] elementHashes, int loaded, int unstored) {
    try {
      afterMapUnguarded(i, node, elementHashes, loaded, unstored);
    } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
      contentHash[i] = null;
      outcomes[i] = failed(node, "gathering its elements", e);
    }
  }

  private CacheOutcome failed(Node<?> node, String doing, Throwable e) {
    LOG.warn("result store: failed while {} for node '{}' of DAG '{}'; it runs uncached: {}",
        doing, node.name, dag.name(), e.toString(), e);
    return notCacheable("the cache failed while " + doing + ": " + e);
  }

  /**
   * Looks node i up before it runs. On a hit, records the outcome and the value's hash; on a
   * miss, the returned lookup carries the key for {@link #afterRun}.
   */
  private Lookup lookupUnguarded(int i, Node<?> node) {
    String off = optedOut(node);
    if (off != null) {
      outcomes[i] = new CacheOutcome(CacheOutcome.Kind.OFF, Optional.empty(), off, false);
      return NO_KEY;
    }
    Map<String, String> inputs = new LinkedHashMap<>();
    for (int p = dag.parentStart[i]; p < dag.parentStart[i + 1]; p++) {
      int parent = dag.parents[p];
      String hash = contentHash[parent];
      String name = dag.node(parent).name;
      if (hash == null) {
        outcomes[i] = notCacheable("the value of its input '" + name + "' has no codec");
        return NO_KEY;
      }
      // The same parent read twice keeps both positions: a, a#2, ...
      String position = name;
      for (int k = 2; inputs.containsKey(position); k++) {
        position = name + "#" + k;
      }
      inputs.put(position, hash);
    }
    KeyRecipe recipe = new KeyRecipe(dag.name(), dag.version(), node.name, node.version,
        codeIdentity(node), inputs);
    return load(i, recipe.key(), recipe, node.name);
  }

  /**
   * Looks up one element of map node i, keyed by the map node and the element's own value: an
   * element seen before, in this map or an earlier run, is not computed again.
   */
  private Lookup lookupElementUnguarded(Node<?> node, Object element) {
    if (optedOut(node) != null) {
      return NO_KEY;
    }
    Optional<ValueCodec> codec = codecs.forValue(element);
    if (codec.isEmpty()) {
      return NO_KEY;
    }
    String hash = StoredValue.contentHash(codec.get().id(), codec.get().encode(element));
    // "element of": no task node's recipe has that code, whatever its name and inputs.
    KeyRecipe recipe = new KeyRecipe(dag.name(), dag.version(), node.name, node.version,
        "element of " + codeIdentity(node), Map.of("element", hash));
    return load(-1, recipe.key(), recipe, node.name);
  }

  private Lookup load(int i, CacheKey key, KeyRecipe recipe, String name) {
    Optional<StoredValue> entry;
    try {
      entry = store.load(key);
    } catch (IOException | RuntimeException e) {
      LOG.warn("result store: cannot look up node '{}' of DAG '{}' (key {}): {}", name,
          dag.name(), key.shortHex(), e.toString());
      miss(i, key, "the store could not be read: " + e);
      return Lookup.miss(key, recipe, false);
    }
    if (entry.isEmpty()) {
      return Lookup.miss(key, recipe, false);
    }
    StoredValue stored = entry.get();
    Optional<ValueCodec> codec = codecs.byId(stored.codec());
    if (codec.isEmpty()) {
      miss(i, key, "its entry was written by codec '" + stored.codec()
          + "', which this executor does not have");
      return Lookup.miss(key, recipe, true);
    }
    Object value;
    try {
      value = codec.get().decode(single(stored.parts()));
    } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
      LOG.warn("result store: the entry of node '{}' of DAG '{}' (key {}) cannot be decoded, "
          + "recomputing it: {}", name, dag.name(), key.shortHex(), e.toString());
      miss(i, key, "its entry could not be decoded: " + e);
      return Lookup.miss(key, recipe, true);
    }
    if (i >= 0) {
      contentHash[i] = stored.contentHash();
      outcomes[i] = new CacheOutcome(CacheOutcome.Kind.HIT, Optional.of(key), "found", true);
    }
    return new Lookup(key, recipe, true, value, stored.contentHash(), false);
  }

  /**
   * Node i ran and returned {@code value}: stores it under the lookup's key (before the node's
   * dependants start), and records its content hash and the outcome.
   */
  private void afterRunUnguarded(int i, Node<?> node, Lookup lookup, Object value) {
    Optional<ValueCodec> codec = codecs.forValue(value);
    if (codec.isEmpty()) {
      if (outcomes[i] == null) {
        outcomes[i] = notCacheable("its value has no codec ("
            + (value == null ? "null" : value.getClass().getName()) + ")");
      }
      return;
    }
    StoredValue encoded = StoredValue.of(codec.get().id(), codec.get().encode(value));
    contentHash[i] = encoded.contentHash();
    if (lookup.key == null) {
      return; // off or not keyable: the outcome says why; the hash still serves its dependants
    }
    String why = outcomes[i] != null ? outcomes[i].reason() : whyMissed(lookup.recipe);
    boolean stored = store(lookup, encoded, node.name);
    if (stored) {
      try {
        store.recordRecipe(lookup.recipe);
      } catch (IOException | RuntimeException e) {
        LOG.warn("result store: cannot record the recipe of node '{}' of DAG '{}': {}",
            node.name, dag.name(), e.toString());
      }
    }
    outcomes[i] = new CacheOutcome(CacheOutcome.Kind.MISS, Optional.of(lookup.key),
        stored ? why : why + "; and the value could not be stored", stored);
  }

  /** Node i ran and did not succeed: nothing is stored; the outcome says why it had missed. */
  private void afterFailureUnguarded(int i, Lookup lookup) {
    if (lookup.key != null && outcomes[i] == null) {
      outcomes[i] = new CacheOutcome(CacheOutcome.Kind.MISS, Optional.of(lookup.key),
          whyMissed(lookup.recipe) + "; the task did not succeed, so nothing was stored", false);
    }
  }

  /** Stores a computed element of a map node; returns the content hash of its value, or null. */
  private String afterElementUnguarded(Node<?> node, Lookup lookup, Object value,
      AtomicInteger unstored) {
    Optional<ValueCodec> codec = codecs.forValue(value);
    if (codec.isEmpty()) {
      return null;
    }
    StoredValue encoded = StoredValue.of(codec.get().id(), codec.get().encode(value));
    if (lookup.key != null && !store(lookup, encoded, node.name)) {
      unstored.incrementAndGet();
    }
    return encoded.contentHash();
  }

  /**
   * Map node i ended with all its elements: its content hash is made of theirs (null if any has
   * none), and its outcome says how many were loaded.
   */
  private void afterMapUnguarded(int i, Node<?> node, String[] elementHashes, int loaded,
      int unstored) {
    String off = optedOut(node);
    if (off != null) {
      outcomes[i] = new CacheOutcome(CacheOutcome.Kind.OFF, Optional.empty(), off, false);
    }
    var sha = sha256();
    sha.update("open-map-v1".getBytes(StandardCharsets.UTF_8));
    int missing = 0;
    for (String hash : elementHashes) {
      if (hash == null) {
        missing++;
      } else {
        sha.update(hash.getBytes(StandardCharsets.UTF_8));
      }
    }
    contentHash[i] = missing > 0 ? null : java.util.HexFormat.of().formatHex(sha.digest());
    if (off == null && elementHashes.length == 0) {
      outcomes[i] = new CacheOutcome(CacheOutcome.Kind.OFF, Optional.empty(),
          "no elements", false);
    } else if (off == null) {
      int n = elementHashes.length;
      String reason = loaded == n ? "all " + n + " elements found"
          : loaded + " of " + n + " elements found, " + (n - loaded) + " computed"
              + (missing > 0 ? " (" + missing + " without a codec, not stored)" : "")
              + (unstored > 0 ? " (" + unstored + " could not be stored)" : "");
      outcomes[i] = new CacheOutcome(loaded == n ? CacheOutcome.Kind.HIT
          : missing > 0 ? CacheOutcome.Kind.NOT_CACHEABLE : CacheOutcome.Kind.MISS,
          Optional.empty(), reason, missing == 0 && unstored == 0);
    }
  }

  /** Returns node i's outcome for its report. */
  CacheOutcome outcome(int i) {
    CacheOutcome outcome = outcomes[i];
    return outcome != null ? outcome
        : new CacheOutcome(CacheOutcome.Kind.OFF, Optional.empty(), "the node did not run", false);
  }

  private boolean store(Lookup lookup, StoredValue value, String name) {
    CacheKey key = lookup.key;
    try {
      if (lookup.replace) {
        store.replace(key, value);
      } else {
        store.store(key, value);
      }
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.warn("result store: cannot store the value of node '{}' of DAG '{}' (key {}); the run "
          + "goes on without it: {}", name, dag.name(), key.shortHex(), e.toString());
      return false;
    }
  }

  private String whyMissed(KeyRecipe recipe) {
    Optional<KeyRecipe> previous;
    try {
      previous = store.lastRecipe(recipe.dag(), recipe.node());
    } catch (IOException | RuntimeException e) {
      return "no entry (and its last recipe cannot be read: " + e + ")";
    }
    if (previous.isEmpty()) {
      return "no entry: the node's first run with this store";
    }
    String difference = recipe.differenceFrom(previous.get());
    return difference.equals("unchanged")
        ? "no entry, though its key is the one last stored: the entry was pruned or corrupt"
        : difference;
  }

  private void miss(int i, CacheKey key, String reason) {
    if (i >= 0) {
      outcomes[i] = new CacheOutcome(CacheOutcome.Kind.MISS, Optional.of(key), reason, false);
    }
  }

  private static CacheOutcome notCacheable(String reason) {
    return new CacheOutcome(CacheOutcome.Kind.NOT_CACHEABLE, Optional.empty(), reason, false);
  }

  /** Why node i does not use the store, or null when it does. */
  private String optedOut(Node<?> node) {
    if (node.cache != null) {
      return node.cache ? null : "opted out: withCache(false) on the node";
    }
    Boolean dagDefault = dag.cacheDefault();
    if (dagDefault != null) {
      return dagDefault ? null : "opted out: withCache(false) on the DAG";
    }
    return executorDefault ? null : "opted out: withCacheByDefault(false) on the executor";
  }

  /** What identifies the code node i runs: "java", or the backend function and its identity. */
  private String codeIdentity(Node<?> node) {
    FunctionRef<?> function = node.function;
    if (function == null) {
      return "java";
    }
    FunctionKey key = new FunctionKey(function.backend(), function.function());
    String known = codeIdentities.get(key);
    if (known != null) {
      return known;
    }
    // Asked outside the map's lock: a backend may do I/O (hash a module's source).
    String identity = function.backend().codeIdentity(function.function());
    String code = function.backend().name() + ":" + function.function()
        + (identity == null || identity.isEmpty() ? "" : "@" + identity);
    String raced = codeIdentities.putIfAbsent(key, code);
    return raced != null ? raced : code;
  }

  private static ByteBuffer single(List<ByteBuffer> parts) {
    if (parts.size() == 1) {
      return parts.get(0).duplicate();
    }
    int size = 0;
    for (ByteBuffer part : parts) {
      size = Math.addExact(size, part.remaining());
    }
    ByteBuffer all = ByteBuffer.allocateDirect(size);
    for (ByteBuffer part : parts) {
      all.put(part.duplicate());
    }
    return all.flip();
  }

  private static java.security.MessageDigest sha256() {
    try {
      return java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
