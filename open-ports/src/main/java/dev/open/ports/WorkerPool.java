package dev.open.ports;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.open.dag.FunctionRef;
import dev.open.dag.array.DType;
import dev.open.dag.array.NDArray;
import dev.open.dag.spi.Backend;
import dev.open.dag.spi.Invocation;
import dev.open.ports.internal.protocol.FrameCodec;

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
 *   <li>dispatch: calls wait in the pool's queue, in order, until a ready worker has room: a
 *       worker holds its running call and at most {@code prefetch} more (default 4) while its
 *       calls are short (under 1 ms on average), one more when they are longer, so that its next
 *       call is at hand when one ends; the least loaded worker takes the next call;
 *   <li>health: every ping interval each worker is pinged; one that has been silent (no pong,
 *       no byte of any frame) for the ping timeout is killed and replaced, and so is one whose
 *       frame arrives more slowly than the minimum frame rate (1 MiB/s after the ping timeout);
 *   <li>restart: a dead worker is replaced at once, then with exponential backoff while
 *       replacements keep dying young;
 *   <li>recycling: a worker that has started {@code maxCallsPerWorker} calls, or reports more
 *       resident memory than {@code maxMemory}, stops taking calls, finishes its own and exits;
 *   <li>timeouts: a call running longer than its timeout (counted from when it starts on a
 *       worker) fails with {@link WorkerTimeoutException} and its worker is killed, never reused;
 *   <li>exact blame: when a worker dies (a crash, a kill, a timeout, a protocol error, a failed
 *       recycle) only the call it was running fails, with {@link WorkerCrashedException} (exit
 *       status or signal, last stderr lines) or the subclass that says why; the calls it held
 *       that had not started go back to the queue and run on another worker, unseen by their
 *       callers. A retry policy can send the failed call again;
 *   <li>cancellation: cancelling a call's future sends {@code cancel}; a worker that has not
 *       answered within the cancel grace period is killed;
 *   <li>shutdown: {@link #close()} asks every worker to exit, then kills those that do not; a JVM
 *       shutdown hook kills any left, and workers exit by themselves when their stdin closes.
 * </ul>
 *
 * <p>Defaults: {@link Language#defaultInterpreter()}, the JVM's working directory, 2 workers, a
 * prefetch of 4 (1 for calls over 1 ms), no call timeout, ping every 5 s with a 10 s timeout, frames at 1 MiB/s at least,
 * 2 s cancel grace, a 10 s handshake timeout, frames up to 1 GiB, no recycling. Thread-safe.
 */
public final class WorkerPool implements Backend, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

  /** Arrays of at least this many bytes travel through shared memory unless set otherwise. */
  public static final long DEFAULT_SHARED_MEMORY_THRESHOLD = 1 << 20;

  private final PoolConfig config;
  /**
   * One scheduler for both halves of the pool: the supervisor's starts, health checks and
   * recycle deadlines, the dispatcher's call timeouts and cancel graces. Shut down by close().
   */
  private final ScheduledExecutorService scheduler;
  private final Supervisor supervisor;
  private final Dispatcher dispatcher;
  private final LongAdder callsStarted = new LongAdder();

  private WorkerPool(PoolConfig config) {
    this.config = config;
    java.util.concurrent.ScheduledThreadPoolExecutor threads =
        new java.util.concurrent.ScheduledThreadPoolExecutor(2, r -> Thread.ofPlatform().daemon()
            .name("open-" + config.language.id() + "-supervisor").unstarted(r));
    threads.setRemoveOnCancelPolicy(true); // a call's timer, cancelled, lets go of the call
    this.scheduler = threads;
    // The two halves know each other: the dispatcher chooses among the supervisor's members,
    // the supervisor learns of the dispatcher when it starts the first worker, before any
    // worker can report anything.
    this.supervisor = new Supervisor(config, scheduler, new WorkerEvents());
    this.dispatcher = new Dispatcher(config, scheduler, supervisor);
    List<WorkerProcess> started;
    try {
      started = supervisor.warmStart(dispatcher);
    } catch (RuntimeException e) {
      close();
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw cause instanceof WorkerStartException w ? w : new WorkerStartException(
          config.language.id(), 0, "the pool could not start: " + cause, cause);
    }
    supervisor.supervise(started);
    LOG.info("{} pool started: {} workers (pids {})", config.language.id(), size(), pids());
  }

  /** {@return a builder for a pool of Python workers} */
  public static Builder python() {
    return new Builder(Language.PYTHON);
  }

  /** {@return a builder for a pool of Julia workers} */
  public static Builder julia() {
    return new Builder(Language.JULIA);
  }

  @Override
  public String name() {
    return config.language.id();
  }

  /**
   * Returns the SHA-256 (first 16 hex digits) of the source file of {@code function}'s module as
   * found on the pool's module path now — {@code pkg/mod/__init__.py} or {@code pkg/mod.py} for
   * Python (its own order), {@code Mod.jl} or {@code Mod/src/Mod.jl} for Julia — so that editing
   * the module changes the keys of the nodes that call it in a result store. Only that file
   * counts: a change in a module it imports does not (declare a node version for that). Empty
   * when the module is not on the module path (an installed package); {@code "unreadable"} when
   * it is there but cannot be read. Workers import a module once: after editing one, restart the
   * pool, or its workers run the old code under the new code's keys.
   */
  @Override
  public String codeIdentity(String function) {
    int colon = function.indexOf(':');
    String module = colon < 0 ? function : function.substring(0, colon);
    for (Path root : config.modulePath) {
      for (Path candidate : config.language.sourceFiles(root, module)) {
        if (Files.isRegularFile(candidate)) {
          try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(candidate));
            return HexFormat.of().formatHex(sha).substring(0, 16);
          } catch (IOException | NoSuchAlgorithmException e) {
            return "unreadable";
          }
        }
      }
    }
    return "";
  }

  /**
   * Returns a reference to a worker function for {@link dev.open.dag.DagBuilder#call}.
   *
   * @param function {@code "module:function"}, in an allowed module
   * @param resultType the Java type of its results (see <a
   *     href="package-summary.html#values">Values</a>)
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
   * @param args the arguments (see <a href="package-summary.html#values">Values</a> for the types)
   * @return the result: a value, or the list of chunks when the function yielded them (at most
   *     the frame limit's worth of chunk frames: beyond it the call fails with a {@link
   *     WorkerException} and is cancelled; use {@link #stream} for more); failing with {@link
   *     RemoteException}, {@link WorkerCrashedException} or {@link WorkerTimeoutException};
   *     cancelling it cancels the call
   * @throws IllegalArgumentException if an argument has no protocol form or breaks one of the
   *     protocol's limits (nesting, number digits, buffers, frame size): no worker sees the call
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
   * @throws IllegalArgumentException as {@link #call(String, Object...)}
   */
  public CompletableFuture<Object> call(String function, List<?> args, Map<String, ?> kwargs) {
    Call call = newCall(function, args, kwargs, null);
    dispatcher.submit(call);
    return call.future;
  }

  /**
   * Calls a function that yields results and returns them as they arrive.
   *
   * @param function {@code "module:function"}, a generator function (or any function)
   * @param args positional arguments
   * @return the results, with backpressure (see {@link CallStream}); close it to cancel the call
   *     early, and in any case, so that a consumer that stops reading lets the worker go
   * @throws IllegalArgumentException as {@link #call(String, Object...)}
   */
  public CallStream stream(String function, Object... args) {
    CallStream stream = new CallStream();
    Call call = newCall(function, Arrays.asList(args), Map.of(), stream);
    stream.attach(call);
    dispatcher.submit(call);
    return stream;
  }

  @Override
  public CompletableFuture<?> invoke(Invocation invocation) {
    Call call = newCall(invocation.function(), invocation.arguments(), Map.of(), null);
    call.placement = invocation::placedOn; // the DAG hears which worker runs it
    dispatcher.submit(call);
    CompletableFuture<Object> result = call.future;
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
    return new Call(function, args, kwargs, stream, config.maxFrame,
        config.segments == null ? null : config.segments.staging());
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
  // What workers report

  /**
   * Routes what the workers report: a call's start and abandonment to the dispatcher, a worker's
   * life to the supervisor, and what concerns both in a fixed order. Called on a worker's reader
   * thread, on whatever thread ends a worker (its death), or on the thread sending a call, which
   * may hold that worker's write lock ({@code onCallStarted}, and {@code onCallFinished} for a
   * call that could not be encoded); never under the dispatcher's or the supervisor's lock.
   * Must not block.
   */
  private final class WorkerEvents implements WorkerProcess.Listener {
    @Override
    public void onCallStarted(WorkerProcess worker, Call call) {
      callsStarted.increment();
      Consumer<String> placement = call.placement;
      if (placement != null) {
        try {
          placement.accept("pid " + worker.pid());
        } catch (RuntimeException e) { // a listener's: the call goes on regardless
          LOG.debug("could not report where call {} runs", call.function, e);
        }
      }
      dispatcher.onCallStarted(worker, call);
    }

    @Override
    public void onCallFinished(WorkerProcess worker) {
      supervisor.onCallFinished(worker);
      dispatcher.drainSoon();
    }

    @Override
    public void onAbandoned(WorkerProcess worker, Call call) {
      dispatcher.onAbandoned(worker, call);
    }

    /**
     * The supervisor forgets the worker first (whether it was a member decides whether it is
     * replaced); its unstarted calls go back to the queue, or fail if the pool closed, and then
     * nothing is replaced; otherwise a member is replaced, and the queue drained.
     */
    @Override
    public void onDeath(WorkerProcess worker, WorkerCrashedException cause, List<Call> unstarted) {
      boolean member = supervisor.forget(worker);
      if (config.segments != null) {
        config.segments.workerGone(worker.pid());
      }
      if (!dispatcher.requeue(worker, unstarted)) {
        return;
      }
      if (member) {
        supervisor.replace(worker, cause);
      }
      dispatcher.drainSoon();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection and shutdown

  /**
   * Allocates a zeroed array, in C order, that this pool's workers receive without a copy: its
   * memory is a shared-memory segment, which a worker maps read-only. Without shared memory
   * (turned off, or not Linux) it is an ordinary {@link NDArray#allocate} array.
   *
   * <p>The array is shared, not copied: a worker sees what the host last wrote when it reads
   * it, and a task that returns it (or a slice of it) returns the same memory, as {@code
   * return a} does in NumPy. Its segment is deleted when the array is garbage or the pool
   * closes; an array outliving its pool stays valid, but travels by copy.
   *
   * @param dtype the element type
   * @param shape the dimensions
   * @return the array
   */
  public NDArray allocateShared(DType dtype, int... shape) {
    Objects.requireNonNull(dtype, "dtype");
    return config.segments == null ? NDArray.allocate(dtype, shape)
        : config.segments.allocate(dtype, shape);
  }

  /**
   * {@return the directory of this pool's shared-memory segments, or empty when it uses none
   * (for operators and leak checks: it holds a file per array in flight or shared)}
   */
  public Optional<Path> sharedMemoryDirectory() {
    return Optional.ofNullable(config.segments).map(SharedSegments::directory);
  }

  /** {@return the process ids of the live workers} */
  public List<Long> pids() {
    return supervisor.members().stream().map(WorkerProcess::pid).toList();
  }

  /**
   * {@return the state of every live worker, including recycled ones finishing their calls: for
   * dashboards and operators}
   */
  public List<WorkerStatus> status() {
    return supervisor.alive().stream().map(w -> new WorkerStatus(w.pid(), w.state().name(),
        w.inFlight(), w.callsStarted(), w.rss(), w.age())).toList();
  }

  /** {@return how many workers were started to replace dead or recycled ones} */
  public long restarts() {
    return supervisor.restarts();
  }

  /**
   * {@return how many calls started running on a worker of this pool: a call run again, on a
   * replacement or as a retry, counts again}
   */
  public long callsStarted() {
    return callsStarted.sum();
  }

  /** {@return the number of workers the pool keeps (its configured size)} */
  public int configuredSize() {
    return config.workers;
  }

  /** {@return the number of live workers (starting replacements not counted)} */
  public int size() {
    return supervisor.members().size();
  }

  /** {@return the {@code hello} of a live worker, as a map (language, version, capabilities…)} */
  public Map<String, Object> workerInfo() {
    for (WorkerProcess w : supervisor.members()) {
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
    List<Call> abandoned = dispatcher.close();
    if (abandoned == null) {
      return; // closed already
    }
    supervisor.stopHealthCheck();
    abandoned.forEach(c -> c.fail(new CancellationException("the " + name() + " pool was closed")));
    boolean interrupted = supervisor.stopWorkers();
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    supervisor.forgetMembers();
    if (config.segments != null) {
      config.segments.close();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    LOG.info("{} pool closed", name());
  }

  @Override
  public String toString() {
    return "WorkerPool[" + name() + ", " + supervisor.members() + "]";
  }

  /**
   * Builds a {@link WorkerPool}. Each setting may be given once (twice is a mistake and throws
   * {@link IllegalStateException} naming the first value); {@code withModulePath}, {@code
   * withAllowedModules} and {@code withEnvironment} add up. Not thread-safe.
   */
  public static final class Builder {
    // The settings are package-private for PoolConfig, which snapshots them in build().
    final Language language;
    String interpreter;
    Path workingDirectory;
    final List<Path> modulePath = new ArrayList<>();
    final List<String> allowedModules = new ArrayList<>();
    boolean attributePaths;
    final Map<String, String> environment = new LinkedHashMap<>();
    int workers = 2;
    int prefetch = 4;
    long minFrameRate = 1 << 20;
    int maxFrame = FrameCodec.DEFAULT_MAX_FRAME;
    Duration handshakeTimeout = Duration.ofSeconds(10);
    Duration callTimeout;
    Duration pingInterval = Duration.ofSeconds(5);
    Duration pingTimeout = Duration.ofSeconds(10);
    Duration cancelGrace = Duration.ofSeconds(2);
    Duration restartBackoff = Duration.ofMillis(100);
    Duration maxRestartBackoff = Duration.ofSeconds(30);
    long maxCallsPerWorker;
    long maxMemoryBytes;
    Duration responseSpin = Duration.ofNanos(100_000);
    boolean sharedMemory = true;
    long sharedMemoryThreshold = DEFAULT_SHARED_MEMORY_THRESHOLD;
    java.util.function.Consumer<String> stderrSink;
    private final Map<String, Object> given = new java.util.HashMap<>();

    private Builder(Language language) {
      this.language = language;
    }

    private void once(String setting, Object value) {
      Object first = given.putIfAbsent(setting, value);
      if (first != null) {
        throw new IllegalStateException(setting + " was already set to " + first);
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
      once("interpreter", interpreter);
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
      once("workingDirectory", directory);
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
     * Lets calls name functions by an attribute path through a class or object of an allowed
     * module ({@code "models:Forest.fit"}, {@code "models:REGISTRY.run"}); by default only a
     * module's own top-level functions and classes can be called ({@code "models:fit"}). Either
     * way, what is finally called must be defined in an allowed module: a function a module
     * merely imported ({@code from shutil import rmtree}) or a method of a built-in type
     * ({@code dict.update}) never is.
     *
     * @return this builder
     */
    public Builder withAttributePaths() {
      once("attributePaths", true);
      this.attributePaths = true;
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
      once("workers", count);
      if (count < 1) {
        throw new IllegalArgumentException("workers must be >= 1, was " + count);
      }
      this.workers = count;
      return this;
    }

    /**
     * Sets how many calls a worker holds besides the one it runs while its calls are short
     * (default 4). A worker that has its next call at hand when one ends starts it without
     * waiting for the host, which matters when a call takes about as long as the host's hand-off
     * between two calls (tens of microseconds); a worker whose calls take over 1 ms on average
     * holds at most one more, since there prefetching gains nothing and only makes calls wait
     * behind a slow one. When a worker dies, the calls it held but had not started run on
     * another worker: they are never lost.
     *
     * @param calls zero or more
     * @return this builder
     */
    public Builder withPrefetch(int calls) {
      once("prefetch", calls);
      if (calls < 0) {
        throw new IllegalArgumentException("prefetch must be >= 0, was " + calls);
      }
      this.prefetch = calls;
      return this;
    }

    /**
     * Sets the slowest a frame from a worker may arrive once it has begun (default 1 MiB/s,
     * after a first ping timeout): a worker writes each frame whole, so one that trickles or
     * stalls inside a frame is hung, and is killed and replaced.
     *
     * @param bytesPerSecond positive
     * @return this builder
     */
    public Builder withMinFrameRate(long bytesPerSecond) {
      once("minFrameRate", bytesPerSecond);
      if (bytesPerSecond < 1) {
        throw new IllegalArgumentException("bytesPerSecond must be positive, was "
            + bytesPerSecond);
      }
      this.minFrameRate = bytesPerSecond;
      return this;
    }

    /**
     * Sets the timeout of every call (default: none), counted from when the call starts on a
     * worker; a call over it fails with {@link WorkerTimeoutException} and its worker is killed.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder withCallTimeout(Duration timeout) {
      once("callTimeout", timeout);
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
      once("healthCheck", interval + " / " + timeout);
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
      once("cancelGrace", grace);
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
      once("handshakeTimeout", timeout);
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
      once("restartBackoff", initial + " / " + max);
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
      once("maxCallsPerWorker", calls);
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
      once("maxMemory", bytes);
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
      once("responseSpin", spin);
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
      once("maxFrame", bytes);
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxFrame must be >= 1024, was " + bytes);
      }
      this.maxFrame = bytes;
      return this;
    }

    /**
     * Turns shared memory for large arrays on or off (default on where the system has it: Linux
     * with a writable {@code /dev/shm}). With it, an {@link NDArray} argument or result of at
     * least {@link #withSharedMemoryThreshold the threshold} travels through a file on a memory
     * file system instead of the pipe (docs/ports.md, "Large arrays"); without it, or elsewhere, every array
     * is copied through the pipe.
     *
     * @param enabled whether to use shared memory when the system has it
     * @return this builder
     */
    public Builder withSharedMemory(boolean enabled) {
      once("sharedMemory", enabled);
      this.sharedMemory = enabled;
      return this;
    }

    /**
     * Sets the size from which arrays travel through shared memory (default {@value
     * #DEFAULT_SHARED_MEMORY_THRESHOLD} bytes, measured: below it the pipe is as fast).
     *
     * @param bytes at least 1
     * @return this builder
     */
    public Builder withSharedMemoryThreshold(long bytes) {
      once("sharedMemoryThreshold", bytes);
      if (bytes < 1) {
        throw new IllegalArgumentException("the threshold must be at least 1 byte, was " + bytes);
      }
      this.sharedMemoryThreshold = bytes;
      return this;
    }

    /** Hands every stderr line of the workers to {@code sink} before it is logged (tests). */
    Builder withStderrSink(java.util.function.Consumer<String> sink) {
      this.stderrSink = Objects.requireNonNull(sink, "sink");
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
      return new WorkerPool(new PoolConfig(this));
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
