package dev.open.ports;

import static dev.open.ports.PythonWorkers.REPO;
import static dev.open.ports.PythonWorkers.assumeNumpy;
import static dev.open.ports.PythonWorkers.eventually;
import static dev.open.ports.PythonWorkers.failure;
import static dev.open.ports.PythonWorkers.join;
import static dev.open.ports.PythonWorkers.pool;
import static dev.open.ports.PythonWorkers.withHostileTasks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;

/**
 * Large arrays through shared memory (docs/protocol.md section 8, docs/ports.md): equal bit
 * for bit, isolated as documented, and no segment left behind however a call ends.
 */
class SharedMemoryTest {
  private static final int THRESHOLD = 4096;
  private final List<WorkerPool> pools = new ArrayList<>();

  @BeforeEach
  void linuxWithNumpy() {
    assumeThat(Files.isDirectory(PoolConfig.SHM_ROOT)).as("/dev/shm exists (Linux)").isTrue();
    assumeNumpy();
  }

  @AfterEach
  void close() {
    pools.forEach(WorkerPool::close);
  }

  private WorkerPool start(WorkerPool.Builder builder) {
    WorkerPool pool = builder.withSharedMemoryThreshold(THRESHOLD).build();
    pools.add(pool);
    assertThat(pool.sharedMemoryDirectory()).isPresent();
    return pool;
  }

