package dev.open.bench.ports;

import java.nio.file.Path;

import dev.open.ports.WorkerPool;

/** The Python pools the port benchmarks use: the repository's test task module, -Dopen.python. */
final class Pools {
  static final Path REPO = Path.of(System.getProperty("open.repo", ".")).toAbsolutePath();

  private Pools() {}

  static WorkerPool python(int workers) {
    return builder(workers).build();
  }

  /** A pool whose workers each hold at most {@code prefetch} calls besides the running one. */
  static WorkerPool python(int workers, int prefetch) {
    return builder(workers).withPrefetch(prefetch).build();
  }

  /** A pool with shared memory on or off, taking frames up to 2 GiB (for 1 GiB arrays). */
  static WorkerPool python(int workers, boolean sharedMemory) {
    return builder(workers).withSharedMemory(sharedMemory).withMaxFrame(Integer.MAX_VALUE)
        .build();
  }

  /** As {@link #python(int, boolean)}, arrays of at least {@code threshold} bytes shared. */
  static WorkerPool python(int workers, boolean sharedMemory, long threshold) {
    return builder(workers).withSharedMemory(sharedMemory).withSharedMemoryThreshold(threshold)
        .build();
  }

  private static WorkerPool.Builder builder(int workers) {
    return WorkerPool.python()
        .withModulePath(REPO.resolve("python-worker/test_tasks"))
        .withAllowedModules("open_test_tasks")
        .withWorkers(workers);
  }

  static String interpreter() {
    return System.getProperty("open.python", "python3");
  }
}
