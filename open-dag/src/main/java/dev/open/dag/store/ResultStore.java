package dev.open.dag.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a run keeps the values of its nodes, content-addressed by {@link CacheKey}: the one
 * mechanism behind resuming a run after its JVM died and memoizing nodes whose inputs did not
 * change. Plugged in with {@code DagExecutor.builder().withResultStore(store)}.
 *
 * <p>The embedded default, {@link #directory(Path)}, keeps each entry in a file of a local
 * directory and needs no server; a cluster module adds a cluster-wide store on this same
 * interface.
 *
 * <p>Contract for implementations:
 *
 * <ul>
 *   <li>{@link #store} returns only once the entry is as durable as the store promises (the
 *       directory store: on disk, fsync'd, by default); a run starts a node's dependants only
 *       after that, so a crash never leaves a dependant computed from a value that was not stored.
 *   <li>{@link #load} never returns a corrupt or partial entry: it verifies the entry's checksum
 *       and treats a bad entry as absent (and says so, at WARN, with the key and the reason).
 *   <li>Storing a key that is already there is harmless: entries under one key hold the same value
 *       by construction, and whichever write lands is kept.
 *   <li>The parts of a {@link StoredValue} given to {@link #store} are views of the caller's
 *       memory (an array's own buffer), valid only during the call: a store that keeps them
 *       longer (to write later, to replicate) must copy them. The caller may keep the buffers
 *       {@link #load} returns as long as it likes, so a store must not reuse them.
 *   <li>Thread-safe: a run loads and stores from many threads at once.
 * </ul>
 */
public interface ResultStore extends AutoCloseable {

  /**
   * Returns the embedded store in {@code directory}, creating it if needed (see {@link
   * DirectoryStore} for its layout and guarantees).
   *
   * @param directory the store's root directory
   * @return the store
   * @throws StoreException if the directory cannot be created or holds a store of an unknown
   *     format version
   */
  static DirectoryStore directory(Path directory) {
    return DirectoryStore.open(directory);
  }

  /**
   * Looks up {@code key}.
   *
   * @param key the node's key
   * @return the entry, or empty when there is none or it was corrupt
   * @throws IOException if the store cannot be read at all (a run then runs the node, and the
   *     report says why it missed)
   */
  Optional<StoredValue> load(CacheKey key) throws IOException;

  /**
   * Stores {@code value} under {@code key}, returning once it is durable.
   *
   * @param key the node's key
   * @param value the encoded value
   * @throws IOException if it could not be stored (a run then goes on, and the report and the log
   *     say that the node's value is not stored)
   */
  void store(CacheKey key, StoredValue value) throws IOException;

  /**
   * Stores {@code value} under {@code key} even when an intact entry is there already: a run
   * calls it when the entry it found could not be decoded (its codec is gone, or its format
   * changed), so that the recomputed value takes its place. The default calls {@link #store},
   * which is right for stores that always overwrite.
   *
   * @param key the node's key
   * @param value the encoded value
   * @throws IOException if it could not be stored
   */
  default void replace(CacheKey key, StoredValue value) throws IOException {
    store(key, value);
  }

  /**
   * Returns the recipe of the key last stored for a node (by DAG and node name), which a run
   * compares with the new recipe to explain a miss.
   *
   * @param dag the DAG's name
   * @param node the node's name
   * @return the recipe, or empty when the store has none
   * @throws IOException if the store cannot be read
   */
  Optional<KeyRecipe> lastRecipe(String dag, String node) throws IOException;

  /**
   * Records {@code recipe} as the last one of its node, replacing the previous one.
   *
   * @param recipe the recipe of a key just stored
   * @throws IOException if it cannot be written
   */
  void recordRecipe(KeyRecipe recipe) throws IOException;

  /** Releases what the store holds open; the default does nothing. */
  @Override
  default void close() throws IOException {}
}
