package dev.open.dag.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file operations of a {@link DirectoryStore}: atomic writes (temp file, fsync, rename, fsync
 * of the directory), gathering writes that never copy a direct buffer and copy heap buffers in
 * bounded slices, and the clean-up of temp files left by killed writers.
 */
final class StoreFiles {
  private static final Logger LOG = LoggerFactory.getLogger(DirectoryStore.class);

  /** The heap bytes one gathering write takes at once (the JDK copies them to a direct buffer). */
  static final int HEAP_SLICE = 1 << 20;

  /** Buffers per gathering write: Linux's IOV_MAX. */
  private static final int MAX_IOV = 1024;

  private static final String TEMP_SUFFIX = ".tmp";

  private StoreFiles() {}

  /** Says whether {@code name} is a temp file's name: {@code .<final name>.<16 hex>.tmp}. */
  static boolean isTemp(String name) {
    return name.startsWith(".") && name.endsWith(TEMP_SUFFIX);
  }

  /**
   * Writes {@code content} to {@code dir/name} so that a reader sees either the old file (or none)
   * or the whole new one: into a new temp file in {@code dir}, fsync'd when {@code fsync}, renamed
   * atomically onto the name, and then the directory fsync'd when {@code fsync}. Creates {@code
   * dir} if it is missing. Leaves the buffers' positions as they were.
   */
  static void writeAtomically(Path dir, String name, List<ByteBuffer> content, boolean fsync)
      throws IOException {
    Path temp = null;
    boolean moved = false;
    try {
      FileChannel channel = null;
      for (int attempt = 0; channel == null; attempt++) {
        temp = dir.resolve("." + name + "." + HexFormat.of().toHexDigits(
            ThreadLocalRandom.current().nextLong()) + TEMP_SUFFIX);
        try {
          channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
          if (attempt > 0) {
            throw e;
          }
          Files.createDirectories(dir);
          if (fsync) {
            fsyncDirectory(dir.getParent());
          }
        } catch (FileAlreadyExistsException e) {
          if (attempt > 3) {
            throw e;
          }
        }
      }
      try (FileChannel ch = channel) {
        writeFully(ch, content);
        if (fsync) {
          ch.force(true);
        }
      }
      Files.move(temp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
      moved = true;
    } finally {
      if (!moved && temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          LOG.debug("Could not delete the temp file {}", temp, e);
        }
      }
    }
    if (fsync) {
      fsyncDirectory(dir);
    }
  }

  /**
   * Writes every buffer, from its position to its limit, without moving the positions: direct
   * buffers go to the kernel as they are (one {@code writev}, no copy); heap buffers are cut in
   * slices of at most {@link #HEAP_SLICE} and each gathering write takes at most that many heap
   * bytes, since the JDK copies them into a temporary direct buffer.
   */
  static void writeFully(FileChannel channel, List<ByteBuffer> buffers) throws IOException {
    List<ByteBuffer> slices = new ArrayList<>(buffers.size());
    for (ByteBuffer buffer : buffers) {
      if (!buffer.hasRemaining()) {
        continue;
      }
      if (buffer.isDirect() || buffer.remaining() <= HEAP_SLICE) {
        slices.add(buffer.duplicate());
        continue;
      }
      for (int p = buffer.position(); p < buffer.limit(); p += HEAP_SLICE) {
        slices.add(buffer.duplicate().limit(Math.min(buffer.limit(), p + HEAP_SLICE)).position(p));
      }
    }
    ByteBuffer[] all = slices.toArray(ByteBuffer[]::new);
    int from = 0;
    while (from < all.length) {
      int to = from;
      long heap = 0;
      long left = 0;
      while (to < all.length && to - from < MAX_IOV) {
        if (!all[to].isDirect()) {
          if (heap > 0 && heap + all[to].remaining() > HEAP_SLICE) {
            break;
          }
          heap += all[to].remaining();
        }
        left += all[to].remaining();
        to++;
      }
      while (left > 0) {
        left -= channel.write(all, from, to - from);
      }
      from = to;
    }
  }

  /**
   * Reads into {@code buffer} from {@code position} until it is full.
   *
   * @return false if the file ended first
   */
  static boolean readFully(FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        return false;
      }
      at += n;
    }
    return true;
  }

  /**
   * Flushes a directory's entries (a rename or a new file in it) to disk. Some platforms cannot
   * open a directory (Windows) or force it: there this does nothing, as the rename is as durable
   * as they make it.
   */
  static void fsyncDirectory(Path dir) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(dir, StandardOpenOption.READ);
    } catch (IOException e) {
      // Some platforms (Windows) cannot open a directory: there a rename is made durable by the
      // file system itself. A failure of force() below, however, is a failure to store.
      LOG.debug("Could not open the directory {} to fsync it", dir, e);
      return;
    }
    try (ch) {
      ch.force(true);
    }
  }

  /**
   * Deletes the temp files in {@code dir} last modified before {@code cutoffMillis}: those of
   * writers killed mid-write (a live writer's temp file is younger: it is written, renamed and
   * gone within the time its bytes take to reach the disk).
   *
   * @return the number deleted
   */
  static int deleteStaleTemps(Path dir, long cutoffMillis) throws IOException {
    int deleted = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
        p -> isTemp(p.getFileName().toString()))) {
      for (Path temp : files) {
        try {
          BasicFileAttributes attributes = Files.readAttributes(temp, BasicFileAttributes.class);
          if (attributes.lastModifiedTime().toMillis() < cutoffMillis
              && Files.deleteIfExists(temp)) {
            deleted++;
          }
        } catch (IOException e) {
          LOG.debug("Could not delete the stale temp file {}", temp, e);
        }
      }
    } catch (NoSuchFileException e) {
      return 0;
    }
    return deleted;
  }

  /**
   * Deletes {@code file} unless it is no longer the file {@code fileKey} names (it was replaced
   * since it was read: the new one is kept). A null key (a platform without file keys) deletes.
   */
  static void deleteIfSame(Path file, Object fileKey) {
    try {
      if (fileKey != null && !fileKey.equals(
          Files.readAttributes(file, BasicFileAttributes.class).fileKey())) {
        return;
      }
      Files.deleteIfExists(file);
    } catch (NoSuchFileException e) {
      // gone already
    } catch (IOException e) {
      LOG.warn("Could not delete the corrupt result store file {}: {}", file, e.toString());
    }
  }
}
