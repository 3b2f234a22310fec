package dev.open.ports;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.open.dag.array.NDArray;

/**
 * A JVM with shared-memory segments in use: a result it keeps, sent by name to a call still in
 * flight (and the call's spare, if an idle file was free). It prints {@code ready DIR} and
 * blocks; {@link SharedMemoryTest} kills it with SIGKILL and checks that {@code DIR} does not
 * outlive it.
 */
public final class ShmHost {
  private ShmHost() {}

  public static void main(String[] args) throws Exception {
    WorkerPool pool = WorkerPool.python()
        .withInterpreter(args[0])
        .withModulePath(Path.of(args[1]))
        .withAllowedModules("open_test_tasks")
        .withWorkers(1)
        .withSharedMemoryThreshold(1024)
        .build();
    NDArray kept = (NDArray) pool.call("open_test_tasks:array_double",
        NDArray.of(new double[4096])).join();
    Path marker = Files.createTempFile("open-shm-host", ".started");
    Files.delete(marker);
    var running = pool.call("open_test_tasks:array_sum_after", kept, marker.toString(), 600.0);
    while (!Files.exists(marker)) {
      Thread.sleep(10);
    }
    Files.delete(marker);
    System.out.println("ready " + pool.sharedMemoryDirectory().orElseThrow());
    System.out.flush();
    running.join();
  }
}
