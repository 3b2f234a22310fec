package dev.open.ports;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.open.dag.FunctionRef;
import dev.open.dag.spi.Backend;
import dev.open.dag.spi.Invocation;
import dev.open.ports.protocol.FrameCodec;

/**
 * A supervised pool of Python or Julia worker processes, and the DAG {@link Backend} that runs
 * functions on them ({@code "python"} or {@code "julia"}).
 *
 * <pre>{@code
 * try (WorkerPool python = WorkerPool.python()
 *         .withModulePath(Path.of("tasks"))
 *         .withAllowedModules("analytics.*")
 *         .withWorkers(4)
 *         .build()) {
 *   Object stats = python.call("analytics.stats:describe", NDArray.of(values)).join();
 *   Node<Map> described = b.call("describe", python.function("analytics.stats:describe", Map.class), data);
 * }
 * }</pre>
 *
 * <p><b>Supervision</b> (the design of Erlang's ports and supervisors):
 * <ul>
 *   <li>warm start: {@link Builder#build()} starts every worker and waits for its {@code hello};
 *   <li>least-loaded dispatch: a call goes to the ready worker with the fewest calls in flight
 *       (workers run their calls one at a time, in order; the others wait in the worker's pipe);
 *   <li>health: every ping interval each worker is pinged; one that has been silent (no pong,
 *       no byte of any frame) for the ping timeout is killed and replaced;
 *   <li>restart: a dead worker is replaced at once, then with exponential backoff while
 *       replacements keep dying young;
 *   <li>recycling: a worker that has started {@code maxCallsPerWorker} calls, or reports more
 *       resident memory than {@code maxMemory}, stops taking calls, finishes its own and exits;
 *   <li>timeouts: a call running longer than its timeout fails with {@link
 *       WorkerTimeoutException} and its worker is killed, never reused;
 *   <li>crashes: every call in flight on a worker that dies fails at once with {@link
 *       WorkerCrashedException} (exit status or signal, last stderr lines), so a retry policy can
 *       send it again: the pool runs it on another worker;
 *   <li>cancellation: cancelling a call's future sends {@code cancel}; a worker that has not
 *       answered within the cancel grace period is killed;
 *   <li>shutdown: {@link #close()} asks every worker to exit, then kills those that do not; a JVM
 *       shutdown hook kills any left, and workers exit by themselves when their stdin closes.
 * </ul>
 *
 * <p>Defaults: {@link Language#defaultInterpreter()}, the JVM's working directory, 2 workers, no
 * call timeout, ping every 5 s with a 10 s timeout, 2 s cancel grace, a 10 s handshake timeout,
 * frames up to 1 GiB, no recycling. Thread-safe.
 */
