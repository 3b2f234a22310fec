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
  /** The lock file of a pool's directory (a name no segment can have). */
  private static final String LOCK = ".lock";
  /** How long an idle file is kept for reuse: 10 s. */
  private static final long IDLE_NANOS = 10_000_000_000L;
  private static final java.util.concurrent.ScheduledExecutorService SWEEPER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
          .daemon().name("open-shm-idle").unstarted(r));
  private static final int ZEROS = 1 << 20;
  private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
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
  /** Mapped bytes past which the next mapping asks for a collection (see {@link #reserve}). */
  private final AtomicLong nextCollection = new AtomicLong(budget);
  private final AtomicLong names = new AtomicLong();
  /** Arrays that live in a segment of this pool, by identity; weak both ways. */
  private final Map<Key, Shared> shared = new HashMap<>();
  /** Idle files, oldest first (guarded by itself). */
  private final java.util.ArrayDeque<Idle> idle = new java.util.ArrayDeque<>();
  private final ReferenceQueue<NDArray> collected = new ReferenceQueue<>();
  private volatile boolean closed;
  private final FileChannel lock;
  private final java.util.concurrent.ScheduledFuture<?> sweeper;

  private SharedSegments(Path directory, long threshold, FileChannel lock) {
    this.directory = directory;
    this.threshold = threshold;
    this.lock = lock;
    this.sweeper = SWEEPER.scheduleWithFixedDelay(this::dropStaleIdle, IDLE_NANOS, IDLE_NANOS,
        java.util.concurrent.TimeUnit.NANOSECONDS);
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
        FileChannel lock = FileChannel.open(dir.resolve(LOCK), Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY);
        lock.lock(); // held while the pool lives: how other JVMs tell the directory is in use
        return new SharedSegments(dir, threshold, lock);
      } catch (FileAlreadyExistsException e) {
        // a random name taken: draw again
      } catch (IOException | UnsupportedOperationException e) {
        LOG.warn("shared memory is off: cannot make a directory in {}: {}", root, e.toString());
        deleteTree(dir);
        OPEN.remove(dir);
        return null;
      }
    }
    return null;
  }

  /**
   * Deletes the {@code open-<pid>-*} directories of this user whose owner is gone: real
   * directories only (a link named like one is left alone), judged by their lock.
   */
  static void reclaimStale(Path root) {
    Object uid;
    try {
      uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid"); // this process's user
    } catch (IOException | RuntimeException e) {
      return;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, PREFIX + "*")) {
      for (Path dir : dirs) {
        Matcher m = DIRECTORY.matcher(dir.getFileName().toString());
        try {
          if (m.matches() && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
              && Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(uid)
              && abandoned(dir, m.group(1))) {
            LOG.info("deleting {}, left by a process that is gone", dir);
            deleteTree(dir);
          }
        } catch (IOException | RuntimeException e) {
          LOG.debug("cannot judge {}", dir, e);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot look for stale shared-memory directories in {}", root, e);
    }
  }

  /**
   * Whether nobody holds the lock of a pool's directory: its owner, in whatever process
   * namespace, is gone (the kernel drops a dead process's locks). A directory without a lock
   * file is judged by its process id, which only this namespace can see.
   */
  private static boolean abandoned(Path dir, String pid) throws IOException {
    Path lock = dir.resolve(LOCK);
    if (!Files.isRegularFile(lock, LinkOption.NOFOLLOW_LINKS)) {
      return ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true);
    }
    try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS)) {
      java.nio.channels.FileLock held = channel.tryLock();
      if (held == null) {
        return false;
      }
      held.release();
      return true;
    } catch (java.nio.channels.OverlappingFileLockException e) {
      return false; // this JVM's own pool
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
    try (FileChannel channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
        OWNER_ONLY)) {
      ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZEROS, Math.max(bytes, 1)));
      for (long at = 0; at < bytes; ) {
        zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - at));
        at += channel.write(zeros, at);
      }
      reserve(bytes);
      MappedByteBuffer mapping;
      try {
        mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
      } catch (IOException | RuntimeException e) {
        mapped.addAndGet(-bytes);
        throw e;
      }
      NDArray array = NDArray.wrap(mapping, dtype, NDArray.Order.C, shape);
      Shared segment = new Shared(name, 0, 0, mapping,
          new java.util.concurrent.atomic.AtomicBoolean(true));
      deleteWithMapping(mapping, path, segment.reusable);
      register(array, segment);
      return array;
    } catch (IOException e) { // no room (a small /dev/shm): an ordinary array, sent by copy
      deleteQuietly(path);
      LOG.debug("cannot allocate {} bytes of shared memory in {}; allocating off-heap", bytes,
          directory, e);
      return NDArray.allocate(dtype, shape);
    }
  }

  /** Deletes (or makes idle, if still {@code reusable}) a file when its mapping is garbage. */
  private void deleteWithMapping(ByteBuffer mapping, Path path,
      java.util.concurrent.atomic.AtomicBoolean reusable) {
    long bytes = mapping.capacity();
    CLEANER.register(mapping, () -> {
      mapped.addAndGet(-bytes);
      if (reusable.get()) {
        giveBack(path);
      } else {
        deleteQuietly(path);
      }
    });
  }

  /** Remembers that {@code array} lies in {@code segment}, so that calls send it by name. */
  private void register(NDArray array, Shared segment) {
    synchronized (shared) {
      expunge();
      shared.put(new Key(array, collected), segment);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Idle files

  /** An idle file, its size, and since when it is idle. */
  private record Idle(Path path, long capacity, long sinceNanos) {}

  /** Deletes the files idle for over {@link #IDLE_NANOS}: memory nobody used for a while. */
  private void dropStaleIdle() {
    long now = System.nanoTime();
    List<Path> stale = new ArrayList<>();
    synchronized (idle) {
      while (!idle.isEmpty() && now - idle.peekFirst().sinceNanos > IDLE_NANOS) {
        stale.add(idle.removeFirst().path);
      }
    }
    stale.forEach(SharedSegments::deleteQuietly);
  }

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
      idle.addLast(new Idle(renamed, capacity, System.nanoTime()));
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
   * Counts {@code bytes} about to be mapped. Past the next trigger (the budget at first) it asks
   * for a collection, so that garbage arrays give their mappings back, and waits for their
   * cleaners while they still free something (at most 100 ms); then the next trigger is a
   * budget above what is still mapped, so that arrays in use beyond the budget cost one
   * collection per budget's worth of new mappings, not one per mapping.
   */
  private void reserve(long bytes) {
    long now = mapped.addAndGet(bytes);
    if (now <= nextCollection.get()) {
      return;
    }
    System.gc();
    long deadline = System.nanoTime() + 100_000_000L;
    long last = Long.MAX_VALUE;
    int still = 0;
    while (mapped.get() > budget && System.nanoTime() < deadline && still < 5) {
      long current = mapped.get();
      still = current < last ? 0 : still + 1;
      last = current;
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    nextCollection.set(Math.max(budget, mapped.get() + budget));
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

  /** The most segments one answer may name: each is a mapping, and mappings are finite. */
  static final int MAX_SEGMENTS_PER_ANSWER = 1024;

  /** The segments of one call: what its arguments named, and what its answer may name. */
  final class Staging implements Values.ArrayPlacer {
    /** The host files of this call: staged arguments and the spare, until a result takes one. */
    private final List<Path> staged = new ArrayList<>();
    /** The shared arrays sent, by segment name, with their mappings held while the call runs. */
    private final Map<String, Shared> sent = new HashMap<>();
    private final List<ByteBuffer> held = new ArrayList<>();
    /** The files of this call that results took over, by the name the call knew them by. */
    private final Map<String, Shared> adopted = new HashMap<>();
    private long largest;
    /** What the answer's {@code kept} said: null until an answer said it. */
    private Set<String> kept;

    @Override
    public synchronized ObjectNode place(NDArray array) {
      if (array.byteSize() < threshold || closed) {
        return null;
      }
      largest = Math.max(largest, array.byteSize());
      Shared existing = sharedOf(array);
      ByteBuffer mapping = existing == null ? null : existing.mapping.get();
      if (mapping != null) {
        sent.put(existing.name, existing);
        held.add(mapping);
        return reference(existing.name, existing.offset);
      }
      String name = "h" + names.incrementAndGet();
      Path reused = takeIdle(array.byteSize(), name);
      Path path = directory.resolve(name);
      try (FileChannel channel = reused != null
          ? FileChannel.open(path, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)
          : FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY)) {
        staged.add(path);
        ByteBuffer bytes = array.buffer();
        for (long at = 0; bytes.hasRemaining(); ) {
          at += channel.write(bytes, at);
        }
        return reference(name, 0);
      } catch (IOException e) { // no room (a small /dev/shm): the bytes go inline instead
        LOG.debug("cannot stage {} bytes in {}; sending them inline", array.byteSize(), path, e);
        staged.remove(path);
        deleteQuietly(path);
        return null;
      }
    }

    /**
     * Offers the call an idle file for a result as large as its largest array argument (a
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
      Set<String> listed = new java.util.HashSet<>();
      keptList.forEach(n -> listed.add(n.asText()));
      kept = listed;
    }

    /**
     * The call has ended: its staged files that no result took over become idle if the answer
     * said the worker let go of them, else are deleted. A file a result took over, or a shared
     * array the call sent, may be reused later only on the same condition.
     */
    synchronized void finished() {
      for (Path path : staged) {
        if (isFree(path.getFileName().toString())) {
          giveBack(path);
        } else {
          deleteQuietly(path);
        }
      }
      adopted.forEach((name, s) -> s.reusable.set(isFree(name)));
      sent.forEach((name, s) -> {
        if (!isFree(name)) {
          s.reusable.set(false);
        }
      });
      staged.clear();
      sent.clear();
      held.clear();
      adopted.clear();
    }

    private boolean isFree(String name) {
      return kept != null && !kept.contains(name);
    }

    /** A resolver for an answer of this call from the worker with process id {@code pid}. */
    Values.SegmentResolver resolver(long pid) {
      return new Values.SegmentResolver() {
        /** What each buffer handed out is: a segment, and the offset in its file. */
        private final Map<ByteBuffer, Map.Entry<Shared, Long>> pending =
            new java.util.IdentityHashMap<>();
        private int count;

        @Override
        public ByteBuffer resolve(String name, long offset, long length)
            throws ProtocolException {
          if (++count > MAX_SEGMENTS_PER_ANSWER) {
            throw bad("an answer may name at most " + MAX_SEGMENTS_PER_ANSWER + " segments");
          }
          if (length < threshold) {
            throw bad("an array of " + length + " bytes is under the shared-memory threshold of "
                + threshold + " and must travel inline");
          }
          Shared segment = map(name, offset, length, pid);
          ByteBuffer root = segment.mapping.get();
          long at = offset - segment.base;
          if (root == null || at < 0 || length > root.capacity() - at) {
            throw bad("segment " + name + " holds no " + length + " bytes at offset " + offset);
          }
          ByteBuffer bytes = root.slice((int) at, (int) length);
          pending.put(bytes, Map.entry(segment, offset));
          return bytes;
        }

        @Override
        public void decoded(NDArray array, ByteBuffer bytes) {
          Map.Entry<Shared, Long> made = pending.remove(bytes);
          ByteBuffer root = made == null ? null : made.getKey().mapping.get();
          if (root != null) { // the array lies in the segment at that offset: later calls name it
            Shared segment = made.getKey();
            register(array, new Shared(segment.name, made.getValue(), segment.base, root,
                segment.reusable));
          }
        }
      };
    }

    /**
     * The segment an answer names: a shared array the call sent, a file of the call that an
     * earlier part of the same answer took over, or one the host now takes over (a staged
     * argument the task returned, or a file the worker wrote), renamed {@code s<n>} and mapped
     * whole, read-write and shared.
     */
    private synchronized Shared map(String name, long offset, long length, long pid)
        throws ProtocolException {
      Shared known = sent.containsKey(name) ? sent.get(name) : adopted.get(name);
      if (known != null) {
        return known;
      }
      Path path = directory.resolve(checkName(name, pid));
      boolean ours = name.startsWith("h");
      if (ours && !staged.contains(path)) {
        throw bad("segment " + name + " is not an argument of this call");
      }
      Path renamed = null;
      try {
        BasicFileAttributes before = Files.readAttributes(path, BasicFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS);
        if (!before.isRegularFile()) {
          throw bad("segment " + name + " is not a regular file");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ,
            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
          long size = channel.size();
          if (offset > size || length > size - offset) {
            throw bad("segment " + name + " holds " + size + " bytes, the array needs "
                + length + " at offset " + offset);
          }
          if (size > Integer.MAX_VALUE) {
            throw bad("segment " + name + " is larger than an array can be");
          }
          // The file becomes the host's: out of reach of the call's and the worker's clean-up.
          renamed = directory.resolve("s" + names.incrementAndGet());
          Files.move(path, renamed, StandardCopyOption.ATOMIC_MOVE);
          staged.remove(path);
          if (!soleLink(renamed, before)) { // a hard link would alias another file's memory
            throw bad("segment " + name + " is not a file of its own (it has other links)");
          }
          reserve(size);
          MappedByteBuffer mapping;
          try {
            mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
          } catch (IOException | RuntimeException e) {
            mapped.addAndGet(-size);
            throw bad("cannot map segment " + name + ": " + e);
          }
          // A file the task returned is reused only once the call's answer said the worker let
          // go of it (finished()); a file the worker wrote, it never mapped.
          Shared segment = new Shared(renamed.getFileName().toString(), 0, 0, mapping,
              new java.util.concurrent.atomic.AtomicBoolean(!ours));
          deleteWithMapping(mapping, renamed, segment.reusable);
          renamed = null;
          adopted.put(name, segment);
          return segment;
        }
      } catch (NoSuchFileException e) {
        throw bad("segment " + name + " does not exist");
      } catch (IOException e) {
        throw bad("cannot map segment " + name + ": " + e);
      } finally {
        if (renamed != null) { // taken over but not mapped: nobody else will delete it
          deleteQuietly(renamed);
        }
      }
    }
  }

  Staging staging() {
    return new Staging();
  }

  /** Whether a file still is the one seen before and has no other name. */
  private static boolean soleLink(Path path, BasicFileAttributes before) throws IOException {
    Object links = Files.getAttribute(path, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    BasicFileAttributes after = Files.readAttributes(path, BasicFileAttributes.class,
        LinkOption.NOFOLLOW_LINKS);
    return links instanceof Integer n && n == 1 && java.util.Objects.equals(before.fileKey(),
        after.fileKey());
  }

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
    sweeper.cancel(false);
    synchronized (idle) {
      idle.clear();
    }
    deleteTree(directory);
    try {
      lock.close();
    } catch (IOException e) {
      // the lock goes with the descriptor either way
    }
    OPEN.remove(directory);
  }

  private static void deleteTree(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
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

  /**
   * An array's segment: its name, where the array starts in it, the host's mapping of it (which
   * starts at {@code base}), and whether its file may be reused once the mapping is garbage.
   */
  private static final class Shared {
    final String name;
    final long offset;
    final long base;
    final WeakReference<ByteBuffer> mapping;
    final java.util.concurrent.atomic.AtomicBoolean reusable;

    Shared(String name, long offset, long base, ByteBuffer mapping,
        java.util.concurrent.atomic.AtomicBoolean reusable) {
      this.name = name;
      this.offset = offset;
      this.base = base;
      this.mapping = new WeakReference<>(mapping);
      this.reusable = reusable;
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
