package dev.open.bench.dag;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.RunReport;
import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;
import dev.open.dag.store.CacheKey;
import dev.open.dag.store.DirectoryStore;
import dev.open.dag.store.StoredValue;
import dev.open.dag.store.ValueCodec;
import dev.open.dag.store.ValueCodecs;

/**
 * What a result store costs, default JVM flags.
 *
 * <p>{@code run*}: one run of a DAG of {@code nodes} independent tasks, each returning a new small
 * value (a 3-element list): without a store; on a directory store that misses every node and
 * stores it ({@code cold}: every invocation gives the DAG a new version, so every key is new);
 * and on one that has every node ({@code warm}). Divide by {@code nodes} for the cost per node.
 *
 * <p>{@code array*}: a 64 MiB off-heap float64 {@code NDArray} stored (encode, write, rename) and
 * loaded (read, verify, decode), beside the plain file write and read of the same bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, batchSize = 1)
@Measurement(iterations = 10, batchSize = 1)
@Fork(3)
public class StoreBenchmark {
  @Param({"1000"})
  public int nodes;

  @Param({"true", "false"})
  public boolean fsync;

  private Path dir;
  private DirectoryStore store;
  private DagExecutor plain;
  private DagExecutor stored;
  private Dag warm;
  private int version;

  private NDArray array;
  private StoredValue encoded;
  private CacheKey arrayKey;
  private ByteBuffer raw;
  private Path rawFile;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("open-store-bench-");
    store = DirectoryStore.builder(dir.resolve("store")).withFsync(fsync).build();
    plain = DagExecutor.builder().withMdc(false).build();
    stored = DagExecutor.builder().withMdc(false).withResultStore(store).build();
    warm = dag("warm");
    stored.run(warm).orThrow();

    int elements = 8 << 20; // 64 MiB of float64
    array = NDArray.allocate(DType.FLOAT64, elements);
    for (int i = 0; i < elements; i++) {
      array.asDoubleBuffer().put(i, i * 0.5);
    }
    ValueCodec codec = ValueCodecs.standard().forValue(array).orElseThrow();
    encoded = StoredValue.of(codec.id(), codec.encode(array));
    arrayKey = CacheKey.of(new byte[32]);
    store.store(arrayKey, encoded);
    raw = ByteBuffer.allocateDirect(elements * 8).order(ByteOrder.LITTLE_ENDIAN);
    rawFile = dir.resolve("raw.bin");
    writeRaw(rawFile);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private Dag dag(String dagVersion) {
    DagBuilder b = Dag.builder("store-bench").withVersion(dagVersion);
    for (int i = 0; i < nodes; i++) {
      int id = i;
      b.task("n" + i, () -> java.util.List.of(id, id + 1, id + 2));
    }
    return b.build();
  }

  @Benchmark
  public RunReport runWithoutStore() {
    return plain.run(warm);
  }

  @Benchmark
  public RunReport runColdStore() {
    return stored.run(dag("cold-" + version++)); // building the DAG is in both cold and warm
  }

  @Benchmark
  public RunReport runWarmStore() {
    return stored.run(dag("warm"));
  }

  @Benchmark
  public void arrayStore() throws IOException {
    byte[] key = new byte[32];
    ByteBuffer.wrap(key).putInt(++version); // a new entry each time, as a plain write makes a file
    ValueCodec codec = ValueCodecs.standard().forValue(array).orElseThrow();
    store.store(CacheKey.of(key), StoredValue.of(codec.id(), codec.encode(array)));
  }

  @Benchmark
  public Object arrayLoad() throws IOException {
    StoredValue value = store.load(arrayKey).orElseThrow();
    return ValueCodecs.standard().byId(value.codec()).orElseThrow()
        .decode(value.parts().get(0));
  }

  @Benchmark
  public void plainFileWrite() throws IOException {
    writeRaw(dir.resolve("raw-" + ++version + ".bin"));
  }

  @Benchmark
  public ByteBuffer plainFileRead() throws IOException {
    ByteBuffer into = ByteBuffer.allocateDirect(raw.capacity());
    try (FileChannel in = FileChannel.open(rawFile, StandardOpenOption.READ)) {
      while (into.hasRemaining() && in.read(into) >= 0) {
        // read to the end
      }
    }
    return into.flip();
  }

  private void writeRaw(Path file) throws IOException {
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer view = raw.duplicate().clear();
      while (view.hasRemaining()) {
        out.write(view);
      }
      if (fsync) {
        out.force(true);
      }
    }
  }
}
