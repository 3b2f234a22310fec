package dev.open.dag.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded {@link ResultStore}: one file per entry in a local directory. Thread-safe, and
 * safe to share between JVMs.
 *
 * <h2>Layout (a compatibility promise)</h2>
 *
 * <p>Format 1 of the directory, which later releases read or refuse by name:
 *
 * <pre>
 * &lt;dir&gt;/FORMAT                       "open-result-store 1\n" (ASCII)
 * &lt;dir&gt;/entries/&lt;ab&gt;/&lt;abcd…&gt;         one entry: its 64-hex key, under its first 2 hex digits
 * &lt;dir&gt;/recipes/&lt;hex&gt;                the last recipe of a node: the SHA-256, in hex, of the
 *                                    UTF-8 of DAG name + '\0' + node name
 * .&lt;name&gt;.&lt;16 hex&gt;.tmp                a file being written, beside its final name
 * </pre>
 *
 * <p>An entry file, integers big-endian:
 *
 * <pre>
 * offset  size  field
 *      0     8  magic "OPENENT1"
 *      8     4  header length H: 86 + codec id length, zero-padded by writers to a multiple
 *               of 64 so that a mapped payload is aligned; readers skip what follows the id
 *     12    32  the entry's key (SHA-256), the same as its file name
 *     44    32  the value's content hash (SHA-256 of the payload)
 *     76     8  payload length P
 *     84     2  codec id length C (1 to 1024)
 *     86     C  codec id, UTF-8
 *      H     P  payload: the value's parts, concatenated
 *    H+P     4  CRC32C of bytes [0, H+P)
 * </pre>
 *
 * <p>A recipe file: the magic {@code OPENRCP1}, then DAG, DAG version, node, node version and
 * code, then the number of inputs (4 bytes) and each input's name and content hash, every string
 * as a 4-byte length and UTF-8 bytes, then the CRC32C of all of that. Recipes are written
 * atomically but never fsync'd: they only explain misses, and a lost one reads as "first run".
 *
 * <p>Opening a directory that does not exist or is empty creates the store; opening a directory
 * with a {@code FORMAT} of another version, or a non-empty directory without one, throws {@link
 * StoreException}, so that a store is never misread and no other directory is written to.
 *
 * <h2>Guarantees and choices</h2>
 *
 * <ul>
 *   <li><b>Atomic entries.</b> {@link #store} writes a temp file in the entry's directory, fsyncs
 *       it, renames it onto the entry's name atomically and fsyncs the directory, then returns:
 *       a reader, in this JVM or another, sees a whole entry or none, and a JVM killed at any
 *       point leaves at most a temp file. With {@link Builder#withFsync withFsync(false)} both
 *       fsyncs are skipped: an entry then survives the JVM's death but not the machine's (after
 *       a power loss, entries may be missing, or, on file systems that do not order a rename
 *       after its file's data, be empty or partial; the checksum then makes them misses).
 *   <li><b>Integrity.</b> The CRC32C over header and payload is the integrity check: it finds
 *       truncation and bit flips (every 1 to 3 flipped bits in an entry below 256 MiB) at memory
 *       speed. The content hash is metadata the codec computed when encoding and is trusted, not
 *       recomputed on load: SHA-256 of a 64 MiB payload would cost more than reading it.
 *   <li><b>Corrupt entries are misses.</b> {@link #load} checks the magic, that the lengths add
 *       up to the file's actual size (before allocating anything: a header claiming more than
 *       the file holds is corruption), the checksum and the key; a bad entry is logged at WARN
 *       with its key, file and why, deleted (unless a writer has replaced it meanwhile) and
 *       reported as absent. {@code IOException} means the store cannot be read at all.
 *   <li><b>Small entries are read, large ones mapped.</b> A payload under 1 MiB is read into one
 *       direct buffer of its size. A larger one is mapped copy-on-write instead (a loaded array
 *       is as writable as a computed one; its writes stay private): no copy, and no
 *       fresh buffer to zero and fault in (which costs more than the read itself: a 64 MiB load
 *       takes a fifth of the time mapped), it shares the page cache, and it does not count
 *       against {@code -XX:MaxDirectMemorySize}. Its checksum is checked over the mapping before
 *       it is returned, and its bytes stay those checked since the store never writes an entry
 *       file in place: a store renames a new file over it, and prune and corruption delete it,
 *       which on Linux and macOS leaves a mapping valid (the disk space is freed when the buffer
 *       is collected). A program that truncates an entry file in place while its value is mapped
 *       makes reads of the value throw {@link InternalError} (the JVM's report of a fault in a
 *       mapping). On Windows a mapped entry cannot be deleted or replaced until its buffer is
 *       collected: prune then keeps it.
 *   <li><b>Storing an existing key</b> checks the existing entry (its whole checksum, reading it
 *       in small pieces) and keeps it when it is intact, so an entry is written once; a corrupt
 *       one is replaced.
 *   <li><b>Values</b> are at most {@code Integer.MAX_VALUE} bytes (one buffer holds an entry),
 *       their codec id 1 to 1024 UTF-8 bytes, their content hash 64 lower-case hex digits.
 *       Direct parts are written with a gathering write as they are, without a copy on the heap.
 *   <li><b>Last use and pruning.</b> An entry's modification time is its last use: set when
 *       stored, and again by every load. {@link #pruneOlderThan} and {@link #pruneToSize} remove
 *       entries by it, least recently used first, and are safe while other threads and JVMs use
 *       the store: a load that finds its entry gone is a miss, and an entry used since the prune
 *       listed it is kept. Recipes are not pruned (they are small, and explain later misses).
 *   <li><b>Temp files</b> of writers killed mid-write are deleted by opening the store and by
 *       pruning, once they are older than an hour: a temp file younger than that may be another
 *       JVM's write in progress. Opening therefore lists every shard directory once.
 *   <li>{@link #close} does nothing: the store holds no file open between calls, and stays usable.
 * </ul>
 */
public final class DirectoryStore implements ResultStore {
  private static final Logger LOG = LoggerFactory.getLogger(DirectoryStore.class);

  /** The format version this class reads and writes. */
  static final int FORMAT_VERSION = 1;

  static final String FORMAT_FILE = "FORMAT";
  static final String ENTRIES = "entries";
  static final String RECIPES = "recipes";

  /** Entries with a payload of this many bytes or more are mapped, smaller ones read. */
  static final long MAP_THRESHOLD = 1 << 20;

  /** Temp files older than this are a killed writer's, and deleted. */
  static final Duration STALE_TEMP = Duration.ofHours(1);

  private static final String FORMAT_PREFIX = "open-result-store ";
  private static final Pattern FORMAT_LINE =
      Pattern.compile(Pattern.quote(FORMAT_PREFIX) + "(\\d{1,9})\\r?\\n?");
  private static final Pattern KEY_NAME = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern SHARD_NAME = Pattern.compile("[0-9a-f]{2}");

  private final Path directory;
  private final Path entries;
  private final Path recipes;
  private final boolean fsync;
  private final long mapThreshold;

  private DirectoryStore(Path directory, boolean fsync, long mapThreshold) {
    this.directory = directory;
    this.entries = directory.resolve(ENTRIES);
    this.recipes = directory.resolve(RECIPES);
    this.fsync = fsync;
    this.mapThreshold = mapThreshold;
  }

  static DirectoryStore open(Path directory) {
    return builder(directory).build();
  }

  /**
   * Returns a builder for a store in {@code directory}.
   *
   * @param directory the store's root directory
   * @return the builder
   */
  public static Builder builder(Path directory) {
    return new Builder(Objects.requireNonNull(directory, "directory"));
  }

  /** {@return the store's root directory (absolute)} */
  public Path directory() {
    return directory;
  }

  /** Returns the file of {@code key}'s entry (whether there is one or not). */
  Path entryFile(CacheKey key) {
    return entries.resolve(key.hex().substring(0, 2)).resolve(key.hex());
  }

  /** Returns the file of the last recipe of ({@code dag}, {@code node}). */
  Path recipeFile(String dag, String node) {
    return recipes.resolve(RecipeFormat.fileName(dag, node));
  }

  @Override
  public Optional<StoredValue> load(CacheKey key) throws IOException {
    Objects.requireNonNull(key, "key");
    Path file = entryFile(key);
    Object fileKey = null;
    StoredValue value;
    long lastUsed;
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      fileKey = attributes.fileKey();
      lastUsed = attributes.lastModifiedTime().toMillis();
      // A large payload is mapped copy-on-write, so that a loaded array is as writable as a
      // computed one (its writes go to private pages, never to the file): that needs the file
      // open for writing too. A small one is read.
      boolean mapped = attributes.size() >= mapThreshold;
      try (FileChannel channel = mapped
          ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)
          : FileChannel.open(file, StandardOpenOption.READ)) {
        EntryFormat.Header header = EntryFormat.readHeader(channel, channel.size());
        ByteBuffer payload = EntryFormat.readPayload(channel, key, header, mapThreshold);
        value = new StoredValue(header.codec(), header.contentHash(), List.of(payload));
      }
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (EntryFormat.Corrupt e) {
      LOG.warn("Result store entry {} in {} is corrupt: {}; treating it as absent and deleting it",
          key, file, e.getMessage());
      StoreFiles.deleteIfSame(file, fileKey);
      return Optional.empty();
    }
    // Last use is kept to the hour: touching every load would cost a metadata write each.
    if (System.currentTimeMillis() - lastUsed > USE_GRANULARITY_MILLIS) {
      touch(file);
    }
    return Optional.of(value);
  }

  /** How exactly a load records the last use of an entry, for pruning. */
  static final long USE_GRANULARITY_MILLIS = 60 * 60 * 1000;

  @Override
  public void store(CacheKey key, StoredValue value) throws IOException {
    write(key, value, false);
  }

  /** Writes the entry even over an intact one (whose value a run could not decode). */
  @Override
  public void replace(CacheKey key, StoredValue value) throws IOException {
    write(key, value, true);
  }

  private void write(CacheKey key, StoredValue value, boolean replace) throws IOException {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    byte[] codec = value.codec().getBytes(StandardCharsets.UTF_8);
    if (codec.length == 0 || codec.length > EntryFormat.MAX_CODEC_ID) {
      throw new IllegalArgumentException("value.codec must be 1 to " + EntryFormat.MAX_CODEC_ID
          + " UTF-8 bytes, got " + codec.length);
    }
    if (!KEY_NAME.matcher(value.contentHash()).matches()) {
      throw new IllegalArgumentException(
          "value.contentHash must be 64 lower-case hex digits, got '" + value.contentHash() + "'");
    }
    long size = value.size();
    if (size > EntryFormat.MAX_PAYLOAD) {
      throw new IOException("Cannot store entry " + key + ": its value takes " + size
          + " bytes, more than the directory store's limit of " + EntryFormat.MAX_PAYLOAD
          + " per entry");
    }
    Path file = entryFile(key);
    if (!replace && intactEntryAt(file, key)) {
      touch(file);
      return;
    }
    ByteBuffer header = EntryFormat.header(key, HexFormat.of().parseHex(value.contentHash()),
        codec, size);
    int checksum = EntryFormat.checksum(header, value.parts());
    List<ByteBuffer> content = new ArrayList<>(value.parts().size() + 2);
    content.add(header);
    content.addAll(value.parts());
    content.add(ByteBuffer.allocate(EntryFormat.TRAILER).putInt(0, checksum));
    StoreFiles.writeAtomically(file.getParent(), key.hex(), content, fsync);
  }

  /**
   * Says whether an intact entry of {@code key} is at {@code file}, making it durable when fsync
   * is on (another JVM may have written it without).
   */
  private boolean intactEntryAt(Path file, CacheKey key) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      EntryFormat.verify(channel, channel.size(), key);
      if (fsync) {
        channel.force(true);
        StoreFiles.fsyncDirectory(file.getParent());
      }
      return true;
    } catch (NoSuchFileException e) {
      return false;
    } catch (EntryFormat.Corrupt e) {
      LOG.warn("Result store entry {} in {} is corrupt: {}; storing it again", key, file,
          e.getMessage());
      return false;
    }
  }

  @Override
  public Optional<KeyRecipe> lastRecipe(String dag, String node) throws IOException {
    Objects.requireNonNull(dag, "dag");
    Objects.requireNonNull(node, "node");
    Path file = recipeFile(dag, node);
    Object fileKey = null;
    KeyRecipe recipe;
    try {
      fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      byte[] bytes;
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        long size = channel.size();
        if (size > RecipeFormat.MAX_SIZE) {
          throw new EntryFormat.Corrupt("it has " + size + " bytes, more than a recipe's "
              + RecipeFormat.MAX_SIZE);
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) size);
        if (!StoreFiles.readFully(channel, buffer, 0)) {
          throw new EntryFormat.Corrupt("truncated while it was read");
        }
        bytes = buffer.array();
      }
      recipe = RecipeFormat.decode(bytes);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (EntryFormat.Corrupt e) {
      LOG.warn("Result store recipe of {}/{} in {} is corrupt: {}; treating it as absent and "
          + "deleting it", dag, node, file, e.getMessage());
      StoreFiles.deleteIfSame(file, fileKey);
      return Optional.empty();
    }
    if (!recipe.dag().equals(dag) || !recipe.node().equals(node)) {
      // Another node's, whose DAG and node names joined by '\0' are the same: not this one's.
      return Optional.empty();
    }
    return Optional.of(recipe);
  }

  @Override
  public void recordRecipe(KeyRecipe recipe) throws IOException {
    Objects.requireNonNull(recipe, "recipe");
    ByteBuffer bytes = RecipeFormat.encode(recipe);
    // Never fsync'd: a recipe only explains a later miss, and one lost to a power cut makes that
    // explanation "first run" instead; two fsyncs of the four a stored node would cost.
    StoreFiles.writeAtomically(recipes, RecipeFormat.fileName(recipe.dag(), recipe.node()),
        List.of(bytes), false);
  }

  /**
   * Removes the entries not used (stored or loaded; a load is recorded to the hour) for longer
   * than {@code age}.
   *
   * @param age a non-negative duration
   * @return what was removed and what is left
   * @throws IOException if the directory cannot be read
   */
  public PruneResult pruneOlderThan(Duration age) throws IOException {
    Objects.requireNonNull(age, "age");
    if (age.isNegative()) {
      throw new IllegalArgumentException("age must not be negative, got " + age);
    }
    long now = System.currentTimeMillis();
    long cutoff;
    try {
      cutoff = Math.subtractExact(now, age.toMillis());
    } catch (ArithmeticException e) {
      cutoff = Long.MIN_VALUE;
    }
    Tally tally = new Tally();
    for (EntryFile entry : listEntries(now)) {
      if (entry.lastUsed() < cutoff) {
        tally.remove(entry);
      } else {
        tally.keep(entry);
      }
    }
    return tally.result();
  }

  /**
   * Removes the least recently used entries until the entries take at most {@code maxBytes}.
   *
   * @param maxBytes a non-negative size
   * @return what was removed and what is left
   * @throws IOException if the directory cannot be read
   */
  public PruneResult pruneToSize(long maxBytes) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative, got " + maxBytes);
    }
    List<EntryFile> all = listEntries(System.currentTimeMillis());
    all.sort(Comparator.comparingLong(EntryFile::lastUsed)
        .thenComparing(e -> e.path().getFileName().toString()));
    long total = 0;
    for (EntryFile entry : all) {
      total += entry.size();
    }
    Tally tally = new Tally();
    for (EntryFile entry : all) {
      if (total <= maxBytes) {
        tally.keep(entry);
      } else if (tally.remove(entry) != Removal.KEPT) {
        total -= entry.size(); // removed, by this prune or another
      }
    }
    return tally.result();
  }

  /** Does nothing: the store holds no file open between calls, and stays usable. */
  @Override
  public void close() {}

  @Override
  public String toString() {
    return "DirectoryStore[" + directory + (fsync ? "" : ", no fsync") + "]";
  }

  private record EntryFile(Path path, long size, long lastUsed) {}

  private enum Removal { REMOVED, GONE, KEPT }

  /** Counts a prune's removals, removing only entries not used since they were listed. */
  private static final class Tally {
    long removedEntries;
    long removedBytes;
    long keptEntries;
    long keptBytes;

    void keep(EntryFile entry) {
      keptEntries++;
      keptBytes += entry.size();
    }

    Removal remove(EntryFile entry) {
      try {
        long lastUsed = Files.getLastModifiedTime(entry.path()).toMillis();
        if (lastUsed != entry.lastUsed()) {
          keep(entry); // used (or stored again) since it was listed
          return Removal.KEPT;
        }
        Files.delete(entry.path());
        removedEntries++;
        removedBytes += entry.size();
        return Removal.REMOVED;
      } catch (NoSuchFileException e) {
        return Removal.GONE; // another prune's
      } catch (IOException e) {
        LOG.debug("Could not remove the result store entry {}", entry.path(), e);
        keep(entry); // open elsewhere, on a platform that cannot delete open files
        return Removal.KEPT;
      }
    }

    PruneResult result() {
      return new PruneResult(removedEntries, removedBytes, keptEntries, keptBytes);
    }
  }

  /** Lists the entries, deleting stale temp files on the way. */
  private List<EntryFile> listEntries(long now) throws IOException {
    long staleBefore = now - STALE_TEMP.toMillis();
    StoreFiles.deleteStaleTemps(recipes, staleBefore);
    List<EntryFile> found = new ArrayList<>();
    for (Path shard : shards()) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(shard)) {
        for (Path file : files) {
          String name = file.getFileName().toString();
          if (!KEY_NAME.matcher(name).matches()) {
            continue;
          }
          try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            if (attributes.isRegularFile()) {
              found.add(new EntryFile(file, attributes.size(),
                  attributes.lastModifiedTime().toMillis()));
            }
          } catch (NoSuchFileException e) {
            // removed meanwhile
          }
        }
      } catch (NoSuchFileException e) {
        continue;
      }
      StoreFiles.deleteStaleTemps(shard, staleBefore);
    }
    return found;
  }

  private List<Path> shards() throws IOException {
    List<Path> shards = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(entries,
        p -> SHARD_NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))) {
      dirs.forEach(shards::add);
    }
    return shards;
  }

  /** Marks an entry as used now, for pruning; a file gone meanwhile is no matter. */
  private static void touch(Path file) {
    try {
      Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
    } catch (IOException e) {
      LOG.debug("Could not mark the result store entry {} as used", file, e);
    }
  }

  /** Opens or creates the store in {@code dir}, checking its format. */
  private static DirectoryStore openStore(Path given, boolean fsync, long mapThreshold) {
    Path dir = given.toAbsolutePath().normalize();
    try {
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new StoreException("Cannot open a result store in " + dir
            + ": it is not a directory", null);
      }
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new StoreException("Cannot create the result store directory " + dir + ": " + e, e);
    }
    try {
      if (!checkFormat(dir)) {
        ByteBuffer text = ByteBuffer.wrap((FORMAT_PREFIX + FORMAT_VERSION + "\n")
            .getBytes(StandardCharsets.US_ASCII));
        StoreFiles.writeAtomically(dir, FORMAT_FILE, List.of(text), fsync);
      }
      Files.createDirectories(dir.resolve(ENTRIES));
      Files.createDirectories(dir.resolve(RECIPES));
      if (fsync) {
        StoreFiles.fsyncDirectory(dir);
      }
      DirectoryStore store = new DirectoryStore(dir, fsync, mapThreshold);
      long staleBefore = System.currentTimeMillis() - STALE_TEMP.toMillis();
      StoreFiles.deleteStaleTemps(dir, staleBefore);
      StoreFiles.deleteStaleTemps(store.recipes, staleBefore);
      for (Path shard : store.shards()) {
        StoreFiles.deleteStaleTemps(shard, staleBefore);
      }
      return store;
    } catch (IOException e) {
      throw new StoreException("Cannot open the result store in " + dir + ": " + e, e);
    }
  }

  /**
   * Checks the store's {@code FORMAT}: true if it is this version's, false if there is none and
   * the directory is empty (but for another JVM's {@code FORMAT} being written); throws if it is
   * another version's, or if there is none and the directory holds anything else.
   */
  private static boolean checkFormat(Path dir) throws IOException {
    Path format = dir.resolve(FORMAT_FILE);
    for (int attempt = 0; ; attempt++) {
      byte[] bytes;
      try (FileChannel channel = FileChannel.open(format, StandardOpenOption.READ)) {
        if (channel.size() > 256) {
          throw notAStore(dir, "its FORMAT file has " + channel.size() + " bytes");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) channel.size());
        StoreFiles.readFully(channel, buffer, 0);
        bytes = java.util.Arrays.copyOf(buffer.array(), buffer.position());
      } catch (NoSuchFileException e) {
        List<String> others = new ArrayList<>();
        boolean formatAppeared = false;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
          for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.equals(FORMAT_FILE)) {
              formatAppeared = true;
            } else if (!(StoreFiles.isTemp(name) && name.startsWith("." + FORMAT_FILE + "."))) {
              others.add(name);
            }
          }
        }
        if (formatAppeared && attempt < 3) {
          continue; // another JVM has just created the store
        }
        if (formatAppeared) {
          throw notAStore(dir, "its FORMAT file cannot be read");
        }
        if (!others.isEmpty()) {
          others.sort(null);
          throw notAStore(dir, "it is not empty (it holds " + String.join(", ",
              others.subList(0, Math.min(3, others.size()))) + (others.size() > 3 ? ", …" : "")
              + ") and has no FORMAT file; give the store an empty or new directory");
        }
        return false;
      }
      String text = new String(bytes, StandardCharsets.US_ASCII);
      Matcher m = FORMAT_LINE.matcher(text);
      if (!m.matches()) {
        throw notAStore(dir, "its FORMAT file reads '" + text.strip()
            + "', not 'open-result-store <version>'");
      }
      int version = Integer.parseInt(m.group(1));
      if (version != FORMAT_VERSION) {
        throw new StoreException(dir + " holds a result store of format " + version
            + "; this OPEN reads format " + FORMAT_VERSION, null);
      }
      return true;
    }
  }

  private static StoreException notAStore(Path dir, String why) {
    return new StoreException(dir + " is not an OPEN result store: " + why, null);
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
    private final Path directory;
    private Boolean fsync;
    private long mapThreshold = MAP_THRESHOLD;

    private Builder(Path directory) {
      this.directory = directory;
    }

    /**
     * Sets whether each entry is fsync'd before {@code store} returns (default true). Without,
     * an entry survives the death of the JVM but not of the machine.
     *
     * @param fsync whether to fsync
     * @return this builder
     */
    public Builder withFsync(boolean fsync) {
      if (this.fsync != null) {
        throw new IllegalStateException("fsync was already set to " + this.fsync);
      }
      this.fsync = fsync;
      return this;
    }

    /** For tests: entries of this many bytes or more are mapped (0: all; MAX_VALUE: none). */
    Builder withMapThreshold(long bytes) {
      this.mapThreshold = bytes;
      return this;
    }

    /**
     * Opens the store, creating its directory if needed.
     *
     * @return the store
     * @throws StoreException if the directory cannot be created or read, holds a store of another
     *     format version, or is neither empty nor a store
     */
    public DirectoryStore build() {
      return openStore(directory, fsync == null || fsync, mapThreshold);
    }
  }
}
