package dev.open.ports;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's worker processes over their lives: the warm start, replacing dead workers (at once,
 * then with exponential backoff while replacements die young), the health check that pings
 * workers and kills silent, trickling or unreaped ones, recycling after too many calls or too
 * much memory, and stopping every process when the pool closes.
 *
 * <p><b>State.</b> {@link #members} are the workers taking calls, {@link #alive} every process
 * alive, including recycled ones finishing their calls and workers still starting; both are
 * concurrent collections, read without a lock (the dispatcher iterates the members under its
 * own lock). Its one lock, its monitor, guards {@link #youngDeaths} alone; nothing else is
 * taken under it.
 *
 * <p><b>Talks to.</b> The {@link Dispatcher}, given at {@link #warmStart}: whether the pool is
 * closed (no worker is started or replaced after), {@link Dispatcher#drainSoon()} once a
 * replacement joins, and {@link Dispatcher#failWaiting} when no worker can be started at all.
 * The dispatcher calls {@link #recycleIfDue} after each send. Workers report to the pool's
 * listener, which hands their deaths here ({@link #forget}, then {@link #replace}) and each
 * finished call ({@link #onCallFinished}). Its timers (starts, health checks, recycle
 * deadlines) run on the scheduler it shares with the dispatcher.
 */
final class Supervisor {
  /** The pool's logger: what users configure to see the pool's decisions. */
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

  private final PoolConfig config;
  private final String name;
  /** Runs starts, health checks and recycle deadlines; shared with the dispatcher. */
  private final ScheduledExecutorService scheduler;
  /** What every worker reports to: the pool's, which routes it here and to the dispatcher. */
  private final WorkerProcess.Listener listener;
  /** The workers taking calls. */
  private final List<WorkerProcess> members = new CopyOnWriteArrayList<>();
  /** Every worker process alive, including recycled ones finishing their calls. */
  private final Set<WorkerProcess> alive = ConcurrentHashMap.newKeySet();
  private final AtomicInteger workerNumbers = new AtomicInteger();
  private final AtomicLong pingSeq = new AtomicLong();
  private final AtomicLong restarts = new AtomicLong();
  /** Replacements in a row that died young; guarded by this supervisor's monitor. */
  private int youngDeaths;
  /** Set once by {@link #warmStart}, before any worker or timer of this supervisor exists. */
  private Dispatcher dispatcher;
  /** Set by {@link #supervise}; read by {@link #stopHealthCheck} on any thread. */
  private volatile ScheduledFuture<?> healthCheck;

  Supervisor(PoolConfig config, ScheduledExecutorService scheduler,
      WorkerProcess.Listener listener) {
    this.config = config;
    this.name = config.language.id();
    this.scheduler = scheduler;
    this.listener = listener;
  }

  /**
   * Starts the pool's workers together and waits for every hello.
   *
   * @return the started workers, for {@link #supervise}
   * @throws RuntimeException (a {@link java.util.concurrent.CompletionException}) if one could
   *     not start; the caller closes the pool, which stops the others
   */
  List<WorkerProcess> warmStart(Dispatcher dispatcher) {
    this.dispatcher = dispatcher;
    List<CompletableFuture<WorkerProcess>> starts = new ArrayList<>();
    for (int i = 0; i < config.workers; i++) {
      starts.add(CompletableFuture.supplyAsync(this::startWorker, scheduler));
    }
    CompletableFuture.allOf(starts.toArray(new CompletableFuture<?>[0])).join();
    return starts.stream().map(CompletableFuture::join).toList();
  }

  /** Makes the warm-started workers members and starts the health check. */
  void supervise(List<WorkerProcess> started) {
    started.forEach(this::addMember);
    long interval = config.pingInterval.toNanos();
    this.healthCheck = scheduler.scheduleWithFixedDelay(this::checkHealth, interval, interval,
        TimeUnit.NANOSECONDS);
  }

  /**
   * The workers taking calls: the live list, for reading only (the supervisor alone adds and
   * removes); a copy-on-write list, so iterating it takes a snapshot and no lock.
   */
  List<WorkerProcess> members() {
    return members;
  }

  /** Every worker process alive, including recycled ones finishing their calls. */
  Set<WorkerProcess> alive() {
    return alive;
  }

  long restarts() {
    return restarts.get();
  }

  /**
   * Starts a worker and waits for its hello. The process is in {@link #alive} from its spawn on,
   * so that closing the pool stops a worker still starting as it stops the others.
   */
  private WorkerProcess startWorker() {
    WorkerProcess worker = WorkerProcess.spawn(config, listener, workerNumbers.incrementAndGet());
    alive.add(worker);
    try {
      if (dispatcher.isClosed()) {
        worker.kill("the pool closed while it started");
      }
      worker.awaitHello();
      return worker;
    } catch (RuntimeException e) {
      alive.remove(worker);
      throw e;
    }
  }

  /** A call of {@code worker} finished: a draining worker with no call left exits. */
  void onCallFinished(WorkerProcess worker) {
    if (worker.state() == WorkerProcess.State.DRAINING && worker.inFlight() == 0) {
      worker.retire();
    }
  }

  /**
   * Forgets a dead worker.
   *
   * @return whether it was a member (recycled workers left the members already), which {@link
   *     #replace} then replaces
   */
  boolean forget(WorkerProcess worker) {
    alive.remove(worker);
    return members.remove(worker); // recycled workers left the list already
  }

  /** Replaces a member that died: at once, or after a backoff while replacements die young. */
  void replace(WorkerProcess worker, WorkerCrashedException cause) {
    LOG.warn("{}", cause.getMessage());
    Duration delay;
    synchronized (this) {
      youngDeaths = worker.age().compareTo(config.healthyAge) < 0 ? youngDeaths + 1 : 0;
      delay = backoff(youngDeaths);
    }
    replaceAfter(delay);
  }

  /**
   * Makes a started worker a member. One that died between its hello and now was no member when
   * its death was reported, so nobody replaced it: replace it here.
   */
  private void addMember(WorkerProcess worker) {
    members.add(worker);
    if (worker.state() == WorkerProcess.State.DEAD && members.remove(worker)
        && !dispatcher.isClosed()) {
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
    scheduler.schedule(() -> {
      try {
        if (dispatcher.isClosed()) {
          return;
        }
        WorkerProcess replacement = startWorker();
        restarts.incrementAndGet();
        if (dispatcher.isClosed()) {
          replacement.kill("the pool closed while it started");
          return;
        }
        addMember(replacement);
        LOG.info("started {} to replace a worker ({} restarts so far)", replacement,
            restarts.get());
        dispatcher.drainSoon();
      } catch (RuntimeException e) {
        if (dispatcher.isClosed()) {
          LOG.debug("a {} worker starting as the pool closed was stopped", name, e);
          return;
        }
        LOG.error("could not start a {} worker; trying again", name, e);
        if (members.isEmpty()) {
          dispatcher.failWaiting(e); // nothing could run them: fail rather than leave them hanging
        }
        int failures;
        synchronized (this) {
          failures = ++youngDeaths;
        }
        replaceAfter(backoff(failures + 1));
      }
    }, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Recycles {@code worker} if it has been sent the most calls a worker may start. */
  void recycleIfDue(WorkerProcess worker) {
    if (config.maxCallsPerWorker > 0 && worker.callsStarted() >= config.maxCallsPerWorker) {
      recycle(worker, "it has been sent " + worker.callsStarted() + " calls");
    }
  }

  private void recycle(WorkerProcess worker, String why) {
    // Only the one that drains it, and finds it still a member, replaces it: a recycle racing
    // another, or the worker's death, must not start a second replacement.
    if (dispatcher.isClosed() || !worker.drain() || !members.remove(worker)) {
      return;
    }
    LOG.info("recycling {}: {}", worker, why); // no new calls; it finishes its own, then exits
    replaceAfter(Duration.ZERO);
    if (worker.inFlight() == 0) {
      worker.retire();
    }
    scheduler.schedule(() -> {
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
          Thread.ofVirtual().name("open-" + name + "-reaper").start(worker::forceDeath);
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
      LOG.error("health check of the {} pool failed", name, e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /** Stops the health check (none runs before {@link #supervise}). */
  void stopHealthCheck() {
    ScheduledFuture<?> check = healthCheck;
    if (check != null) {
      check.cancel(false);
    }
  }

  /**
   * Asks every live worker to exit and kills those that have not within 2 s, then waits for
   * every process to be gone.
   *
   * @return whether the calling thread was interrupted meanwhile: the waits took the interrupt,
   *     and the caller sets the thread's flag again once it is done waiting too
   */
  boolean stopWorkers() {
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
    return interrupted;
  }

  /** Forgets every member, once the pool is closed and its processes are gone. */
  void forgetMembers() {
    members.clear();
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
}
