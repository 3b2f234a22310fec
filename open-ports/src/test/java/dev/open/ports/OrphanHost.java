package dev.open.ports;

import java.nio.file.Path;

/**
 * A JVM that starts a worker, prints its pid and blocks in a call: {@link NoOrphanTest} kills
 * this JVM with SIGKILL and checks that the worker does not outlive it.
 */
public final class OrphanHost {
  private OrphanHost() {}

  public static void main(String[] args) throws Exception {
    WorkerPool pool = WorkerPool.python()
        .withInterpreter(args[0])
        .withModulePath(Path.of(args[1]))
        .withAllowedModules("open_test_tasks")
        .withWorkers(1)
        .build();
    System.out.println("worker " + pool.pids().get(0));
    System.out.flush();
    pool.call("open_test_tasks:sleep", 600).join();
  }
}
