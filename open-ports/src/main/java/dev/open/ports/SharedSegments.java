package dev.open.ports;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;
import dev.open.ports.internal.protocol.ProtocolException;
import dev.open.ports.internal.protocol.Values;

/**
 * The host side of one pool's shared memory (docs/protocol.md section 8): a directory on a
 * memory file system, mode 0700, of segment files, mode 0600.
 *
 * <p>Who names what: the host's files are {@code h<n>} (a call's staged argument, deleted when
 * the call ends unless its result is that memory) and {@code s<n>} (an array that outlives its
 * call: one {@link WorkerPool#allocateShared} made, or a result; deleted when the array is
 * garbage, by a {@link Cleaner} on its mapping). A worker writes {@code w<pid>-<n>}; the host
 * takes such a file over as it decodes the answer, renaming it to {@code s<n>}, and deletes
 * what a dead worker left. The directory goes when the pool closes, at JVM shutdown, and, when
 * the JVM is killed, at the hands of its workers (which see the host die) or of the next pool
 * that starts in any JVM (stale directories of dead processes are reclaimed).
 *
 * <p>Results are mapped shared and read-write: the host may write into a result, and a worker
 * that later receives it (by name, without a copy) sees what the host wrote. Arguments the host
 * stages are written once, before the call goes out, and never again while the call runs.
 *
 * <p><b>Recycling.</b> A fresh file's pages cost the kernel more than copying into them (64 MiB:
 * about 40 ms against 12 ms on the benchmark machine), so files are reused: a staged argument
 * once its call has ended, and an array's file once the array is garbage, go to a short list of
 * idle files ({@code f<n>}), from which the next staged argument of a fitting size, or a
 * <em>spare</em> offered to a call for its result, is taken. A file is reused only if no worker
 * can still see it: the answer of every call that sent it must say, in its {@code kept} list,
 * that the worker let go of it (a task that kept a view of an argument keeps its file out of
 * reuse for good). Thread-safe.
 */
