package dev.open.ports;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of a {@link WorkerPool.Builder}, taken by its {@code build()}: the
 * settings of one pool, read by the pool, its {@link Dispatcher} and {@link Supervisor}, and every
 * {@link WorkerProcess} it starts. A builder used again later changes no pool built before.
 */
final class PoolConfig {
  final Language language;
  final String interpreter;
  final Path workingDirectory;
  final List<Path> modulePath;
  final List<String> allowedModules;
  final boolean attributePaths;
  final Map<String, String> extraEnvironment;
  final int workers;
  final int prefetch;
  final long minFrameRate;
  final int maxFrame;
  final Duration handshakeTimeout;
  final Duration callTimeout;
  final Duration pingInterval;
  final Duration pingTimeout;
  final Duration cancelGrace;
  final Duration restartBackoff;
  final Duration maxRestartBackoff;
  final Duration healthyAge;
  final long maxCallsPerWorker;
  final long maxMemoryBytes;
  final Duration responseSpin;
  /** Sees every stderr line before it is logged (tests); null for none. */
  final java.util.function.Consumer<String> stderrSink;
  final Path runtime;
  /** The pool's shared-memory directory, or null when it has none. */
  final SharedSegments segments;

  PoolConfig(WorkerPool.Builder b) {
    language = b.language;
    interpreter = b.interpreter != null ? b.interpreter : language.defaultInterpreter();
    workingDirectory = b.workingDirectory; // null: the JVM's
    modulePath = List.copyOf(b.modulePath);
    allowedModules = List.copyOf(b.allowedModules);
    attributePaths = b.attributePaths;
    extraEnvironment = Map.copyOf(b.environment);
    workers = b.workers;
    prefetch = b.prefetch;
    minFrameRate = b.minFrameRate;
    maxFrame = b.maxFrame;
    handshakeTimeout = b.handshakeTimeout;
    callTimeout = b.callTimeout;
    pingInterval = b.pingInterval;
    pingTimeout = b.pingTimeout;
    cancelGrace = b.cancelGrace;
    restartBackoff = b.restartBackoff;
    maxRestartBackoff = b.maxRestartBackoff;
    healthyAge = Duration.ofSeconds(5);
    maxCallsPerWorker = b.maxCallsPerWorker;
    maxMemoryBytes = b.maxMemoryBytes;
    responseSpin = b.responseSpin;
    stderrSink = b.stderrSink;
    runtime = WorkerRuntime.of(language);
    segments = b.sharedMemory && System.getProperty("os.name", "").startsWith("Linux")
        ? SharedSegments.open(SHM_ROOT, b.sharedMemoryThreshold) : null;
  }

  /** Where shared-memory directories go: a memory file system on Linux. */
  static final Path SHM_ROOT = Path.of("/dev/shm");

  List<String> command() {
    List<String> command = new java.util.ArrayList<>(
        language.command(interpreter, runtime, allowedModules, maxFrame, attributePaths));
    if (segments != null) {
      command.addAll(List.of("--shm-dir", segments.directory().toString(), "--shm-threshold",
          Long.toString(segments.threshold())));
    }
    return command;
  }

  Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>(extraEnvironment);
    env.put(language.pathVariable(), language.searchPath(runtime, modulePath));
    if (language == Language.PYTHON) {
      env.put("PYTHONDONTWRITEBYTECODE", "1"); // keep the extracted runtime directory clean
      env.put("PYTHONUNBUFFERED", "1");
    }
    return env;
  }
}
