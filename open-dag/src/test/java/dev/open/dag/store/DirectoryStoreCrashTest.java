package dev.open.dag.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.open.dag.store.DirectoryStoreTest.Warnings;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A JVM killed (SIGKILL) while it stores entries leaves none torn: every entry file there loads
 * whole or is a miss, and every entry whose {@code store} had returned loads.
 */
class DirectoryStoreCrashTest {
  @TempDir Path dir;

  /**
   * The value the child stores under {@code key}, made from the key alone: 1 to 7 MiB, mostly in a
   * direct part, so that most of a store's time is spent writing it (where a kill should land).
   * The content hash is made up (the store trusts it), which spares hashing megabytes.
   */
  static StoredValue valueOf(CacheKey key) {
    long seed = HexFormat.fromHexDigitsToLong(key.shortHex());
    int size = (1 << 20) + (int) Math.floorMod(seed, 6L << 20);
    byte[] block = new byte[64 << 10];
    new java.util.SplittableRandom(seed).nextBytes(block);
    ByteBuffer direct = ByteBuffer.allocateDirect(size);
    for (long i = 0; direct.hasRemaining(); i++) {
      int at = direct.position();
      direct.put(block, 0, Math.min(block.length, direct.remaining()));
      if (direct.position() - at >= 8) {
        direct.putLong(at, seed ^ i); // each block differs
      }
    }
    direct.flip();
    ByteBuffer heap = ByteBuffer.wrap(key.hex().getBytes(StandardCharsets.US_ASCII));
    String contentHash = HexFormat.of().formatHex(KeyRecipe.sha256().digest(heap.array()));
    return new StoredValue("crash.test.v1", contentHash, List.of(heap, direct));
  }

  /**
   * The child: stores entries from four virtual threads until it is killed, printing {@code
   * stored <key>} once each {@code store} has returned. Arguments: directory, fsync.
   */
  static final class Child {
    public static void main(String[] args) throws Exception {
      DirectoryStore store =
          DirectoryStore.builder(Path.of(args[0])).withFsync(Boolean.parseBoolean(args[1])).build();
      PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
      try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int t = 0; t < 4; t++) {
          int thread = t;
          threads.execute(() -> {
            try {
              for (int n = 0; ; n++) {
                CacheKey key = DirectoryStoreTest.key("crash " + thread + " " + n);
                store.store(key, valueOf(key));
                synchronized (out) {
                  out.println("stored " + key.hex());
                }
              }
            } catch (Throwable e) {
              e.printStackTrace();
              System.exit(1);
            }
          });
        }
      }
    }
  }

  /** The test runs on the module path; the child gets everything on its class path. */
  private static String classPathOfThisJvm() {
    return Stream.of("jdk.module.path", "java.class.path").map(System::getProperty)
        .filter(p -> p != null && !p.isEmpty()).collect(Collectors.joining(File.pathSeparator));
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  @Timeout(120)
  void aKilledWriterLeavesNoTornEntry(boolean fsync) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child = new ProcessBuilder(java.toString(), "-cp", classPathOfThisJvm(),
        Child.class.getName(), dir.toString(), Boolean.toString(fsync))
        .redirectError(dir.resolveSibling(dir.getFileName() + ".child-stderr.txt").toFile())
        .start();
    List<CacheKey> reported = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while (reported.size() < 20 && (line = out.readLine()) != null) {
        if (line.startsWith("stored ")) {
          reported.add(new CacheKey(line.substring(7)));
        }
      }
      child.destroyForcibly(); // SIGKILL, mid-way through the other threads' stores
      child.waitFor();
    } finally {
      child.destroyForcibly();
    }
    assertThat(reported).as("the child reported stored keys (its stderr is beside %s)", dir)
        .hasSize(20);

    DirectoryStore store = DirectoryStore.open(dir);
    List<Path> files;
    try (Stream<Path> all = Files.walk(dir.resolve("entries"))) {
      files = all.filter(Files::isRegularFile).toList();
    }
    List<Path> entries = files.stream()
        .filter(p -> !StoreFiles.isTemp(p.getFileName().toString())).toList();
    assertThat(entries.size()).isGreaterThanOrEqualTo(reported.size());
    try (Warnings warnings = new Warnings()) {
      for (Path file : entries) {
        CacheKey key = new CacheKey(file.getFileName().toString());
        StoredValue loaded = store.load(key).orElseThrow(
            () -> new AssertionError("entry " + file + " is there but does not load"));
        DirectoryStoreTest.assertSame(loaded, valueOf(key));
      }
      for (CacheKey key : reported) {
        DirectoryStoreTest.assertSame(store.load(key).orElseThrow(), valueOf(key));
      }
      assertThat(warnings.take()).as("no entry was torn").isEmpty();
    }
    System.out.printf("fsync=%s: %d entries, %d reported, %d temp files left by the kill%n",
        fsync, entries.size(), reported.size(), files.size() - entries.size());
  }
}
