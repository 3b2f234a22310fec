package dev.open.bench.rust;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A realistic 16 MiB compression corpus: the real WfCommons workflow JSON of ../shared (when
 * present), then seeded application log lines until the size is reached. Text and JSON are what
 * pipelines compress most.
 */
final class Corpus {
  private Corpus() {}

  static byte[] of(int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(size + 4096);
    Path instances = Path.of(System.getProperty("open.wfinstances", "../shared/wfinstances"));
    if (Files.isDirectory(instances)) {
      try (Stream<Path> files = Files.list(instances)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
          out.writeBytes(Files.readAllBytes(f));
          if (out.size() >= size) {
            break;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Random r = new Random(2026);
    String[] levels = {"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"};
    String[] events = {"task started", "task succeeded", "retrying after timeout",
        "worker restarted", "frame received", "cache miss", "flushed batch"};
    long millis = 1_780_000_000_000L;
    while (out.size() < size) {
      millis += r.nextInt(50);
      String line = String.format(Locale.ROOT,
          "%d %-5s [dag=etl-%d node=n%05d attempt=%d] %s in %d.%03d ms (bytes=%d, worker=%d)%n",
          millis, levels[r.nextInt(levels.length)], r.nextInt(20), r.nextInt(100_000),
          1 + r.nextInt(3), events[r.nextInt(events.length)], r.nextInt(900), r.nextInt(1000),
          r.nextInt(1 << 20), 1000 + r.nextInt(64));
      out.writeBytes(line.getBytes(StandardCharsets.UTF_8));
    }
    byte[] all = out.toByteArray();
    return java.util.Arrays.copyOf(all, size);
  }
}