public final class WorkerPool implements Backend, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

  private final Config config;
  /** The workers taking calls. */
  private final List<WorkerProcess> workers = new CopyOnWriteArrayList<>();
  /** Every worker process alive, including recycled ones finishing their calls. */
  private final java.util.Set<WorkerProcess> alive = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Deque<Call> waiting = new ArrayDeque<>();
  private final ScheduledExecutorService supervisor;
  private final ScheduledFuture<?> healthCheck;
  private final AtomicInteger workerNumbers = new AtomicInteger();
  private final AtomicInteger startsPending = new AtomicInteger();
  private final AtomicLong pingSeq = new AtomicLong();
  private final AtomicLong restarts = new AtomicLong();
  private int youngDeaths;
  private volatile boolean closed;

  private WorkerPool(Config config) {
    this.config = config;
    this.supervisor = Executors.newScheduledThreadPool(2, r -> Thread.ofPlatform().daemon()
        .name("open-" + config.language.id() + "-supervisor").unstarted(r));
    List<CompletableFuture<WorkerProcess>> starts = new ArrayList<>();
    for (int i = 0; i < config.workers; i++) {
      starts.add(CompletableFuture.supplyAsync(this::startWorker, supervisor));
    }
    try {
      CompletableFuture.allOf(starts.toArray(new CompletableFuture<?>[0])).join();
    } catch (RuntimeException e) {
      close();
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw cause instanceof WorkerStartException w ? w : new WorkerStartException(
          config.language.id(), 0, "the pool could not start: " + cause, cause);
    }
    starts.forEach(s -> workers.add(s.join()));
    long interval = config.pingInterval.toNanos();
    this.healthCheck = supervisor.scheduleWithFixedDelay(this::checkHealth, interval, interval,
        TimeUnit.NANOSECONDS);
    LOG.info("{} pool started: {} workers (pids {})", config.language.id(), workers.size(),
        pids());
  }

  /** Returns a builder for a pool of Python workers. */
  public static Builder python() {
    return new Builder(Language.PYTHON);
  }

  /** Returns a builder for a pool of Julia workers. */
  public static Builder julia() {
    return new Builder(Language.JULIA);
  }

  @Override
  public String name() {
    return config.language.id();
  }

  /**
   * Returns a reference to a worker function for {@link dev.open.dag.DagBuilder#call}.
   *
   * @param function {@code "module:function"}, in an allowed module
   * @param resultType the Java type of its results (see {@link ResultTypes})
   * @param <R> the result type
   * @return the reference
   */
  public <R> FunctionRef<R> function(String function, Class<R> resultType) {
    requireFunction(function);
    return FunctionRef.of(this, function, resultType);
  }

  /**
   * Calls {@code function} with positional arguments.
   *
   * @param function {@code "module:function"}, in an allowed module
   * @param args the arguments (see {@link dev.open.ports.protocol.Values} for the types)
   * @return the result: a value, or the list of chunks when the function yielded them; failing
   *     with {@link RemoteException}, {@link WorkerCrashedException} or {@link
   *     WorkerTimeoutException}; cancelling it cancels the call
   */
  public CompletableFuture<Object> call(String function, Object... args) {
    return call(function, Arrays.asList(args), Map.of());
  }

  /**
   * Calls {@code function} with positional and keyword arguments.
   *
   * @param function {@code "module:function"}, in an allowed module
   * @param args positional arguments
   * @param kwargs keyword arguments
   * @return the result, as {@link #call(String, Object...)}
   */
  public CompletableFuture<Object> call(String function, List<?> args, Map<String, ?> kwargs) {
    Call call = newCall(function, args, kwargs, null);
    submit(call);
    return call.future;
  }

  /**
   * Calls a function that yields results and returns them as they arrive.
   *
   * @param function {@code "module:function"}, a generator function (or any function)
   * @param args positional arguments
   * @return the results; close it to cancel the call early
   */
  public CallStream stream(String function, Object... args) {
    CallStream stream = new CallStream();
    Call call = newCall(function, Arrays.asList(args), Map.of(), stream);
    stream.attach(call);
    submit(call);
    return stream;
  }

  @Override
  public CompletableFuture<?> invoke(Invocation invocation) {
    CompletableFuture<Object> result = call(invocation.function(), invocation.arguments(), Map.of());
    CompletableFuture<Object> converted = result.thenApply(
        value -> ResultTypes.convert(value, invocation.resultType(), invocation.function()));
    converted.whenComplete((v, e) -> {
      if (converted.isCancelled()) {
        result.cancel(true); // the DAG's timeout or cancellation reaches the worker
      }
    });
    return converted;
  }

  private Call newCall(String function, List<?> args, Map<String, ?> kwargs, CallStream stream) {
    requireFunction(function);
    Objects.requireNonNull(args, "args");
    Objects.requireNonNull(kwargs, "kwargs");
    return new Call(function, args, kwargs, stream);
  }

  private static void requireFunction(String function) {
    Objects.requireNonNull(function, "function");
    int colon = function.indexOf(':');
    if (colon <= 0 || colon == function.length() - 1) {
      throw new IllegalArgumentException("function must be \"module:function\", was \""
          + function + "\"");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Dispatch

  private void submit(Call call) {
    call.future.whenComplete((v, e) -> {
      if (call.future.isCancelled()) {
        onCancelled(call);
      }
    });
    if (config.callTimeout != null) {
      ScheduledFuture<?> timer = supervisor.schedule(() -> onTimeout(call),
          config.callTimeout.toNanos(), TimeUnit.NANOSECONDS);
      call.future.whenComplete((v, e) -> timer.cancel(false));
    }
    dispatch(call);
  }

  private void dispatch(Call call) {
    if (call.isDone()) {
      return;
    }
    WorkerProcess worker;
    synchronized (waiting) {
      if (closed) {
        call.fail(new IllegalStateException("the " + name() + " pool is closed"));
        return;
      }
      worker = leastLoaded();
      if (worker == null) {
        waiting.addLast(call); // every worker is starting or restarting
        return;
      }
    }
    if (!worker.send(call)) {
      dispatch(call); // the worker was retired under it: another takes the call
      return;
    }
    if (config.maxCallsPerWorker > 0 && worker.callsStarted() >= config.maxCallsPerWorker) {
      recycle(worker, "it has been sent " + worker.callsStarted() + " calls");
    }
  }

  private WorkerProcess leastLoaded() {
    WorkerProcess best = null;
    for (WorkerProcess w : workers) {
      if (w.state() == WorkerProcess.State.READY && (best == null || w.inFlight() < best.inFlight())) {
        best = w;
      }
    }
    return best;
  }

  private void drainWaiting() {
    while (true) {
      Call next;
      synchronized (waiting) {
        if (waiting.isEmpty() || leastLoaded() == null) {
          return;
        }
        next = waiting.pollFirst();
      }
      dispatch(next);
    }
  }

  private void failWaiting(RuntimeException cause) {
    List<Call> failed;
    synchronized (waiting) {
      failed = new ArrayList<>(waiting);
      waiting.clear();
    }
    failed.forEach(c -> c.fail(cause));
  }

  private void onTimeout(Call call) {
    if (call.isDone()) {
      return;
    }
    WorkerProcess worker = call.worker();
    if (worker == null) {
      synchronized (waiting) {
        waiting.remove(call);
      }
      call.fail(new WorkerTimeoutException(name(), 0, call.function, config.callTimeout, List.of()));
      return;
    }
    WorkerTimeoutException timeout = new WorkerTimeoutException(name(), worker.pid(),
        call.function, config.callTimeout, worker.tailLines());
    call.fail(timeout);
    worker.killWith(new WorkerCrashedException(name(), worker.pid(),
        "was killed after a call of " + call.function + " exceeded its timeout of "
            + config.callTimeout, null, worker.tailLines(), null));
  }

  private void onCancelled(Call call) {
    WorkerProcess worker = call.worker();
    if (worker == null) {
      synchronized (waiting) {
        waiting.remove(call);
      }
      return;
    }
    if (!worker.owns(call)) {
      return; // already answered
    }
    worker.cancel(call.id());
    supervisor.schedule(() -> {
      if (worker.owns(call)) {
        LOG.warn("{} did not answer the cancel of {} within {}; killing it", worker,
            call.function, config.cancelGrace);
        worker.kill("it did not answer the cancel of " + call.function + " within "
            + config.cancelGrace);
      }
    }, config.cancelGrace.toNanos(), TimeUnit.NANOSECONDS);
  }

  // ---------------------------------------------------------------------------------------------
  // Supervision

  /**
   * Starts a worker and waits for its hello. The process is in {@link #alive} from its spawn on,
   * so that {@link #close()} stops a worker still starting as it stops the others.
   */
  private WorkerProcess startWorker() {
    WorkerProcess worker = WorkerProcess.spawn(config, new Listener(), workerNumbers.incrementAndGet());
    alive.add(worker);
    try {
      if (closed) {
        worker.kill("the pool closed while it started");
      }
      worker.awaitHello();
      return worker;
    } catch (RuntimeException e) {
      alive.remove(worker);
      throw e;
    }
  }

  /** Receives what the workers report. */
  private final class Listener implements WorkerProcess.Listener {
    @Override
    public void onCallFinished(WorkerProcess worker) {
      if (worker.state() == WorkerProcess.State.DRAINING && worker.inFlight() == 0) {
        worker.retire();
      }
    }

    @Override
    public void onDeath(WorkerProcess worker, WorkerCrashedException cause) {
      alive.remove(worker);
      boolean member = workers.remove(worker); // recycled workers left the list already
      if (closed || !member) {
        return;
      }
      LOG.warn("{}", cause.getMessage());
      Duration delay;
      synchronized (WorkerPool.this) {
        youngDeaths = worker.age().compareTo(config.healthyAge) < 0 ? youngDeaths + 1 : 0;
        delay = backoff(youngDeaths);
      }
      replaceAfter(delay);
    }
  }

  private Duration backoff(int failures) {
    if (failures <= 1) {
      return Duration.ZERO;
    }
    long nanos = config.restartBackoff.toNanos() << Math.min(20, failures - 2);
    return Duration.ofNanos(Math.min(nanos, config.maxRestartBackoff.toNanos()));
  }

  private void replaceAfter(Duration delay) {
    startsPending.incrementAndGet();
    supervisor.schedule(() -> {
      try {
        if (closed) {
          return;
        }
        WorkerProcess replacement = startWorker();
        restarts.incrementAndGet();
        if (closed) {
          replacement.kill("the pool closed while it started");
          return;
        }
        workers.add(replacement);
        LOG.info("started {} to replace a worker ({} restarts so far)", replacement,
            restarts.get());
        drainWaiting();
      } catch (RuntimeException e) {
        if (closed) {
          LOG.debug("a {} worker starting as the pool closed was stopped", name(), e);
          return;
        }
        LOG.error("could not start a {} worker; trying again", name(), e);
        if (workers.isEmpty()) {
          failWaiting(e); // nothing could run them: fail rather than leave them hanging
        }
        int failures;
        synchronized (WorkerPool.this) {
          failures = ++youngDeaths;
        }
        replaceAfter(backoff(failures + 1));
      } finally {
        startsPending.decrementAndGet();
      }
    }, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void recycle(WorkerProcess worker, String why) {
    if (worker.state() != WorkerProcess.State.READY || closed) {
      return;
    }
    worker.drain();
    LOG.info("recycling {}: {}", worker, why);
    workers.remove(worker); // no new calls; it finishes its own, then exits (not a death)
    replaceAfter(Duration.ZERO);
    if (worker.inFlight() == 0) {
      worker.retire();
    }
    supervisor.schedule(() -> {
      if (worker.process().isAlive()) {
        worker.kill("it did not exit after being recycled");
      }
    }, config.callTimeout != null ? config.callTimeout.toNanos() + 5_000_000_000L
        : TimeUnit.MINUTES.toNanos(10), TimeUnit.NANOSECONDS);
  }

  private void checkHealth() {
    try {
      for (WorkerProcess worker : workers) {
        if (worker.state() != WorkerProcess.State.READY) {
          continue;
        }
        Duration silent = worker.silence(pingSeq.incrementAndGet());
        if (silent.compareTo(config.pingTimeout) > 0) {
          LOG.warn("{} has been silent for {} (no pong, no frame); replacing it", worker, silent);
          worker.kill("it did not answer a ping within " + config.pingTimeout);
        } else if (config.maxMemoryBytes > 0 && worker.rss() > config.maxMemoryBytes) {
          recycle(worker, "its resident memory " + (worker.rss() >> 20) + " MiB exceeds "
              + (config.maxMemoryBytes >> 20) + " MiB");
        }
      }
    } catch (RuntimeException e) {
      LOG.error("health check of the {} pool failed", name(), e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection and shutdown

  /** Returns the process ids of the live workers. */
  public List<Long> pids() {
    return workers.stream().map(WorkerProcess::pid).toList();
  }

  /**
   * Returns the state of every live worker, including recycled ones finishing their calls: for
   * dashboards and operators.
   */
  public List<WorkerStatus> status() {
    return alive.stream().map(w -> new WorkerStatus(w.pid(), w.state().name(), w.inFlight(),
        w.callsStarted(), w.rss(), w.age())).toList();
  }

  /** Returns how many workers were started to replace dead or recycled ones. */
  public long restarts() {
    return restarts.get();
  }

  /** Returns the number of live workers (starting replacements not counted). */
  public int size() {
    return workers.size();
  }

  /** Returns the {@code hello} of a live worker, as a map (language, version, capabilities…). */
  public Map<String, Object> workerInfo() {
    for (WorkerProcess w : workers) {
      if (w.hello() != null) {
        Map<String, Object> info = new LinkedHashMap<>();
        w.hello().fields().forEachRemaining(e -> info.put(e.getKey(), e.getValue().isTextual()
            ? e.getValue().asText() : e.getValue().toString()));
        return info;
      }
    }
    return Map.of();
  }

  /**
   * Stops the pool: no new calls; waiting calls fail; every worker is asked to exit and killed if
   * it has not within 2 s. Returns when no worker process is left. Idempotent.
   */
  @Override
  public void close() {
    List<Call> abandoned;
    synchronized (waiting) {
      if (closed) {
        return;
      }
      closed = true;
      abandoned = new ArrayList<>(waiting);
      waiting.clear();
    }
    if (healthCheck != null) {
      healthCheck.cancel(false);
    }
    abandoned.forEach(c -> c.fail(new CancellationException("the " + name() + " pool was closed")));
    List<WorkerProcess> all = List.copyOf(alive);
    all.forEach(WorkerProcess::shutdown);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    boolean interrupted = false;
    for (WorkerProcess w : all) {
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!w.process().waitFor(left, TimeUnit.NANOSECONDS)) {
          w.kill("the pool closed");
        }
      } catch (InterruptedException e) {
        interrupted = true; // no more waiting for polite exits, but still for the kills
        deadline = 0;
        w.kill("the pool closed");
      }
    }
    for (WorkerProcess w : all) {
      interrupted |= awaitExitUninterruptibly(w.process(), TimeUnit.SECONDS.toNanos(5));
    }
    supervisor.shutdownNow();
    try {
      supervisor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.clear();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    LOG.info("{} pool closed", name());
  }

  /** Waits for a killed process to be gone; returns whether an interrupt came meanwhile. */
  private static boolean awaitExitUninterruptibly(Process process, long nanos) {
    boolean interrupted = false;
    long deadline = System.nanoTime() + nanos;
    while (true) {
      try {
        process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return interrupted;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
  }

  @Override
  public String toString() {
    return "WorkerPool[" + name() + ", " + workers + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration

  /** An immutable snapshot of a builder. */
  static final class Config {
    final Language language;
    final String interpreter;
    final Path workingDirectory;
    final List<Path> modulePath;
    final List<String> allowedModules;
    final Map<String, String> extraEnvironment;
    final int workers;
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
    final Path runtime;

    private Config(Builder b) {
      language = b.language;
      interpreter = b.interpreter != null ? b.interpreter : language.defaultInterpreter();
      workingDirectory = b.workingDirectory; // null: the JVM's
      modulePath = List.copyOf(b.modulePath);
      allowedModules = List.copyOf(b.allowedModules);
      extraEnvironment = Map.copyOf(b.environment);
      workers = b.workers;
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
      runtime = WorkerRuntime.of(language);
    }

    List<String> command() {
      return language.command(interpreter, runtime, allowedModules, maxFrame);
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

  /**
   * Builds a {@link WorkerPool}. Each setting may be given once (twice is a mistake and throws
   * {@link IllegalStateException}); {@code withModulePath}, {@code withAllowedModules} and {@code
   * withEnvironment} add up. Not thread-safe.
   */
  public static final class Builder {
    private final Language language;
    private String interpreter;
    private Path workingDirectory;
    private final List<Path> modulePath = new ArrayList<>();
    private final List<String> allowedModules = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private int workers = 2;
    private int maxFrame = FrameCodec.DEFAULT_MAX_FRAME;
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private Duration callTimeout;
    private Duration pingInterval = Duration.ofSeconds(5);
    private Duration pingTimeout = Duration.ofSeconds(10);
    private Duration cancelGrace = Duration.ofSeconds(2);
    private Duration restartBackoff = Duration.ofMillis(100);
    private Duration maxRestartBackoff = Duration.ofSeconds(30);
    private long maxCallsPerWorker;
    private long maxMemoryBytes;
    private Duration responseSpin = Duration.ofNanos(100_000);
    private final java.util.Set<String> given = new java.util.HashSet<>();

    private Builder(Language language) {
      this.language = language;
    }

    private void once(String setting) {
      if (!given.add(setting)) {
        throw new IllegalStateException(setting + " was already set");
      }
    }

    /**
     * Sets the interpreter: a path or a command on the PATH (default {@link
     * Language#defaultInterpreter()}). Started directly, never through a shell.
     *
     * @param interpreter e.g. {@code /opt/venv/bin/python}
     * @return this builder
     */
    public Builder withInterpreter(String interpreter) {
      once("interpreter");
      this.interpreter = Objects.requireNonNull(interpreter, "interpreter");
      return this;
    }

    /**
     * Sets the workers' working directory (default: the JVM's).
     *
     * @param directory an existing directory
     * @return this builder
     */
    public Builder withWorkingDirectory(Path directory) {
      once("workingDirectory");
      this.workingDirectory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * Adds directories where task modules are found ({@code PYTHONPATH}, {@code JULIA_LOAD_PATH}).
     *
     * @param directories directories
     * @return this builder
     */
    public Builder withModulePath(Path... directories) {
      for (Path p : directories) {
        modulePath.add(Objects.requireNonNull(p, "directories contains null"));
      }
      return this;
    }

    /**
     * Adds modules whose functions may be called: exact names, or {@code pkg.*} for a package
     * and its submodules. Calls into any other module fail with a {@link RemoteException} of
     * type {@code NotAllowed}, before the module is imported.
     *
     * @param modules module names
     * @return this builder
     */
    public Builder withAllowedModules(String... modules) {
      for (String m : modules) {
        Objects.requireNonNull(m, "modules contains null");
        if (m.isBlank()) {
          throw new IllegalArgumentException("module names must not be blank");
        }
        allowedModules.add(m);
      }
      return this;
    }

    /**
     * Adds an environment variable for the workers (they inherit the JVM's environment).
     *
     * @param name the variable
     * @param value its value
     * @return this builder
     */
    public Builder withEnvironment(String name, String value) {
      environment.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * Sets the number of workers (default 2).
     *
     * @param count at least 1
     * @return this builder
     */
    public Builder withWorkers(int count) {
      once("workers");
      if (count < 1) {
        throw new IllegalArgumentException("workers must be >= 1, was " + count);
      }
      this.workers = count;
      return this;
    }

    /**
     * Sets the timeout of every call (default: none), after which its worker is killed.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder withCallTimeout(Duration timeout) {
      once("callTimeout");
      this.callTimeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * Sets how often workers are pinged (default 5 s) and how long an answer may take (10 s).
     *
     * @param interval between pings, positive
     * @param timeout after which a silent worker is replaced, positive
     * @return this builder
     */
    public Builder withHealthCheck(Duration interval, Duration timeout) {
      once("healthCheck");
      this.pingInterval = positive(interval, "interval");
      this.pingTimeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * Sets how long a worker may take to answer a cancel before it is killed (default 2 s).
     *
     * @param grace positive
     * @return this builder
     */
    public Builder withCancelGrace(Duration grace) {
      once("cancelGrace");
      this.cancelGrace = positive(grace, "grace");
      return this;
    }

    /**
     * Sets how long a worker may take to start and greet (default 10 s).
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder withHandshakeTimeout(Duration timeout) {
      once("handshakeTimeout");
      this.handshakeTimeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * Sets the restart backoff: replacements of workers that keep dying young wait {@code
     * initial}, doubling up to {@code max} (defaults 100 ms and 30 s). The first replacement
     * starts at once.
     *
     * @param initial positive
     * @param max at least {@code initial}
     * @return this builder
     */
    public Builder withRestartBackoff(Duration initial, Duration max) {
      once("restartBackoff");
      this.restartBackoff = positive(initial, "initial");
      this.maxRestartBackoff = positive(max, "max");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("max must be >= initial");
      }
      return this;
    }

    /**
     * Recycles a worker after it has started {@code calls} calls (default: never).
     *
     * @param calls at least 1
     * @return this builder
     */
    public Builder withMaxCallsPerWorker(long calls) {
      once("maxCallsPerWorker");
      if (calls < 1) {
        throw new IllegalArgumentException("calls must be >= 1, was " + calls);
      }
      this.maxCallsPerWorker = calls;
      return this;
    }

    /**
     * Recycles a worker whose resident memory (reported with each pong) exceeds {@code bytes}
     * (default: never).
     *
     * @param bytes positive
     * @return this builder
     */
    public Builder withMaxMemory(long bytes) {
      once("maxMemory");
      if (bytes < 1) {
        throw new IllegalArgumentException("bytes must be positive, was " + bytes);
      }
      this.maxMemoryBytes = bytes;
      return this;
    }

    /**
     * Sets how long a worker's reader polls for an answer before it blocks, while calls are in
     * flight (default 100 µs; zero never polls). Polling keeps small calls fast where waking a
     * blocked thread is slow (virtual machines), at the cost of up to this much CPU time per
     * answer.
     *
     * @param spin zero or positive
     * @return this builder
     */
    public Builder withResponseSpin(Duration spin) {
      once("responseSpin");
      Objects.requireNonNull(spin, "spin");
      if (spin.isNegative()) {
        throw new IllegalArgumentException("spin must not be negative, was " + spin);
      }
      this.responseSpin = spin;
      return this;
    }

    /**
     * Sets the largest frame accepted from and sent to workers (default 1 GiB); checked before
     * anything is allocated.
     *
     * @param bytes at least 1024
     * @return this builder
     */
    public Builder withMaxFrame(int bytes) {
      once("maxFrame");
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxFrame must be >= 1024, was " + bytes);
      }
      this.maxFrame = bytes;
      return this;
    }

    /**
     * Starts the workers and returns the pool once every one has greeted.
     *
     * @return the pool
     * @throws WorkerStartException if a worker cannot start (none is left running)
     */
    public WorkerPool build() {
      if (allowedModules.isEmpty()) {
        throw new IllegalStateException("no allowed modules: call withAllowedModules(...)");
      }
      return new WorkerPool(new Config(this));
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }
  }
}