final class SharedSegments implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SharedSegments.class);
  private static final Cleaner CLEANER = Cleaner.create();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String PREFIX = "open-";
  private static final Pattern DIRECTORY = Pattern.compile("open-(\\d+)-[0-9a-f]+");
  private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
  private static final int ZEROS = 1 << 20;
  /**
   * The most idle files kept for reuse; their bytes also stay under twice the budget, or twice
   * the file just given back if it is larger (so that a workload of 1 GiB arrays reuses too).
   */
  static final int MAX_IDLE = 8;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.forEach(SharedSegments::deleteTree),
        "open-shm-cleanup"));
  }

  private final Path directory;
  private final long threshold;
  /**
   * Bytes of segments the host maps (results and shared arrays). The garbage collector does not
   * see them, as it sees no off-heap memory: past {@link #budget} (256 MiB, or a quarter of the
   * heap's maximum if less) a new mapping first asks for a collection, so that arrays nobody
   * uses give their memory back, as {@code ByteBuffer.allocateDirect} does at {@code
   * -XX:MaxDirectMemorySize}, and their files come back for reuse. A small budget collects
   * more often (a young collection of a small heap costs far less than fresh pages: 64 MiB of
   * them cost about 40 ms); the arrays in use may exceed it, it only triggers collections.
   */
  private final AtomicLong mapped = new AtomicLong();
  private final long budget = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 4);
  private final AtomicLong names = new AtomicLong();
  /** Arrays that live in a segment of this pool, by identity; weak both ways. */
  private final Map<Key, Shared> shared = new HashMap<>();
  /** Idle files, oldest first (guarded by itself). */
  private final java.util.ArrayDeque<Idle> idle = new java.util.ArrayDeque<>();
  private final ReferenceQueue<NDArray> collected = new ReferenceQueue<>();
  private volatile boolean closed;

  private SharedSegments(Path directory, long threshold) {
    this.directory = directory;
    this.threshold = threshold;
  }

  /**
   * Makes a pool's directory under {@code root}, after deleting the directories that dead
   * processes left there; empty when {@code root} is not a usable directory.
   */
  static SharedSegments open(Path root, long threshold) {
    if (!Files.isDirectory(root) || !Files.isWritable(root)) {
      return null;
    }
    reclaimStale(root);
    long pid = ProcessHandle.current().pid();
    for (int attempt = 0; attempt < 10; attempt++) {
      Path dir = root.resolve(PREFIX + pid + "-"
          + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
      try {
        Files.createDirectory(dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        OPEN.add(dir);
        return new SharedSegments(dir, threshold);
      } catch (FileAlreadyExistsException e) {
        // a random name taken: draw again
      } catch (IOException | UnsupportedOperationException e) {
        LOG.warn("shared memory is off: cannot make a directory in {}: {}", root, e.toString());
        return null;
      }
    }
    return null;
  }

  /** Deletes {@code open-<pid>-*} directories of processes that no longer run. */
  static void reclaimStale(Path root) {
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, PREFIX + "*")) {
      for (Path dir : dirs) {
        Matcher m = DIRECTORY.matcher(dir.getFileName().toString());
        if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1)))
            .map(p -> !p.isAlive()).orElse(true)) {
          LOG.info("deleting {}, left by process {} which is gone", dir, m.group(1));
          deleteTree(dir);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot look for stale shared-memory directories in {}", root, e);
    }
  }

  Path directory() {
    return directory;
  }

  long threshold() {
    return threshold;
  }

  // ---------------------------------------------------------------------------------------------
  // Arrays that outlive a call

  /** A new zeroed array in a segment of its own (the space is reserved: no SIGBUS later). */
  NDArray allocate(DType dtype, int... shape) {
    long bytes = (long) dtype.itemSize();
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + java.util.Arrays.toString(
            shape));
      }
      bytes *= d;
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(bytes + " bytes exceed the " + Integer.MAX_VALUE
          + " an NDArray holds");
    }
    String name = "s" + names.incrementAndGet();
    Path path = directory.resolve(name);
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZEROS, Math.max(bytes, 1)));
      for (long at = 0; at < bytes; ) {
        zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - at));
        at += channel.write(zeros, at);
      }
      reserve(bytes);
      MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
      NDArray array = NDArray.wrap(mapping, dtype, NDArray.Order.C, shape);
      adopt(array, mapping, name, 0, path, new Shared(name, 0, mapping));
      return array;
    } catch (IOException e) {
      deleteQuietly(path);
      throw new IllegalStateException("cannot allocate " + bytes + " bytes of shared memory in "
          + directory + ": " + e.getMessage(), e);
    }
  }

  /**
   * Registers an array over a mapping of the file {@code path}; when the mapping is garbage,
   * the file is reused if {@code segment} is still {@link Shared#reusable}, else deleted. A null
   * {@code path} registers the array only (a view of a mapping registered already).
   */
  private void adopt(NDArray array, ByteBuffer mapping, String name, long offset, Path path,
      Shared segment) {
    if (path != null) {
      long bytes = mapping.capacity();
      java.util.concurrent.atomic.AtomicBoolean reusable = segment.reusable;
      CLEANER.register(mapping, () -> {
        mapped.addAndGet(-bytes);
        if (reusable.get()) {
          giveBack(path);
        } else {
          deleteQuietly(path);
        }
      });
    }
    synchronized (shared) {
      expunge();
      shared.put(new Key(array, collected), segment);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Idle files

  /** An idle file and its size. */
  private record Idle(Path path, long capacity) {}

  /**
   * Takes an idle file of at least {@code size} bytes and at most twice that (the smallest),
   * renamed to {@code name}; null if there is none.
   */
  private Path takeIdle(long size, String name) {
    Idle best = null;
    synchronized (idle) {
      for (Idle f : idle) {
        if (f.capacity >= size && f.capacity <= 2 * size
            && (best == null || f.capacity < best.capacity)) {
          best = f;
        }
      }
      if (best == null) {
        return null;
      }
      idle.remove(best);
    }
    Path path = directory.resolve(name);
    try {
      Files.move(best.path, path, StandardCopyOption.ATOMIC_MOVE);
      return path;
    } catch (IOException e) {
      deleteQuietly(best.path);
      return null;
    }
  }

  /** Makes a file no worker can see any more idle, or deletes it when enough are. */
  private void giveBack(Path path) {
    if (closed) {
      deleteQuietly(path);
      return;
    }
    Path renamed = directory.resolve("f" + names.incrementAndGet());
    long capacity;
    try {
      Files.move(path, renamed, StandardCopyOption.ATOMIC_MOVE);
      capacity = Files.size(renamed);
    } catch (IOException e) {
      deleteQuietly(path);
      return;
    }
    List<Path> evicted = new ArrayList<>();
    synchronized (idle) {
      idle.addLast(new Idle(renamed, capacity));
      long bytes = idle.stream().mapToLong(Idle::capacity).sum();
      long limit = Math.max(2 * budget, 2 * capacity);
      while (idle.size() > MAX_IDLE || bytes > limit) {
        Idle oldest = idle.removeFirst();
        bytes -= oldest.capacity;
        evicted.add(oldest.path);
      }
    }
    evicted.forEach(SharedSegments::deleteQuietly);
    if (closed) { // closed meanwhile: nothing may stay
      synchronized (idle) {
        idle.forEach(f -> deleteQuietly(f.path));
        idle.clear();
      }
    }
  }

  /**
   * Counts {@code bytes} about to be mapped; past the budget, first has garbage arrays collected
   * (waiting up to 100 ms for their cleaners), and goes ahead either way.
   */
  private void reserve(long bytes) {
    if (mapped.addAndGet(bytes) <= budget) {
      return;
    }
    System.gc();
    long deadline = System.nanoTime() + 100_000_000L;
    while (mapped.get() > budget && System.nanoTime() < deadline) {
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private Shared sharedOf(NDArray array) {
    synchronized (shared) {
      expunge();
      return shared.get(new Key(array, null));
    }
  }

  private void expunge() {
    for (Object k; (k = collected.poll()) != null; ) {
      shared.remove(k);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // One call

  /** The segments of one call: what its arguments named, and what its answer may name. */
  final class Staging implements Values.ArrayPlacer {
    /** The host files of this call: staged arguments and the spare, until a result takes one. */
    private final List<Path> staged = new ArrayList<>();
    private final Map<String, Shared> sent = new HashMap<>();
    /** The results made of this call's staged files, by their staged name. */
    private final Map<String, Shared> adopted = new HashMap<>();
    private long largest;
    /** What the answer's {@code kept} said: null until an answer said it. */
    private Set<String> kept;
    /** The mappings of the shared arrays sent, held while the call runs. */
    private final List<ByteBuffer> held = new ArrayList<>();

    @Override
    public synchronized ObjectNode place(NDArray array) {
      if (array.byteSize() < threshold || closed) {
        return null;
      }
      Shared existing = sharedOf(array);
      ByteBuffer mapping = existing == null ? null : existing.mapping.get();
      if (mapping != null) {
        sent.put(existing.name, existing);
        held.add(mapping);
        largest = Math.max(largest, array.byteSize());
        return reference(existing.name, existing.offset);
      }
      String name = "h" + names.incrementAndGet();
      Path reused = takeIdle(array.byteSize(), name);
      Path path = directory.resolve(name);
      try (FileChannel channel = reused != null
          ? FileChannel.open(path, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)
          : FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS)) {
        staged.add(path);
        ByteBuffer bytes = array.buffer();
        for (long at = 0; bytes.hasRemaining(); ) {
          at += channel.write(bytes, at);
        }
        largest = Math.max(largest, array.byteSize());
        return reference(name, 0);
      } catch (IOException e) { // no room (a small /dev/shm): the bytes go inline instead
        LOG.debug("cannot stage {} bytes in {}; sending them inline", array.byteSize(), path, e);
        staged.remove(path);
        deleteQuietly(path);
        return null;
      }
    }

    /**
     * Offers the call an idle file for a result as large as its largest staged argument (a
     * result is often the size of its argument): {@code [{"name": ..., "size": ...}]}, or null.
     * A worker writes a result that fits into it instead of into a new file, whose pages would
     * cost more than the copy.
     */
    synchronized com.fasterxml.jackson.databind.node.ArrayNode spare() {
      if (largest == 0 || closed) {
        return null;
      }
      String name = "h" + names.incrementAndGet();
      Path path = takeIdle(largest, name);
      if (path == null) {
        return null;
      }
      staged.add(path);
      ObjectNode offer = NODES.objectNode();
      offer.put("name", name);
      try {
        offer.put("size", Files.size(path));
      } catch (IOException e) {
        return null;
      }
      return NODES.arrayNode().add(offer);
    }

    /**
     * Takes the {@code kept} list of the call's answer: the segments the worker still maps.
     * Without one (no answer, or a worker that mapped nothing) no file of the call is reused.
     */
    synchronized void answered(JsonNode keptList) {
      if (keptList == null || !keptList.isArray()) {
        return;
      }
      Set<String> names = new java.util.HashSet<>();
      keptList.forEach(n -> names.add(n.asText()));
      kept = names;
      for (String name : names) {
        Shared s = sent.containsKey(name) ? sent.get(name) : adopted.get(name);
        if (s != null) {
          s.reusable.set(false);
        }
      }
    }

    /**
     * The call has ended: its staged files that no result took over become idle if the answer
     * said the worker let go of them, else are deleted; shared arrays it sent without such an
     * answer are never reused.
     */
    synchronized void finished() {
      for (Path path : staged) {
        if (kept != null && !kept.contains(path.getFileName().toString())) {
          giveBack(path);
        } else {
          deleteQuietly(path);
        }
      }
      if (kept == null) {
        sent.values().forEach(s -> s.reusable.set(false));
        adopted.values().forEach(s -> s.reusable.set(false));
      }
      staged.clear();
      sent.clear();
      held.clear();
      adopted.clear();
    }

    /** A resolver for an answer of this call from the worker with process id {@code pid}. */
    Values.SegmentResolver resolver(long pid) {
      return new Values.SegmentResolver() {
        private final Map<ByteBuffer, Adopted> pending = new java.util.IdentityHashMap<>();

        @Override
        public ByteBuffer resolve(String name, long offset, long length)
            throws ProtocolException {
          Adopted adopted = map(name, offset, length, pid);
          pending.put(adopted.bytes, adopted);
          return adopted.bytes;
        }

        @Override
        public void decoded(NDArray array, ByteBuffer bytes) {
          Adopted a = pending.remove(bytes);
          if (a != null) {
            adopt(array, a.mapping, a.name, a.offset, a.known ? null : a.path, a.segment);
          }
        }
      };
    }

    private synchronized Adopted map(String name, long offset, long length, long pid)
        throws ProtocolException {
      Shared known = sent.get(name);
      if (known != null) { // the task returned (part of) an array that lives on: the same memory
        ByteBuffer mapping = known.mapping.get();
        long at = offset - known.offset;
        if (mapping == null || at < 0 || at + length > mapping.capacity()) {
          throw bad("segment " + name + " holds no " + length + " bytes at offset " + offset);
        }
        return new Adopted(mapping.slice((int) at, (int) length), mapping, name, offset,
            directory.resolve(name), true, known);
      }
      Path path = directory.resolve(checkName(name, pid));
      boolean ours = name.startsWith("h");
      if (ours && !staged.contains(path)) {
        throw bad("segment " + name + " is not an argument of this call");
      }
      try {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile() || attributes.size() < offset + length) {
          throw bad("segment " + name + " is not a regular file of at least " + (offset + length)
              + " bytes");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ,
            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
          if (channel.size() < offset + length) {
            throw bad("segment " + name + " shrank to " + channel.size() + " bytes");
          }
          // The file becomes an array that outlives the call (an argument the task returned:
          // the result is that memory), out of reach of the call's and the worker's clean-up.
          Path kept = directory.resolve("s" + names.incrementAndGet());
          Files.move(path, kept, StandardCopyOption.ATOMIC_MOVE);
          staged.remove(path);
          reserve(length);
          MappedByteBuffer mapping;
          try {
            mapping = channel.map(FileChannel.MapMode.READ_WRITE, offset, length);
          } catch (IOException | RuntimeException e) {
            mapped.addAndGet(-length);
            throw e;
          }
          Shared segment = new Shared(kept.getFileName().toString(), offset, mapping);
          if (ours) {
            adopted.put(name, segment);
          }
          return new Adopted(mapping, mapping, segment.name, offset, kept, false, segment);
        }
      } catch (NoSuchFileException e) {
        throw bad("segment " + name + " does not exist");
      } catch (IOException e) {
        throw bad("cannot map segment " + name + ": " + e);
      }
    }
  }

  Staging staging() {
    return new Staging();
  }

  private record Adopted(ByteBuffer bytes, ByteBuffer mapping, String name, long offset, Path path,
      boolean known, Shared segment) {}

  private static String checkName(String name, long pid) throws ProtocolException {
    if (name.matches("h\\d{1,19}") || name.matches("w" + pid + "-\\d{1,19}")) {
      return name;
    }
    throw bad("segment name " + abbreviate(name) + " is neither an argument of the call nor "
        + "one of worker " + pid + "'s");
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  private static ObjectNode reference(String name, long offset) {
    ObjectNode ref = NODES.objectNode();
    ref.put("name", name);
    ref.put("offset", offset);
    return ref;
  }

  private static ProtocolException bad(String message) {
    return new ProtocolException(ProtocolException.Code.BAD_VALUE, message);
  }

  // ---------------------------------------------------------------------------------------------
  // Clean-up

  /**
   * Deletes the segments worker {@code pid} wrote for a value that nobody takes (an answer to a
   * call that ended, or that failed to decode).
   */
  void discard(com.fasterxml.jackson.databind.JsonNode value, long pid) {
    if (value == null || !(value.isContainerNode())) {
      return;
    }
    JsonNode segment = value.path("$nd").path("segment");
    if (segment.path("name").isTextual()) {
      String name = segment.get("name").asText();
      if (name.matches("w" + pid + "-\\d{1,19}")) {
        deleteQuietly(directory.resolve(name));
      }
      return;
    }
    value.forEach(v -> discard(v, pid));
  }

  /** Deletes the files a worker wrote and the host did not take over (it died or lied). */
  void workerGone(long pid) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "w" + pid + "-*")) {
      for (Path file : files) {
        deleteQuietly(file);
      }
    } catch (IOException e) {
      LOG.debug("cannot list {}", directory, e);
    }
  }

  /**
   * Deletes the directory. Arrays mapped from it stay valid (a mapping outlives its file's
   * name); a later call cannot name them any more and sends their bytes inline.
   */
  @Override
  public void close() {
    closed = true;
    synchronized (idle) {
      idle.clear();
    }
    deleteTree(directory);
    OPEN.remove(directory);
  }

  private static void deleteTree(Path dir) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        deleteQuietly(file);
      }
    } catch (IOException e) {
      // gone already, or not ours
    }
    deleteQuietly(dir);
  }

  private static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.debug("cannot delete {}", path, e);
    }
  }

  /** An array's segment: its name, where the array starts in it, and the host's mapping. */
  private static final class Shared {
    final String name;
    final long offset;
    final WeakReference<ByteBuffer> mapping;
    /** Whether the file may be reused once the array is garbage: no worker kept a view of it. */
    final java.util.concurrent.atomic.AtomicBoolean reusable =
        new java.util.concurrent.atomic.AtomicBoolean(true);

    Shared(String name, long offset, ByteBuffer mapping) {
      this.name = name;
      this.offset = offset;
      this.mapping = new WeakReference<>(mapping);
    }
  }

  /** A weak, identity-comparing key. */
  private static final class Key extends WeakReference<NDArray> {
    private final int hash;

    Key(NDArray array, ReferenceQueue<NDArray> queue) {
      super(array, queue);
      hash = System.identityHashCode(array);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o == this || o instanceof Key k && k.get() != null && k.get() == get();
    }
  }
}
