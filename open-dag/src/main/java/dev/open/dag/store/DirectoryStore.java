package dev.open.dag.store;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The embedded {@link ResultStore}: one file per entry in a local directory.
 */
public final class DirectoryStore implements ResultStore {
  // TODO(store helper): implement; this skeleton fixes the API.

  private DirectoryStore() {}

  static DirectoryStore open(Path directory) {
    throw new UnsupportedOperationException();
  }

  /**
   * Returns a builder for a store in {@code directory}.
   *
   * @param directory the store's root directory
   * @return the builder
   */
  public static Builder builder(Path directory) {
    throw new UnsupportedOperationException();
  }

  /** Returns the store's root directory. */
  public Path directory() {
    throw new UnsupportedOperationException();
  }

  @Override
  public Optional<StoredValue> load(CacheKey key) throws IOException {
    throw new UnsupportedOperationException();
  }

  @Override
  public void store(CacheKey key, StoredValue value) throws IOException {
    throw new UnsupportedOperationException();
  }

  @Override
  public Optional<KeyRecipe> lastRecipe(String dag, String node) throws IOException {
    throw new UnsupportedOperationException();
  }

  @Override
  public void recordRecipe(KeyRecipe recipe) throws IOException {
    throw new UnsupportedOperationException();
  }

  /**
   * Removes the entries not used (stored or loaded) for longer than {@code age}.
   *
   * @param age a non-negative duration
   * @return what was removed and what is left
   * @throws IOException if the directory cannot be read
   */
  public PruneResult pruneOlderThan(Duration age) throws IOException {
    throw new UnsupportedOperationException();
  }

  /**
   * Removes the least recently used entries until the entries take at most {@code maxBytes}.
   *
   * @param maxBytes a non-negative size
   * @return what was removed and what is left
   * @throws IOException if the directory cannot be read
   */
  public PruneResult pruneToSize(long maxBytes) throws IOException {
    throw new UnsupportedOperationException();
  }

  /**
   * What a prune did.
   *
   * @param removedEntries entries removed
   * @param removedBytes their size on disk
   * @param keptEntries entries left
   * @param keptBytes their size on disk
   */
  public record PruneResult(long removedEntries, long removedBytes, long keptEntries,
      long keptBytes) {}

  /** Builds a {@link DirectoryStore}. Each setting may be given once. Not thread-safe. */
  public static final class Builder {
    private Builder() {}

    /**
     * Sets whether each entry is fsync'd before {@code store} returns (default true). Without,
     * an entry survives the death of the JVM but not of the machine.
     *
     * @param fsync whether to fsync
     * @return this builder
     */
    public Builder withFsync(boolean fsync) {
      throw new UnsupportedOperationException();
    }

    /** Opens the store, creating its directory if needed. */
    public DirectoryStore build() {
      throw new UnsupportedOperationException();
    }
  }
}