  /** The segments of a pool's directory (its lock file aside). */
  private static List<String> files(WorkerPool pool) throws IOException {
    Path dir = pool.sharedMemoryDirectory().orElseThrow();
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".lock"))
          .sorted().toList();
    }
  }

  /**
   * Waits until the pool's directory holds no segment but {@code kept} arrays and a few idle
   * files.
   */
  private static void onlySharedArraysLeft(WorkerPool pool, int kept) throws Exception {
    eventually(Duration.ofSeconds(30), () -> {
      try {
        List<String> left = files(pool);
        List<String> arrays = left.stream().filter(n -> !n.startsWith("f")).toList();
        return arrays.size() == kept && arrays.stream().allMatch(n -> n.startsWith("s"))
            && left.size() - arrays.size() <= SharedSegments.MAX_IDLE; // idle, for reuse
      } catch (IOException e) {
        return false;
      }
    });
  }

  /** Collects garbage until the pool's directory holds nothing but a few idle files. */
  private static void onlyIdleFilesLeftOnceGarbageIsCollected(WorkerPool pool) throws Exception {
    eventually(Duration.ofSeconds(30), () -> {
      System.gc();
      try {
        List<String> left = files(pool);
        return left.stream().allMatch(n -> n.startsWith("f"))
            && left.size() <= SharedSegments.MAX_IDLE;
      } catch (IOException e) {
        return false;
      }
    });
  }

  @Test
  void arraysOfEveryDtypeAndLayoutRoundTripBitForBitAboveAndBelowTheThreshold() {
    WorkerPool python = start(pool().withWorkers(1));
    Random random = new Random(1313);
    for (int round = 0; round < 40; round++) {
      DType dtype = DType.values()[random.nextInt(DType.values().length)];
      int elements = 1 + random.nextInt(2 * THRESHOLD / dtype.itemSize()); // both sides
      int[] shape = random.nextBoolean() ? new int[] {elements}
          : new int[] {elements, 1 + random.nextInt(3)};
      NDArray.Order order = random.nextBoolean() ? NDArray.Order.C : NDArray.Order.F;
      byte[] bytes = new byte[elements * (shape.length == 2 ? shape[1] : 1) * dtype.itemSize()];
      random.nextBytes(bytes);
      if (dtype == DType.BOOL) {
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] &= 1;
        }
      }
      ByteBuffer data = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
      NDArray sent = NDArray.wrap(data, dtype, order, shape);
      for (String task : List.of("open_test_tasks:echo", "open_test_tasks:copy")) {
        NDArray back = (NDArray) join(python.call(task, sent));
        String what = task + " " + dtype + " " + Arrays.toString(shape) + " " + order;
        assertThat(back.dtype()).as(what).isEqualTo(dtype);
        assertThat(back.shape()).as(what).isEqualTo(shape);
        if (shape.length == 2 && shape[0] > 1 && shape[1] > 1) { // else both orders are one
          assertThat(back.order()).as(what).isEqualTo(order);
        }
        assertThat(back.toByteArray()).as(what).isEqualTo(bytes);
      }
    }
  }

  @Test
  void aTaskCannotWriteIntoALargeArgumentAndTheCallersArrayIsUnchanged() {
    WorkerPool python = start(pool().withWorkers(1));
    NDArray a = NDArray.of(new double[4096]);
    a.asDoubleBuffer().put(0, 1.0);
    Throwable error = failure(python.call("open_test_tasks:scale_in_place", a));
    assertThat(error).isInstanceOf(RemoteException.class)
        .hasMessageContaining("read-only");
    assertThat(a.asDoubleBuffer().get(0)).isEqualTo(1.0);
    // Below the threshold an argument is the worker's own copy: writing into it is allowed
    // and, as before, changes nothing of the caller's.
    NDArray small = NDArray.of(new double[] {1, 2, 3});
    assertThat(((NDArray) join(python.call("open_test_tasks:scale_in_place", small)))
        .toDoubleArray()).containsExactly(2, 4, 6);
    assertThat(small.toDoubleArray()).containsExactly(1, 2, 3);
  }

  @Test
  void aReturnedArgumentIsNeitherTheCallersArrayNorChangedByIt() {
    WorkerPool python = start(pool().withWorkers(1));
    NDArray a = NDArray.of(filled(4096, 1.0));
    NDArray r = (NDArray) join(python.call("open_test_tasks:echo", a));
    a.asDoubleBuffer().put(0, 42.0);
    assertThat(r.asDoubleBuffer().get(0)).isEqualTo(1.0);
    r.asDoubleBuffer().put(1, 7.0);
    assertThat(a.asDoubleBuffer().get(1)).isEqualTo(1.0);
  }

  @Test
  void resultsTheHostKeepsAreNotTouchedByLaterCallsNorByWhatTheWorkerKeeps() {
    WorkerPool python = start(pool().withWorkers(1));
    List<NDArray> results = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      NDArray arg = NDArray.of(filled(4096, i));
      join(python.call("open_test_tasks:keep", arg)); // the worker holds each argument
      results.add((NDArray) join(python.call("open_test_tasks:array_double", arg)));
    }
    for (int i = 0; i < 5; i++) {
      assertThat(results.get(i).toDoubleArray()).as("result %d", i).containsOnly(2.0 * i);
    }
    @SuppressWarnings("unchecked")
    List<Object> sums = (List<Object>) join(python.call("open_test_tasks:kept_checksum"));
    assertThat(sums).containsExactly(0.0, 4096.0, 8192.0, 12288.0, 16384.0);
  }

  @Test
  void filesAreReusedButNeverUnderALiveResultOrAKeptArgument() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    List<NDArray> results = new ArrayList<>();
    join(python.call("open_test_tasks:keep", NDArray.of(filled(4096, -1)))); // kept for good
    for (int i = 0; i < 12; i++) {
      NDArray arg = NDArray.of(filled(4096, i));
      results.add((NDArray) join(python.call("open_test_tasks:array_double", arg)));
      if (i % 3 == 0) {
        results.add((NDArray) join(python.call("open_test_tasks:echo", arg)));
      }
    }
    List<String> idle = files(python).stream().filter(n -> n.startsWith("f")).toList();
    assertThat(idle).as("staged arguments and spares went back to the idle list").isNotEmpty()
        .hasSizeLessThanOrEqualTo(SharedSegments.MAX_IDLE);
    for (int i = 0, k = 0; i < 12; i++, k++) {
      assertThat(results.get(k).toDoubleArray()).as("result %d", i).containsOnly(2.0 * i);
      if (i % 3 == 0) {
        assertThat(results.get(++k).toDoubleArray()).as("echo %d", i).containsOnly((double) i);
      }
    }
    @SuppressWarnings("unchecked")
    List<Object> sums = (List<Object>) join(python.call("open_test_tasks:kept_checksum"));
    assertThat(sums).containsExactly(-4096.0);
    results.clear(); // garbage results give their files back, up to the idle limit
    onlyIdleFilesLeftOnceGarbageIsCollected(python);
  }

  @Test
  void aSharedArrayTravelsByNameAndAReturnedOneIsTheSameMemory() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    NDArray shared = python.allocateShared(DType.FLOAT64, 64, 64);
    assertThat(files(python)).containsExactly("s1");
    shared.asDoubleBuffer().put(5, 3.0);
    assertThat(join(python.call("open_test_tasks:array_sum", shared))).isEqualTo(3.0);
    NDArray same = (NDArray) join(python.call("open_test_tasks:echo", shared));
    same.asDoubleBuffer().put(6, 4.0); // as `return a` in NumPy: one array, two names
    assertThat(shared.asDoubleBuffer().get(6)).isEqualTo(4.0);
    // A result travels back by name too: what the host wrote into it is what the task sees.
    NDArray doubled = (NDArray) join(python.call("open_test_tasks:array_double", shared));
    doubled.asDoubleBuffer().put(0, 100.0);
    assertThat(join(python.call("open_test_tasks:array_sum", doubled))).isEqualTo(114.0);
    assertThat(files(python).stream().filter(n -> n.startsWith("s"))).hasSize(2);
  }

  @Test
  void segmentsGoWhenTheirCallsAndArraysDo() throws Exception {
    WorkerPool python = start(pool().withWorkers(2));
    List<CompletableFuture<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      calls.add(python.call(i % 2 == 0 ? "open_test_tasks:array_double" : "open_test_tasks:echo",
          NDArray.of(filled(2048, i))));
    }
    calls.forEach(PythonWorkers::join);
    onlySharedArraysLeft(python, 20); // the results, each its own segment
    calls.clear(); // the results are garbage: their segments go with their mappings
    onlyIdleFilesLeftOnceGarbageIsCollected(python);
  }

  @Test
  void aWorkerKilledWithLargeCallsQueuedLeavesNoSegment() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    long pid = python.pids().get(0);
    Path marker = Files.createTempFile("open-shm", ".started");
    Files.delete(marker);
    CompletableFuture<Object> running = python.call("open_test_tasks:array_sum_after",
        NDArray.of(filled(4096, 1)), marker.toString(), 600.0);
    List<CompletableFuture<Object>> queued = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      queued.add(python.call("open_test_tasks:array_double", NDArray.of(filled(4096, i))));
    }
    eventually(Duration.ofSeconds(60), () -> Files.exists(marker));
    new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
    assertThat(failure(running)).isInstanceOf(WorkerCrashedException.class);
    for (int i = 0; i < 8; i++) { // the queued calls ran on the replacement
      assertThat(((NDArray) join(queued.get(i))).toDoubleArray()).containsOnly(2.0 * i);
    }
    onlySharedArraysLeft(python, 8);
    Files.deleteIfExists(marker);
  }

  @Test
  void aKilledWorkersHalfWrittenResultIsDeleted() throws Exception {
    WorkerPool python = start(withHostileTasks(pool()).withWorkers(1));
    long pid = python.pids().get(0);
    Path marker = Files.createTempFile("open-shm", ".started");
    Files.delete(marker);
    CompletableFuture<Object> call = python.call("hostile_tasks:segment_then_sleep",
        marker.toString());
    eventually(Duration.ofSeconds(60), () -> Files.exists(marker));
    assertThat(files(python)).contains("w" + pid + "-4242");
    new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
    assertThat(failure(call)).isInstanceOf(WorkerCrashedException.class);
    eventually(Duration.ofSeconds(30), () -> {
      try {
        return files(python).stream().noneMatch(n -> n.startsWith("w"));
      } catch (IOException e) {
        return false;
      }
    });
    Files.deleteIfExists(marker);
  }

  @Test
  void viewsOfOneArgumentSlicesOfSharedArraysAndBigEndianResultsAreRight() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    double[] values = new double[4096];
    for (int i = 0; i < values.length; i++) {
      values[i] = i;
    }
    // One staged argument named twice in one answer, and twice in a stream.
    @SuppressWarnings("unchecked")
    List<NDArray> halves = (List<NDArray>) join(python.call("open_test_tasks:halves",
        NDArray.of(values)));
    assertThat(halves.get(0).toDoubleArray()).isEqualTo(Arrays.copyOfRange(values, 0, 2048));
    assertThat(halves.get(1).toDoubleArray()).isEqualTo(Arrays.copyOfRange(values, 2048, 4096));
    @SuppressWarnings("unchecked")
    List<NDArray> streamed = (List<NDArray>) join(python.call(
        "open_test_tasks:halves_streamed", NDArray.of(values)));
    assertThat(streamed.get(1).toDoubleArray()).isEqualTo(Arrays.copyOfRange(values, 2048, 4096));
    // A slice of a shared array, sent on, is that slice, not the start of its segment.
    NDArray shared = python.allocateShared(DType.FLOAT64, 4096);
    shared.asDoubleBuffer().put(values);
    NDArray tail = (NDArray) join(python.call("open_test_tasks:tail_half", shared));
    assertThat(join(python.call("open_test_tasks:array_sum", tail)))
        .isEqualTo(Arrays.stream(values, 2048, 4096).sum());
    // A big-endian result is converted; its segment goes once nothing maps it.
    NDArray big = (NDArray) join(python.call("open_test_tasks:big_endian", 4096));
    assertThat(big.toDoubleArray()).isEqualTo(values);
    halves = null;
    streamed = null;
    tail = null;
    long live = files(python).stream().filter(n -> n.startsWith("s")).count();
    eventually(Duration.ofSeconds(30), () -> {
      System.gc();
      try { // only the shared array's own file is left (besides idle ones)
        return files(python).stream().filter(n -> n.startsWith("s")).count() == 1;
      } catch (IOException e) {
        return false;
      }
    });
    assertThat(live).isGreaterThan(1);
    assertThat(shared.asDoubleBuffer().get(1)).isEqualTo(1.0);
  }

  @Test
  void aCancelledCallLeavesNoSegment() throws Exception {
    WorkerPool python = start(pool().withWorkers(1));
    Path marker = Files.createTempFile("open-shm", ".started");
    Files.delete(marker);
    CompletableFuture<Object> call = python.call("open_test_tasks:array_sum_after",
        NDArray.of(filled(4096, 1)), marker.toString(), 600.0);
    eventually(Duration.ofSeconds(60), () -> Files.exists(marker));
    assertThat(files(python)).hasSize(1).allMatch(n -> n.startsWith("h"));
    call.cancel(true);
    onlySharedArraysLeft(python, 0);
    assertThat(join(python.call("open_test_tasks:add", 1, 2))).isEqualTo(3L);
    Files.deleteIfExists(marker);
  }

  @Test
  void forgedSegmentsFailTheirCallOnlyAndAreNeverFollowed() throws Exception {
    WorkerPool python = start(withHostileTasks(pool()).withWorkers(1)
        .withHealthCheck(Duration.ofHours(1), Duration.ofHours(1)));
    long pid = python.pids().get(0);
    List<String> kinds = List.of("symlink", "hardlink", "overflow", "fifo", "short", "other",
        "escape", "missing");
    List<String> problems = List.of("is not a regular file", "has other links",
        "the array needs", "is not a regular file", "the array needs", "neither an argument",
        "neither an argument", "does not exist");
    long id = 1; // a fresh worker numbers calls from 1; each case makes two (see raw_result)
    for (int i = 0; i < kinds.size(); i++, id += 2) {
      Throwable error = failure(python.call("hostile_tasks:forged_segment", id, kinds.get(i),
          1024));
      assertThat(error).as(kinds.get(i)).isExactlyInstanceOf(WorkerException.class)
          .hasMessageContaining(problems.get(i));
      assertThat(join(python.call("hostile_tasks:value", 7))).isEqualTo(7L);
    }
    // Under the threshold an array must travel inline: naming a segment for it is bad.
    Throwable small = failure(python.call("hostile_tasks:forged_segment", id, "short", 8));
    assertThat(small).hasMessageContaining("under the shared-memory threshold");
    assertThat(python.pids()).containsExactly(pid);
    assertThat(files(python)).noneMatch(n -> n.startsWith("s"));
  }

  @Test
  void aPoolWithoutSharedMemorySendsEverythingThroughThePipe() {
    WorkerPool python = pool().withWorkers(1).withSharedMemory(false).build();
    pools.add(python);
    assertThat(python.sharedMemoryDirectory()).isEmpty();
    assertThat((String) python.workerInfo().get("capabilities")).doesNotContain("shm");
    NDArray big = NDArray.of(filled(1 << 16, 2));
    assertThat(((NDArray) join(python.call("open_test_tasks:array_double", big)))
        .toDoubleArray()).containsOnly(4.0);
    assertThat(python.allocateShared(DType.INT32, 3).isDirect()).isTrue();
  }

  @Test
  void aPoolStartingReclaimsDirectoriesNobodyLocksAndNothingElse() throws Exception {
    Path root = Files.createTempDirectory("open-shm-root");
    Path free = Files.createDirectories(root.resolve("open-" + ProcessHandle.current().pid()
        + "-a1")); // a live pid, but nobody holds the lock: its owner is gone
    Files.createFile(free.resolve(".lock"));
    Files.createFile(free.resolve("h1"));
    Path held = Files.createDirectories(root.resolve("open-1-b2")); // pid 1 here, but locked
    Path lock = held.resolve(".lock");
    Files.createFile(lock);
    Path elsewhere = Files.createDirectories(root.resolve("not-a-pool"));
    Files.createFile(elsewhere.resolve("precious"));
    Files.createSymbolicLink(root.resolve("open-999999999-c3"), elsewhere);
    Path ready = root.resolve("locked");
    Process holder = new ProcessBuilder(PythonWorkers.PYTHON, "-c",
        "import fcntl, pathlib, sys, time; f = open(sys.argv[1], 'w'); "
            + "fcntl.lockf(f, fcntl.LOCK_EX); pathlib.Path(sys.argv[2]).touch(); time.sleep(600)",
        lock.toString(), ready.toString()).start();
    try {
      eventually(Duration.ofSeconds(60), () -> Files.exists(ready));
      SharedSegments.reclaimStale(root);
      assertThat(free).doesNotExist();
      assertThat(held.resolve(".lock")).exists(); // another process (namespace) holds it
      assertThat(elsewhere.resolve("precious")).exists(); // a link is not followed
    } finally {
      holder.destroyForcibly().waitFor();
    }
    SharedSegments.reclaimStale(root);
    assertThat(held).doesNotExist(); // its holder is gone now
  }

  @Test
  void aKilledJvmLeavesNoDirectoryBehind() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process host = new ProcessBuilder(java.toString(), "-Xmx64m", "-cp",
        NoOrphanTest.classPathOfThisJvm(), ShmHost.class.getName(), PythonWorkers.PYTHON,
        REPO.resolve("python-worker/test_tasks").toString())
        .redirectErrorStream(true).start();
    Path dir;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(host.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      do {
        line = out.readLine();
        assertThat(line).as("the host's output ended before it was ready").isNotNull();
      } while (!line.startsWith("ready "));
      dir = Path.of(line.substring("ready ".length()));
      assertThat(dir).isDirectory();
      host.destroyForcibly(); // SIGKILL, mid-call, a staged argument and a result in there
      assertThat(host.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    eventually(Duration.ofSeconds(30), () -> !Files.exists(dir));
  }

  private static double[] filled(int n, double value) {
    double[] d = new double[n];
    java.util.Arrays.fill(d, value);
    return d;
  }
}
