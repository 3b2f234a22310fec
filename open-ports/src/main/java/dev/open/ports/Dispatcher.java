package dev.open.ports;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's calls from submission until a worker answers them: the queue of calls waiting for a
 * worker with room, the hand-off to the least loaded one (within its adaptive prefetch), calls
 * a dead worker held but never started put first in line again, and each call's timeout and
 * cancellation.
 *
 * <p><b>Lock.</b> It owns one lock, the monitor of {@link #waiting}, which guards the queue and
 * every decision that depends on {@link #closed}: a call is queued, or requeued after its
 * worker died, only while the pool is open, and {@link #close()} empties the queue under the
 * same lock, so no call is left behind in a closed pool. Under it the dispatcher only reads
 * the {@link Supervisor}'s member list (a copy-on-write list, no lock) and reserves room on a
 * worker (a compare-and-set); it never holds it while it sends a frame or completes a call,
 * whose callbacks must not run under it. It may be taken while a worker's write lock is held
 * ({@link #drainSoon()} after a send that could not encode its call), never the other way round.
 *
 * <p><b>Talks to.</b> The {@link Supervisor}: it chooses among the supervisor's members, and
 * after each send asks it to recycle the worker if due. The supervisor and the pool's worker
 * listener call back in: {@link #drainSoon()} when a worker has room or a new one joined,
 * {@link #requeue} when a worker died, {@link #failWaiting} when no worker can be started, and
 * {@link #onCallStarted} / {@link #onAbandoned} for a worker's calls. Its timers run on the
 * scheduler it shares with the supervisor.
 */
final class Dispatcher {
  /** The pool's logger: what users configure to see the pool's decisions. */
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

  private final PoolConfig config;
  private final String name;
  /** Runs call timeouts and cancel graces; shared with the supervisor, shut down by the pool. */
  private final ScheduledExecutorService timers;
  private final Supervisor supervisor;
  /** The calls waiting for a worker, in the order they were made; its monitor is the lock. */
  private final Deque<Call> waiting = new ArrayDeque<>();
  /** Written under the lock of {@link #waiting}; read without it where a stale value is safe. */
  private volatile boolean closed;

  Dispatcher(PoolConfig config, ScheduledExecutorService timers, Supervisor supervisor) {
    this.config = config;
    this.name = config.language.id();
    this.timers = timers;
    this.supervisor = supervisor;
  }

  /** Whether the pool is closed: no call is queued, and no worker started, any more. */
  boolean isClosed() {
    return closed;
  }

  /** Takes a new call: sends it to a worker with room, or queues it. */
  void submit(Call call) {
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
        call.fail(new IllegalStateException("the " + name + " pool is closed"));
        return;
      }
      if (worker.send(call)) {
        supervisor.recycleIfDue(worker);
        return;
      }
      // The worker was retired or died under it before the call went out: choose again.
    }
  }

  /** Reserves room on the least loaded ready worker; call holding the queue's lock. */
  private WorkerProcess reserveWorker() {
    while (true) {
      WorkerProcess best = null;
      for (WorkerProcess w : supervisor.members()) {
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
        supervisor.recycleIfDue(worker);
      } else {
        boolean poolClosed;
        synchronized (waiting) {
          poolClosed = closed;
          if (!poolClosed) {
            waiting.addFirst(next);
          }
        }
        if (poolClosed) { // close() has emptied the queue already: nothing would take it again
          next.fail(new CancellationException("the " + name + " pool was closed"));
        }
      }
    }
  }

  /** Drains the queue on a virtual thread, if anything waits. */
  void drainSoon() {
    boolean any;
    synchronized (waiting) {
      any = !waiting.isEmpty();
    }
    if (any) {
      Thread.ofVirtual().name("open-" + name + "-dispatch").start(this::drainWaiting);
    }
  }

  /**
   * Puts the calls a dead worker held but never started first in line again, in their order;
   * decided under the lock that {@link #close()} empties the queue with.
   *
   * @return false if the pool was closed: the calls have failed with a {@link
   *     CancellationException} instead, and the dead worker is not to be replaced
   */
  boolean requeue(WorkerProcess worker, List<Call> unstarted) {
    boolean poolClosed;
    synchronized (waiting) {
      poolClosed = closed;
      if (!poolClosed) {
        for (int i = unstarted.size() - 1; i >= 0; i--) {
          waiting.addFirst(unstarted.get(i)); // first in line again, in their order
        }
      }
    }
    if (poolClosed) {
      unstarted.forEach(c -> c.fail(new CancellationException("the " + name
          + " pool was closed")));
      return false;
    }
    if (!unstarted.isEmpty()) {
      LOG.debug("{} calls that {} held but had not started go to other workers",
          unstarted.size(), worker);
    }
    return true;
  }

  /** Fails every waiting call with {@code cause}: no worker could be started to run them. */
  void failWaiting(RuntimeException cause) {
    List<Call> failed;
    synchronized (waiting) {
      failed = new ArrayList<>(waiting);
      waiting.clear();
    }
    failed.forEach(c -> c.fail(cause));
  }

  /**
   * Closes the queue: no call is queued or requeued from now on.
   *
   * @return the calls that were waiting, for the caller to fail outside the lock; null if it was
   *     closed already
   */
  List<Call> close() {
    synchronized (waiting) {
      if (closed) {
        return null;
      }
      closed = true;
      List<Call> abandoned = new ArrayList<>(waiting);
      waiting.clear();
      return abandoned;
    }
  }

  /** A worker started {@code call}: its timeout starts counting; a cancel may have come first. */
  void onCallStarted(WorkerProcess worker, Call call) {
    if (config.callTimeout != null) {
      call.armTimer(timers.schedule(() -> onTimeout(worker, call),
          config.callTimeout.toNanos(), TimeUnit.NANOSECONDS));
    }
    if (call.isDone()) { // cancelled while queued on the worker, which should drop it at once
      awaitCancel(worker, call);
    }
  }

  /** {@code call}, still on {@code worker}, failed on the host: the worker is told to stop it. */
  void onAbandoned(WorkerProcess worker, Call call) {
    worker.cancel(call.id());
    if (worker.running() == call) {
      awaitCancel(worker, call);
    }
  }

  /** A call's timeout: it counts from when the call starts on a worker. */
  private void onTimeout(WorkerProcess worker, Call call) {
    if (call.isDone()) {
      return;
    }
    // Killed only if the call is still the one running: one that ended just now is not timed
    // out, and the call that started after it is not to blame.
    worker.killIfRunning(call, new WorkerTimeoutException(name, worker.pid(), call.function,
        config.callTimeout, worker.tailLines()), new WorkerCrashedException(name, worker.pid(),
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
    timers.schedule(() -> {
      String why = "it did not answer the cancel of " + call.function + " within "
          + config.cancelGrace;
      if (worker.killIfRunning(call, null, new WorkerCrashedException(name, worker.pid(),
          "was killed: " + why, null, worker.tailLines(), null))) {
        LOG.warn("{} did not answer the cancel of {} within {}; killed it", worker,
            call.function, config.cancelGrace);
      }
    }, config.cancelGrace.toNanos(), TimeUnit.NANOSECONDS);
  }
}
