package dev.open.ports;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every worker process this JVM started and has not seen exit. A shutdown hook kills the ones
 * still alive, so that no worker outlives the JVM even when pools were not closed (workers also
 * exit by themselves when their stdin closes).
 */
final class ChildProcesses {
  private static final Set<Process> ALIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (Process p : ALIVE) {
        p.destroyForcibly();
      }
    }, "open-ports-shutdown"));
  }

  private ChildProcesses() {}

  static void register(Process process) {
    ALIVE.add(process);
  }

  static void unregister(Process process) {
    ALIVE.remove(process);
  }
}
