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
    java.util.concurrent.ScheduledThreadPoolExecutor scheduler =
        new java.util.concurrent.ScheduledThreadPoolExecutor(2, r -> Thread.ofPlatform().daemon()
            .name("open-" + config.language.id() + "-supervisor").unstarted(r));
    scheduler.setRemoveOnCancelPolicy(true); // a call's timer, cancelled, lets go of the call
    this.supervisor = scheduler;
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
    starts.forEach(s -> addMember(s.join()));
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
    submit(call);
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
    return new Call(function, args, kwargs, stream, config.maxFrame);
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
      call.settled(); // a cancelled call's timer too
      if (call.future.isCancelled()) {
        onCancelled(call);
      }
    });
    dispatch(call);
  }

  /**
   * Sends a call to the least loaded worker with room, or queues it behind the calls already
   * waiting: calls start in the order they were made.
   */
  private void dispatch(Call call) {
    while (!call.isDone()) {
      WorkerProcess worker;
      synchronized (waiting) {
        worker = closed ? null : waiting.isEmpty() ? reserveWorker() : null;
        if (worker == null && !closed) {
          waiting.addLast(call);
          return;
        }
      }
      if (worker == null) { // closed; failed outside the lock, which its callbacks must not hold
        call.fail(new IllegalStateException("the " + name() + " pool is closed"));
        return;
      }
      if (worker.send(call)) {
        recycleIfDue(worker);
        return;
      }
      // The worker was retired or died under it before the call went out: choose again.
    }
  }

  /** Reserves room on the least loaded ready worker; call holding the queue's lock. */
  private WorkerProcess reserveWorker() {
    while (true) {
      WorkerProcess best = null;
      for (WorkerProcess w : workers) {
        if (w.state() == WorkerProcess.State.READY
            && w.inFlight() < 1 + w.prefetch(config.prefetch)
            && (best == null || w.inFlight() < best.inFlight())) {
          best = w;
        }
      }
      if (best == null || best.reserve(1 + best.prefetch(config.prefetch))) {
        return best;
      }
    }
  }

  /** Sends waiting calls while workers have room. Never on a reader thread: sends may block. */
  private void drainWaiting() {
    while (true) {
      Call next;
      WorkerProcess worker;
      synchronized (waiting) {
        if (waiting.isEmpty() || closed) {
          return;
        }
        worker = reserveWorker();
        if (worker == null) {
          return;
        }
        next = waiting.pollFirst();
      }
      if (worker.send(next)) {
        recycleIfDue(worker);
      } else {
        boolean poolClosed;
        synchronized (waiting) {
          poolClosed = closed;
          if (!poolClosed) {
            waiting.addFirst(next);
          }
        }
        if (poolClosed) { // close() has emptied the queue already: nothing would take it again
          next.fail(new CancellationException("the " + name() + " pool was closed"));
        }
      }
    }
  }

  /** Drains the queue on a virtual thread, if anything waits. */
  private void drainSoon() {
    boolean any;
    synchronized (waiting) {
      any = !waiting.isEmpty();
    }
    if (any) {
      Thread.ofVirtual().name("open-" + name() + "-dispatch").start(this::drainWaiting);
    }
  }

  private void recycleIfDue(WorkerProcess worker) {
    if (config.maxCallsPerWorker > 0 && worker.callsStarted() >= config.maxCallsPerWorker) {
      recycle(worker, "it has been sent " + worker.callsStarted() + " calls");
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

  /** A call's timeout: it counts from when the call starts on a worker. */
  private void onTimeout(WorkerProcess worker, Call call) {
    if (call.isDone()) {
      return;
    }
    // Killed only if the call is still the one running: one that ended just now is not timed
    // out, and the call that started after it is not to blame.
    worker.killIfRunning(call, new WorkerTimeoutException(name(), worker.pid(), call.function,
        config.callTimeout, worker.tailLines()), new WorkerCrashedException(name(), worker.pid(),
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
      return; // already answered, or handed back to the queue, where it is dropped
    }
    worker.cancel(call.id());
    if (worker.running() == call) {
      awaitCancel(worker, call);
    } // else it is queued on the worker, which drops it; if it starts first, onCallStarted waits
  }

  /**
   * Kills the worker if its running call, cancelled, has not ended within the cancel grace. Only
   * a running call is waited for: a worker busy with another call may take long to drop a queued
   * one, and is not to blame.
   */
  private void awaitCancel(WorkerProcess worker, Call call) {
    supervisor.schedule(() -> {
      String why = "it did not answer the cancel of " + call.function + " within "
          + config.cancelGrace;
      if (worker.killIfRunning(call, null, new WorkerCrashedException(name(), worker.pid(),
          "was killed: " + why, null, worker.tailLines(), null))) {
        LOG.warn("{} did not answer the cancel of {} within {}; killed it", worker,
            call.function, config.cancelGrace);
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
    public void onCallStarted(WorkerProcess worker, Call call) {
      if (config.callTimeout != null) {
        call.armTimer(supervisor.schedule(() -> onTimeout(worker, call),
            config.callTimeout.toNanos(), TimeUnit.NANOSECONDS));
      }
      if (call.isDone()) { // cancelled while queued on the worker, which should drop it at once
        awaitCancel(worker, call);
      }
    }

    @Override
    public void onCallFinished(WorkerProcess worker) {
      if (worker.state() == WorkerProcess.State.DRAINING && worker.inFlight() == 0) {
        worker.retire();
      }
      drainSoon();
    }

    @Override
    public void onAbandoned(WorkerProcess worker, Call call) {
      worker.cancel(call.id());
      if (worker.running() == call) {
        awaitCancel(worker, call);
      }
    }

    @Override
    public void onDeath(WorkerProcess worker, WorkerCrashedException cause, List<Call> unstarted) {
      alive.remove(worker);
      boolean member = workers.remove(worker); // recycled workers left the list already
      boolean poolClosed;
      synchronized (waiting) { // decided under the lock that close() empties the queue with
        poolClosed = closed;
        if (!poolClosed) {
          for (int i = unstarted.size() - 1; i >= 0; i--) {
            waiting.addFirst(unstarted.get(i)); // first in line again, in their order
          }
        }
      }
      if (poolClosed) {
        unstarted.forEach(c -> c.fail(new CancellationException("the " + name()
            + " pool was closed")));
        return;
      }
      if (!unstarted.isEmpty()) {
        LOG.debug("{} calls that {} held but had not started go to other workers",
            unstarted.size(), worker);
      }
      if (member) {
        LOG.warn("{}", cause.getMessage());
        Duration delay;
        synchronized (WorkerPool.this) {
          youngDeaths = worker.age().compareTo(config.healthyAge) < 0 ? youngDeaths + 1 : 0;
          delay = backoff(youngDeaths);
        }
        replaceAfter(delay);
      }
      drainSoon();
    }
  }

  /**
   * Makes a started worker a member. One that died between its hello and now was no member when
   * its death was reported, so nobody replaced it: replace it here.
   */
  private void addMember(WorkerProcess worker) {
    workers.add(worker);
    if (worker.state() == WorkerProcess.State.DEAD && workers.remove(worker) && !closed) {
      replaceAfter(backoff(1));
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
        addMember(replacement);
        LOG.info("started {} to replace a worker ({} restarts so far)", replacement,
            restarts.get());
        drainSoon();
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
    // Only the one that drains it, and finds it still a member, replaces it: a recycle racing
    // another, or the worker's death, must not start a second replacement.
    if (closed || !worker.drain() || !workers.remove(worker)) {
      return;
    }
    LOG.info("recycling {}: {}", worker, why); // no new calls; it finishes its own, then exits
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
      for (WorkerProcess worker : alive) {
        WorkerProcess.State state = worker.state();
        if (worker.killedButNotDead(config.pingTimeout)) {
          // Killed, yet neither its exit nor the end of its output came: end it here.
          Thread.ofVirtual().name("open-" + name() + "-reaper").start(worker::forceDeath);
          continue;
        }
        if (state != WorkerProcess.State.READY && state != WorkerProcess.State.DRAINING) {
          continue;
        }
        String slow = worker.frameTooSlow(config.pingTimeout, config.minFrameRate);
        if (slow != null) {
          LOG.warn("{}: {}; replacing it", worker, slow);
          worker.kill(slow);
          continue;
        }
        if (worker.waitsForConsumer()) {
          continue; // the host stopped reading, for a stream's consumer: the worker is not silent
        }
        Duration silent = worker.silence(pingSeq.incrementAndGet());
        if (silent.compareTo(config.pingTimeout) > 0) {
          LOG.warn("{} has been silent for {} (no pong, no frame); replacing it", worker, silent);
          worker.kill("it did not answer a ping within " + config.pingTimeout);
        } else if (state == WorkerProcess.State.READY && config.maxMemoryBytes > 0
            && worker.rss() > config.maxMemoryBytes) {
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

    private Config(Builder b) {
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
    }

    List<String> command() {
      return language.command(interpreter, runtime, allowedModules, maxFrame, attributePaths);
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
   * {@link IllegalStateException} naming the first value); {@code withModulePath}, {@code
   * withAllowedModules} and {@code withEnvironment} add up. Not thread-safe.
   */
  public static final class Builder {
    private final Language language;
    private String interpreter;
    private Path workingDirectory;
    private final List<Path> modulePath = new ArrayList<>();
    private final List<String> allowedModules = new ArrayList<>();
    private boolean attributePaths;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private int workers = 2;
    private int prefetch = 4;
    private long minFrameRate = 1 << 20;
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
    private java.util.function.Consumer<String> stderrSink;
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
