package dev.open.dag;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.RunStartedEvent;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;

/**
 * The state of one run of a {@link Dag}, and the scheduler driving it.
 *
 * <p>Scheduling counts finished parents: {@code pending[i]} starts at node i's number of inputs and
 * each finishing parent decrements it; the thread that brings it to zero makes node i ready. A
 * ready node runs on a new thread of the executor, except one ready child per finishing node,
 * which the finishing thread runs itself (a chain runs on one thread, without hand-offs). A run
 * has at most {@link DagExecutor#maxThreads()} threads: beyond that, ready nodes wait on a stack
 * of ints, and the unstarted elements of a map node behind a cursor, which every thread drains
 * before it ends; so a huge fan-out costs 4 bytes per waiting node (nothing per waiting element)
 * rather than an unstarted thread each.
 *
 * <p>Every node moves through {@code PENDING → RUNNING → SUCCEEDED | FAILED | CANCELLED}, or from
 * {@code PENDING} (via {@code DOOMED}, once an ancestor failed) straight to {@code SKIPPED} or
 * {@code CANCELLED}. Only the thread that won the CAS to {@code RUNNING} moves a node on from
 * there, and a cancellation moves every node that has not started: so each node ends exactly once
 * and {@code remaining} reaches zero exactly when the last one does.
 *
 * <p>Memory is a handful of primitive arrays per run; results are dropped when their last
 * consumer finished ({@code consumers[i]} reaches zero) unless the node is kept.
 */
final class RunState implements Execution {
  private static final Logger LOG = LoggerFactory.getLogger(DagExecutor.class);
  private static final AtomicLong RUN_IDS = new AtomicLong();

  static final int PENDING = 0;
  static final int DOOMED = 1;
  static final int RUNNING = 2;
  static final int SUCCEEDED = 3;
  static final int FAILED = 4;
  static final int SKIPPED = 5;
  static final int CANCELLED = 6;
  static final int CACHED = 7;

  /** Stands in for a value dropped after its last consumer, so that null stays a value. */
  private static final Object RELEASED = new Object();

  private final Dag dag;
  private final DagExecutor config;
  private final long runId = RUN_IDS.incrementAndGet();
  private final int n;

  private final AtomicIntegerArray state;
  private final AtomicIntegerArray pending;
  private final AtomicIntegerArray consumers;
  private final Object[] results;
  // Written by the thread that runs (or resolves) node i before it publishes the node's final
  // state; read only after that, so plain arrays suffice.
  private final int[] attempts;
  /** The element counts of the map nodes that started, by node index. */
  private final Map<Integer, Integer> mapSizes = new ConcurrentHashMap<>();
  private final long[] startedNanos;
  private final long[] finishedNanos;
  private final Throwable[] errors;
  /** 1 + the index of the failed ancestor a doomed node is skipped for; 0 if none. */
  private final int[] culprit;
  /** The thread running node i, or its {@link MapRun}: what a cancellation interrupts. */
  private final AtomicReferenceArray<Object> running;

  private final AtomicInteger remaining;
  private final LongAdder nRunning = new LongAdder();
  /** Finished nodes per {@link NodeStatus}, indexed by its ordinal (see {@link #statusOf}). */
  private final LongAdder[] nFinished = new LongAdder[NodeStatus.values().length];

  /** Threads the run may have at once; more ready nodes and elements wait for one to free up. */
  private final int maxThreads;
  private final AtomicInteger threadsAlive = new AtomicInteger();
  private final Object deferredLock = new Object();
  // Both guarded by deferredLock.
  private int[] deferred = new int[0];
  private int deferredSize;
  /** Map nodes with elements not yet started for want of threads, oldest first. */
  private final ArrayDeque<MapRun> deferredMaps = new ArrayDeque<>();
  /**
   * Deferred nodes plus deferred maps, written under deferredLock: a thread that finds it 0 need
   * not take the lock. (A thread ends only after it looked again once it no longer counted as
   * alive, and a pusher looks at the threads alive after writing this: one of them sees the other.)
   */
  private volatile int deferredWaiting;

  private final Limiter limiter;
  /** Limiter slots per node; null where the node needs no permit. */
  private final int[][] slots;
  private final ExecutionListener listener;
  /** The run's use of the executor's result store; null without one. */
  private final NodeCache cache;

  private volatile boolean cancelled;
  private final AtomicReference<Throwable> cancelCause = new AtomicReference<>();
  private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
  private final CompletableFuture<RunReport> completion = new CompletableFuture<>();
  private volatile AtomicReferenceArray<CompletableFuture<Object>> futures;
  private volatile ScheduledFuture<?> deadlineTimer;

  private final Instant startedAt;
  private final long startNanos;

  RunState(Dag dag, DagExecutor config) {
    this.dag = dag;
    this.config = config;
    this.n = dag.size();
    this.state = new AtomicIntegerArray(n);
    this.pending = new AtomicIntegerArray(n);
    this.consumers = new AtomicIntegerArray(n);
    for (int i = 0; i < n; i++) {
      pending.lazySet(i, dag.parentStart[i + 1] - dag.parentStart[i]);
      consumers.lazySet(i, dag.childStart[i + 1] - dag.childStart[i]);
    }
    this.results = new Object[n];
    this.attempts = new int[n];
    this.startedNanos = new long[n];
    this.finishedNanos = new long[n];
    this.errors = new Throwable[n];
    this.culprit = new int[n];
    this.running = new AtomicReferenceArray<>(n);
    this.remaining = new AtomicInteger(n);
    for (int k = 0; k < nFinished.length; k++) {
      nFinished[k] = new LongAdder();
    }
    this.maxThreads = config.maxThreads;
    this.cache = NodeCache.of(dag, config);
    this.listener = config.listeners.isEmpty() ? null : new SafeListener(config.listeners);
    int[] capacity = limiterCapacity(config);
    this.limiter = capacity == null ? null : new Limiter(capacity);
    this.slots = capacity == null ? null : assignSlots(dag, config);
    this.startedAt = config.clock.instant();
    this.startNanos = System.nanoTime();
  }

  // ---------------------------------------------------------------------------------------------
  // Starting and scheduling

  void start() {
    if (listener != null) {
      listener.onRunStarted(new RunStartedEvent(dag.name(), runId, n, startedAt));
    }
    LOG.debug("run {} of DAG '{}' started: {} nodes", runId, dag.name(), n);
    if (n == 0) {
      finish();
      return;
    }
    if (config.deadline != null) {
      deadlineTimer = Timers.schedule(
          () -> cancel(new DeadlineExceededException(dag.name(), config.deadline)), config.deadline);
    }
    for (int i = 0; i < n && !cancelled; i++) {
      if (dag.parentStart[i + 1] == dag.parentStart[i]) {
        int root = admit(i);
        if (root >= 0) {
          submit(root);
        }
      }
    }
  }

  /**
   * Node i has no unfinished parent. Returns i when the caller may run it now (it holds its
   * permits, if any), or -1 when it was skipped, queued for permits or cancelled.
   */
  private int admit(int i) {
    int s = state.get(i);
    if (s == DOOMED) {
      skipFrom(i);
      return -1;
    }
    if (s != PENDING) {
      return -1;
    }
    int[] need = permitsOf(i);
    if (need == null) {
      return i;
    }
    return limiter.acquireOrEnqueue(new NodeJob(i, need)) == Limiter.Admission.ACQUIRED ? i : -1;
  }

  private int[] permitsOf(int i) {
    return slots == null || dag.node(i).kind == Node.Kind.MAP ? null : slots[i];
  }

  /**
   * Starts ready node i on a thread of its own, or, when the run already has {@link #maxThreads}
   * threads, leaves it on the deferred stack for the next thread that frees up.
   */
  private void submit(int i) {
    if (threadsAlive.get() < maxThreads) {
      startThread(i, () -> runOnThisThread(i));
      return;
    }
    synchronized (deferredLock) {
      if (deferredSize == deferred.length) {
        deferred = Arrays.copyOf(deferred, Math.max(1024, deferredSize * 2));
      }
      deferred[deferredSize++] = i;
      deferredWaiting++;
    }
    if (threadsAlive.get() == 0) { // every thread left before it could see the push
      int j = popDeferred();
      if (j >= 0) {
        startThread(j, () -> runOnThisThread(j));
      }
    }
  }

  private void startThread(int node, Runnable work) {
    threadsAlive.incrementAndGet();
    try {
      config.threads.execute(work);
    } catch (RejectedExecutionException e) {
      threadsAlive.decrementAndGet();
      failUnstartable(node, e);
    }
  }

  /** The executor refused a thread: fail node i (and what it hands on) on this thread. */
  private void failUnstartable(int i, RejectedExecutionException e) {
    while (i >= 0 && state.compareAndSet(i, PENDING, RUNNING)) {
      startedNanos[i] = System.nanoTime();
      nRunning.increment();
      if (listener != null) { // its end says it started: so must an event of its own
        listener.onTaskStarted(event(dag.node(i), 1, true, Duration.ZERO, null));
      }
      i = complete(i, FAILED, null, taskFailed(dag.node(i), -1, 0, e));
    }
  }

  private int popDeferred() {
    if (deferredWaiting == 0) {
      return -1;
    }
    synchronized (deferredLock) {
      if (deferredSize == 0) {
        return -1;
      }
      deferredWaiting--;
      return deferred[--deferredSize];
    }
  }

  /**
   * The body of every thread the run starts: runs node i (if any), then whichever node each
   * finished node hands on, then deferred nodes, until none is left.
   */
  private void runOnThisThread(int i) {
    while (true) {
      while (i >= 0) {
        i = runNode(i);
      }
      i = popDeferred();
      if (i >= 0) {
        continue;
      }
      ElementClaim claim = claimDeferredElement();
      if (claim != null) {
        i = runClaimed(claim);
        continue;
      }
      threadsAlive.decrementAndGet();
      // Pushed after our last look, by a thread that saw us alive.
      i = popDeferred();
      claim = i < 0 ? claimDeferredElement() : null;
      if (i < 0 && claim == null) {
        break;
      }
      threadsAlive.incrementAndGet();
      if (claim != null) {
        i = runClaimed(claim);
      }
    }
    clearInterrupt(); // a cancellation may have aimed at a node this thread already left
  }

  /**
   * Clears this thread's interrupt, looking first: {@code Thread.interrupted()} on a virtual
   * thread takes a lock even when there is nothing to clear, and this runs once per task.
   */
  private static void clearInterrupt() {
    if (Thread.currentThread().isInterrupted()) {
      Thread.interrupted();
    }
  }

  /** Hands node i, if any, to a thread: for threads that do not belong to the run. */
  private void submitIfAny(int i) {
    if (i >= 0) {
      submit(i);
    }
  }

  private int runNode(int i) {
    // Once cancelled, the sweep ends every node that has not started; leave them to it.
    if (cancelled || !state.compareAndSet(i, PENDING, RUNNING)) {
      releasePermits(permitsOf(i));
      return -1;
    }
    startedNanos[i] = System.nanoTime();
    nRunning.increment();
    Node<?> node = dag.node(i);
    NodeCache.Lookup lookup = null;
    if (cache != null && node.kind != Node.Kind.MAP) {
      lookup = cache.lookup(i, node);
      if (lookup.hit) {
        return complete(i, CACHED, lookup.value, null);
      }
    }
    if (listener != null) {
      listener.onTaskStarted(event(node, 1, true, Duration.ZERO, null));
    }
    Object[] args = inputsOf(i);
    if (node.kind == Node.Kind.MAP) {
      return startMap(i, node, args[0]);
    }
    Thread self = Thread.currentThread();
    running.set(i, self);
    Object value = cancelled ? Outcome.NOT_RUN : attempt(i, node, args, null, -1);
    running.set(i, null);
    clearInterrupt();
    if (value instanceof Outcome outcome) {
      if (lookup != null) {
        cache.afterFailure(i, lookup);
      }
      return outcome.failure != null
          ? complete(i, FAILED, null, outcome.failure)
          : complete(i, CANCELLED, null, cancelCause.get());
    }
    if (lookup != null) {
      cache.afterRun(i, node, lookup, value); // stored before its dependants start
    }
    return complete(i, SUCCEEDED, value, null);
  }

  private Object[] inputsOf(int i) {
    int from = dag.parentStart[i];
    int to = dag.parentStart[i + 1];
    Object[] args = new Object[to - from];
    for (int p = from; p < to; p++) {
      args[p - from] = results[dag.parents[p]];
    }
    return args;
  }

  // ---------------------------------------------------------------------------------------------
  // Attempts: retry, timeout, events, MDC

  /** A non-value outcome of {@link #attempt}: a failure for good, or not run (cancelled). */
  private static final class Outcome {
    static final Outcome NOT_RUN = new Outcome(null);
    final Throwable failure;

    Outcome(Throwable failure) {
      this.failure = failure;
    }
  }

  /**
   * Runs the attempts of a task (or of one element of a map node) on the calling thread: the
   * value, or an {@link Outcome} when the task failed for good or the run stopped it.
   */
  private Object attempt(int i, Node<?> node, Object[] args, MapRun map, int element) {
    RetryPolicy retry = node.retry != null ? node.retry : config.retry;
    Duration timeout = node.timeout != null ? node.timeout : config.timeout;
    for (int attempt = 1; ; attempt++) {
      if (stopped(map)) {
        return Outcome.NOT_RUN;
      }
      if (map == null) {
        attempts[i] = attempt;
      } else {
        map.attempts.incrementAndGet();
      }
      long attemptStart = System.nanoTime();
      Placed placed = config.placement == null ? null
          : new Placed(node, element, attempt, args, timeout);
      AttemptTimer timer = timeout == null || placed != null ? null : AttemptTimer.arm(timeout);
      if (config.mdc) {
        MDC.put("dag", dag.name());
        MDC.put("node", node.name);
        MDC.put("attempt", Integer.toString(attempt));
      }
      Throwable error;
      try {
        Object value = placed != null ? config.placement.run(placed)
            : node.invoker.invoke(args, new AttemptContext(dag.name(), node.name, attempt,
                placement(node, attempt)));
        timer = placed != null ? placed.timer : timer;
        if (timer == null || !timer.disarm()) {
          return value;
        }
        error = new TaskTimeoutException(node.name, attempt, timeout, null);
      } catch (Throwable t) {
        timer = placed != null ? placed.timer : timer;
        boolean timedOut = timer != null && timer.disarm();
        error = timedOut ? new TaskTimeoutException(node.name, attempt, timeout, t) : t;
      } finally {
        if (config.mdc) {
          MDC.remove("dag");
          MDC.remove("node");
          MDC.remove("attempt");
        }
      }
      if (stopped(map)) {
        return Outcome.NOT_RUN;
      }
      if (retry.shouldRetry(error, attempt)) {
        Duration delay = retry.delayAfter(attempt);
        if (listener != null) {
          listener.onTaskRetrying(event(node, attempt, true, since(attemptStart), error), delay);
        }
        LOG.info("attempt {} of task '{}' (DAG '{}') failed, retrying in {} ms: {}",
            attempt, node.name, dag.name(), delay.toMillis(), error.toString());
        try {
          config.sleeper.sleep(delay);
        } catch (InterruptedException e) {
          if (stopped(map)) {
            return Outcome.NOT_RUN;
          }
          error.addSuppressed(e);
          return new Outcome(taskFailed(node, element, attempt, error));
        }
        continue;
      }
      return new Outcome(taskFailed(node, element, attempt, error));
    }
  }

  /**
   * An attempt handed to the executor's placement; its timeout starts when the placement says the
   * attempt has begun, on the run's thread that waits for it.
   */
  private final class Placed extends PlacedAttempt {
    private final Duration timeout;
    private final Thread caller = Thread.currentThread();
    /** Read by the caller after the placement returned; written by the caller only. */
    AttemptTimer timer;

    Placed(Node<?> node, int element, int attempt, Object[] args, Duration timeout) {
      super(dag.name(), node, element, attempt, args);
      this.timeout = timeout;
    }

    @Override
    public void started() {
      if (timeout != null && timer == null && Thread.currentThread() == caller) {
        timer = AttemptTimer.arm(timeout);
      }
    }
  }

  private boolean stopped(MapRun map) {
    return cancelled || (map != null && map.failure.get() != null);
  }

  private TaskFailedException taskFailed(Node<?> node, int element, int attempt, Throwable cause) {
    return new TaskFailedException(dag.name(), node.name, element, attempt, cause);
  }

  // ---------------------------------------------------------------------------------------------
  // Finishing a node

  /**
   * Records the end of running node i, wakes its children and returns the one this thread should
   * run next, or -1.
   */
  private int complete(int i, int outcome, Object value, Throwable error) {
    Node<?> node = dag.node(i);
    releasePermits(permitsOf(i));
    finishedNanos[i] = System.nanoTime();
    if (outcome == SUCCEEDED || outcome == CACHED) {
      results[i] = value;
    } else {
      errors[i] = error;
    }
    releaseInputs(i);
    nRunning.decrement();
    nFinished[statusOf(outcome).ordinal()].increment();
    state.set(i, outcome);
    completeFuture(i);
    if (listener != null) {
      notifyFinished(node, outcome, error);
    }
    if (outcome == FAILED) {
      onFailure(i, error);
    }
    int next = -1;
    for (int e = dag.childStart[i]; e < dag.childStart[i + 1]; e++) {
      int child = dag.children[e];
      if (outcome == FAILED) {
        doom(child, i);
      }
      if (pending.decrementAndGet(child) == 0) {
        int ready = admit(child);
        if (ready >= 0) {
          if (next < 0) {
            next = ready;
          } else {
            submit(ready);
          }
        }
      }
    }
    if (remaining.decrementAndGet() == 0) {
      finish();
    }
    return next;
  }

  private void notifyFinished(Node<?> node, int outcome, Throwable error) {
    int i = node.index;
    TaskEvent event = event(node, attempts[i], true,
        Duration.ofNanos(finishedNanos[i] - startedNanos[i]), error);
    switch (outcome) {
      case SUCCEEDED -> listener.onTaskSucceeded(event);
      // A map node announced its start before it found every element in the store.
      case CACHED -> listener.onTaskCached(event(node, 0, node.kind == Node.Kind.MAP,
          Duration.ofNanos(finishedNanos[i] - startedNanos[i]), null));
      case FAILED -> listener.onTaskFailed(event);
      default -> listener.onTaskCancelled(event);
    }
  }

  private void onFailure(int i, Throwable error) {
    firstFailure.compareAndSet(null, error);
    LOG.warn("{}", error.getMessage(), error);
    if (config.failureMode == FailureMode.FAIL_FAST) {
      doomDescendants(i);
      cancel(new RunCancelledException("run " + runId + " of DAG '" + dag.name()
          + "' stopped after task '" + dag.node(i).name + "' failed", error));
    }
  }

  /** Drops the values of i's inputs that no other node still needs. */
  private void releaseInputs(int i) {
    for (int p = dag.parentStart[i]; p < dag.parentStart[i + 1]; p++) {
      int parent = dag.parents[p];
      if (consumers.decrementAndGet(parent) == 0 && !dag.node(parent).retained) {
        results[parent] = RELEASED;
      }
    }
  }

  private void releasePermits(int[] need) {
    if (need != null) {
      limiter.release(need);
    }
  }

  /** Marks {@code child} as doomed by the failure of {@code parent} (or of its culprit). */
  private void doom(int child, int parent) {
    int cause = state.get(parent) == FAILED ? parent + 1 : culprit[parent];
    culprit[child] = cause; // written before the CAS that publishes it; any failed ancestor will do
    state.compareAndSet(child, PENDING, DOOMED);
  }

  /** FAIL_FAST: dooms every descendant of failed node i, so that they end SKIPPED, not CANCELLED. */
  private void doomDescendants(int failed) {
    boolean[] seen = new boolean[n];
    int[] stack = new int[16];
    int top = 0;
    stack[top++] = failed;
    while (top > 0) {
      int v = stack[--top];
      for (int e = dag.childStart[v]; e < dag.childStart[v + 1]; e++) {
        int c = dag.children[e];
        if (!seen[c]) {
          seen[c] = true;
          culprit[c] = failed + 1;
          state.compareAndSet(c, PENDING, DOOMED);
          if (top == stack.length) {
            stack = Arrays.copyOf(stack, top * 2);
          }
          stack[top++] = c;
        }
      }
    }
  }

  /** Skips doomed node {@code first} and, transitively, the children that become ready with it. */
  private void skipFrom(int first) {
    int[] stack = {first};
    int top = 1;
    while (top > 0) {
      int s = stack[--top];
      if (!state.compareAndSet(s, DOOMED, SKIPPED)) {
        continue; // cancelled, or skipped by a concurrent cancellation sweep
      }
      releaseInputs(s);
      resolved(s, SKIPPED);
      for (int e = dag.childStart[s]; e < dag.childStart[s + 1]; e++) {
        int c = dag.children[e];
        doom(c, s);
        if (pending.decrementAndGet(c) == 0) {
          if (top == stack.length) {
            stack = Arrays.copyOf(stack, Math.max(4, top * 2));
          }
          stack[top++] = c;
        }
      }
      if (remaining.decrementAndGet() == 0) {
        finish();
      }
    }
  }

  /** Bookkeeping for a node that ended without starting (skipped or cancelled). */
  private void resolved(int i, int outcome) {
    nFinished[statusOf(outcome).ordinal()].increment();
    completeFuture(i);
    if (listener != null) {
      TaskEvent event = event(dag.node(i), 0, false, Duration.ZERO, errorOf(i, outcome));
      if (outcome == SKIPPED) {
        listener.onTaskSkipped(event);
      } else {
        listener.onTaskCancelled(event);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Dynamic fan-out

  /** The elements of one running map node. */
  private final class MapRun {
    final int node;
    final Node<?> def;
    final Object[] items;
    final Object[] out;
    final int[] need;
    final AtomicInteger left;
    final AtomicInteger attempts = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final AtomicReferenceArray<Thread> threads;
    /** Content hashes of the elements' values, when the run has a result store. */
    final String[] hashes;
    /** Elements loaded from the result store, and computed ones it could not store. */
    final AtomicInteger loaded = new AtomicInteger();
    final AtomicInteger unstored = new AtomicInteger();
    /** The next element no thread has taken yet; element 0 runs on the map node's thread. */
    final AtomicInteger next = new AtomicInteger(1);
    volatile boolean incomplete;

    MapRun(int node, Node<?> def, Object[] items) {
      this.node = node;
      this.def = def;
      this.items = items;
      this.out = new Object[items.length];
      this.need = slots == null ? null : slots[node];
      this.left = new AtomicInteger(items.length);
      this.threads = new AtomicReferenceArray<>(items.length);
      this.hashes = cache == null ? null : new String[items.length];
    }

    void interruptAll() {
      for (int e = 0; e < items.length; e++) {
        Thread t = threads.get(e);
        if (t != null) {
          t.interrupt();
        }
      }
    }
  }

  private int startMap(int i, Node<?> node, Object source) {
    if (!(source instanceof Collection<?> collection)) {
      Throwable why = new IllegalArgumentException("map node '" + node.name + "' needs a "
          + "collection from its input '" + dag.node(dag.parents[dag.parentStart[i]]).name
          + "', got " + (source == null ? "null" : source.getClass().getName()));
      return complete(i, FAILED, null, taskFailed(node, -1, 0, why));
    }
    Object[] items = collection.toArray();
    mapSizes.put(i, items.length);
    if (items.length == 0) {
      if (cache != null) {
        cache.afterMap(i, node, new String[0], 0, 0);
      }
      return complete(i, SUCCEEDED, List.of(), null);
    }
    MapRun map = new MapRun(i, node, items);
    running.set(i, map);
    if (cancelled) {
      map.interruptAll(); // the sweep may have looked before the MapRun was visible
    }
    startElements(map);
    return runClaimed(new ElementClaim(map, 0));
  }

  /**
   * Starts the map's elements from its cursor on threads of their own while the run has threads
   * to spare, and defers the rest to the threads that free up. Runs on a thread of the run, which
   * looks at the deferred maps before it ends: so no element is left behind.
   */
  private void startElements(MapRun map) {
    while (threadsAlive.get() < maxThreads) {
      int e = map.next.getAndIncrement();
      if (e >= map.items.length) {
        return;
      }
      switch (admitElement(map, e)) {
        case ACQUIRED -> submitElement(map, e);
        case REJECTED -> submitIfAny(runElement(map, e, false));
        case QUEUED -> { } // started by the limiter when permits free up
      }
    }
    if (map.next.get() < map.items.length) {
      synchronized (deferredLock) {
        deferredMaps.addLast(map);
        deferredWaiting++;
      }
    }
  }

  /** An element of a map node that a thread took from its cursor and must run. */
  private record ElementClaim(MapRun map, int element) {}

  private ElementClaim claimDeferredElement() {
    if (deferredWaiting == 0) {
      return null;
    }
    synchronized (deferredLock) {
      for (MapRun map; (map = deferredMaps.peekFirst()) != null; ) {
        int e = map.next.getAndIncrement();
        if (e < map.items.length) {
          return new ElementClaim(map, e);
        }
        deferredMaps.pollFirst(); // every element taken
        deferredWaiting--;
      }
      return null;
    }
  }

  /** Runs a claimed element on this thread; returns the node this thread should run next. */
  private int runClaimed(ElementClaim claim) {
    return switch (admitElement(claim.map(), claim.element())) {
      case ACQUIRED -> runElement(claim.map(), claim.element(), true);
      case REJECTED -> runElement(claim.map(), claim.element(), false);
      case QUEUED -> -1; // started by the limiter when permits free up
    };
  }

  private Limiter.Admission admitElement(MapRun map, int e) {
    return map.need == null
        ? Limiter.Admission.ACQUIRED
        : limiter.acquireOrEnqueue(new ElementJob(map, e));
  }

  private void submitElement(MapRun map, int e) {
    threadsAlive.incrementAndGet();
    try {
      config.threads.execute(() -> runOnThisThread(runElement(map, e, true)));
    } catch (RejectedExecutionException ex) {
      threadsAlive.decrementAndGet();
      map.failure.compareAndSet(null, taskFailed(map.def, e, 0, ex));
      submitIfAny(elementDone(map, e, true));
    }
  }

  private int runElement(MapRun map, int e, boolean holdsPermits) {
    Object value = Outcome.NOT_RUN;
    if (holdsPermits && !stopped(map)) {
      NodeCache.Lookup lookup = cache == null ? null
          : cache.lookupElement(map.def, map.items[e]);
      if (lookup != null && lookup.hit) {
        value = lookup.value;
        map.hashes[e] = lookup.hash;
        map.loaded.incrementAndGet();
      } else {
        map.threads.set(e, Thread.currentThread());
        value = attempt(map.node, map.def, new Object[] {map.items[e]}, map, e);
        map.threads.set(e, null);
        clearInterrupt();
        if (lookup != null && !(value instanceof Outcome)) {
          // Stored before the map node's dependants start.
          map.hashes[e] = cache.afterElement(map.def, lookup, value, map.unstored);
        }
      }
    }
    if (value instanceof Outcome outcome) {
      map.incomplete = true;
      if (outcome.failure != null && map.failure.compareAndSet(null, outcome.failure)) {
        map.interruptAll(); // the node has failed: stop the other elements
      }
    } else {
      map.out[e] = value;
    }
    return elementDone(map, e, holdsPermits);
  }

  private int elementDone(MapRun map, int e, boolean holdsPermits) {
    if (holdsPermits) {
      releasePermits(map.need);
    }
    if (map.left.decrementAndGet() > 0) {
      return -1;
    }
    int i = map.node;
    attempts[i] = map.attempts.get();
    running.set(i, null);
    Throwable failure = map.failure.get();
    if (failure != null) {
      return complete(i, FAILED, null, failure);
    }
    if (map.incomplete) {
      return complete(i, CANCELLED, null, cancelCause.get());
    }
    List<Object> values = Collections.unmodifiableList(Arrays.asList(map.out));
    if (cache != null) {
      cache.afterMap(i, map.def, map.hashes, map.loaded.get(), map.unstored.get());
      if (map.loaded.get() == map.items.length) {
        return complete(i, CACHED, values, null);
      }
    }
    return complete(i, SUCCEEDED, values, null);
  }

  /** A node waiting for permits. */
  private final class NodeJob implements Limiter.Job {
    private final int node;
    private final int[] need;

    NodeJob(int node, int[] need) {
      this.node = node;
      this.need = need;
    }

    @Override
    public int[] slots() {
      return need;
    }

    @Override
    public void admitted() {
      submit(node);
    }

    @Override
    public void rejected() {
      // Not started: the cancellation sweep has ended it already.
    }
  }

  /** An element of a map node waiting for permits. */
  private final class ElementJob implements Limiter.Job {
    private final MapRun map;
    private final int element;

    ElementJob(MapRun map, int element) {
      this.map = map;
      this.element = element;
    }

    @Override
    public int[] slots() {
      return map.need;
    }

    @Override
    public void admitted() {
      submitElement(map, element);
    }

    @Override
    public void rejected() {
      submitIfAny(runElement(map, element, false)); // on the cancelling thread
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Cancellation and the end of the run

  @Override
  public boolean cancel() {
    return cancel(new RunCancelledException(
        "run " + runId + " of DAG '" + dag.name() + "' was cancelled", null));
  }

  private boolean cancel(Throwable cause) {
    if (completion.isDone() || !cancelCause.compareAndSet(null, cause)) {
      return false;
    }
    cancelled = true;
    if (deadlineTimer != null && !(cause instanceof DeadlineExceededException)) {
      deadlineTimer.cancel(false);
    }
    for (int i = 0; i < n; i++) {
      int s = state.get(i);
      if (s == PENDING && state.compareAndSet(i, PENDING, CANCELLED)) {
        errors[i] = cause;
        resolved(i, CANCELLED);
        if (remaining.decrementAndGet() == 0) {
          finish();
        }
      } else if (s == DOOMED && state.compareAndSet(i, DOOMED, SKIPPED)) {
        resolved(i, SKIPPED);
        if (remaining.decrementAndGet() == 0) {
          finish();
        }
      } else if (s == RUNNING) {
        Object runner = running.get(i);
        if (runner instanceof Thread thread) {
          thread.interrupt();
        } else if (runner instanceof MapRun map) {
          map.interruptAll();
        }
      }
    }
    if (limiter != null) {
      limiter.close();
    }
    return true;
  }

  private void finish() {
    ScheduledFuture<?> timer = deadlineTimer;
    if (timer != null) {
      timer.cancel(false);
    }
    for (int i = 0; i < n; i++) {
      if (!dag.node(i).retained && !dag.isSink(i)) {
        // What a cancelled or failed run left behind; marked released, not emptied, so that a
        // future asked for after the run fails as documented instead of giving null.
        results[i] = RELEASED;
      }
    }
    int[] counts = new int[nFinished.length];
    for (int k = 0; k < counts.length; k++) {
      counts[k] = (int) nFinished[k].sum();
    }
    RunStatus status = firstFailure.get() != null ? RunStatus.FAILED
        : counts[NodeStatus.SUCCEEDED.ordinal()] + counts[NodeStatus.CACHED.ordinal()] == n
            ? RunStatus.SUCCEEDED
        : RunStatus.CANCELLED;
    Throwable failure = status == RunStatus.SUCCEEDED ? null
        : firstFailure.get() != null ? firstFailure.get() : cancelCause.get();
    RunReport report = new RunReport(dag, runId, status, startedAt, instant(System.nanoTime()),
        failure, new Outcomes(), counts);
    if (status == RunStatus.SUCCEEDED) {
      LOG.debug("run {} of DAG '{}' succeeded: {}", runId, dag.name(), report.summary());
    } else {
      LOG.info("run {} of DAG '{}' {}: {}", runId, dag.name(),
          status.name().toLowerCase(java.util.Locale.ROOT), report.summary());
    }
    if (listener != null) {
      listener.onRunFinished(report);
    }
    completion.complete(report);
  }

  /** A read-only view of the final per-node arrays, for {@link RunReport}. */
  final class Outcomes implements RunReport.Outcomes {
    @Override
    public NodeReport report(int i) {
      int s = state.get(i);
      if (s < SUCCEEDED) {
        throw new IllegalStateException("node " + i + " has not finished");
      }
      NodeStatus status = statusOf(s);
      boolean started = startedNanos[i] != 0;
      Node<?> node = dag.node(i);
      return new NodeReport(node.name, node.backend, status, attempts[i],
          started ? instant(startedNanos[i]) : null, started ? instant(finishedNanos[i]) : null,
          errorOf(i, s), cache == null ? CacheOutcome.NO_STORE : cache.outcome(i),
          mapSizes.getOrDefault(i, -1));
    }

    @Override
    public Object result(int i) {
      return results[i];
    }
  }

  private Throwable errorOf(int i, int s) {
    if (s == SKIPPED) {
      int c = culprit[i];
      return new TaskSkippedException(dag.node(i).name, c == 0 ? null : dag.node(c - 1).name,
          c == 0 ? null : errors[c - 1]);
    }
    if (s == CANCELLED && errors[i] == null) {
      return cancelCause.get();
    }
    return errors[i];
  }

  // ---------------------------------------------------------------------------------------------
  // Execution

  @Override
  public Dag dag() {
    return dag;
  }

  @Override
  public long runId() {
    return runId;
  }

  @Override
  public CompletableFuture<RunReport> completion() {
    return completion.copy();
  }

  @Override
  public RunReport await() throws InterruptedException {
    try {
      return completion.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public RunReport await(Duration timeout) throws InterruptedException, TimeoutException {
    try {
      return completion.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> CompletableFuture<T> future(Node<T> node) {
    int i = dag.indexOf(node);
    AtomicReferenceArray<CompletableFuture<Object>> all = futures;
    if (all == null) {
      synchronized (this) {
        all = futures;
        if (all == null) {
          futures = all = new AtomicReferenceArray<>(n);
        }
      }
    }
    CompletableFuture<Object> future = all.get(i);
    if (future == null) {
      CompletableFuture<Object> created = new CompletableFuture<>();
      future = all.compareAndExchange(i, null, created);
      if (future == null) {
        future = created;
        completeFuture(i); // in case the node finished before the future was registered
      }
    }
    return (CompletableFuture<T>) future.copy();
  }

  /** Completes node i's future, if one was asked for and the node has finished. */
  private void completeFuture(int i) {
    AtomicReferenceArray<CompletableFuture<Object>> all = futures;
    CompletableFuture<Object> future = all == null ? null : all.get(i);
    if (future == null || future.isDone()) {
      return;
    }
    int s = state.get(i);
    switch (s) {
      case SUCCEEDED, CACHED -> {
        Object value = results[i];
        if (value == RELEASED) {
          future.completeExceptionally(new IllegalStateException("the value of node '"
              + dag.node(i).name + "' was released after its last consumer finished; "
              + "ask for its future before it finishes, or mark it retain()"));
        } else {
          future.complete(value);
        }
      }
      case FAILED, SKIPPED, CANCELLED -> future.completeExceptionally(errorOf(i, s));
      default -> { } // not finished yet: completed when it is
    }
  }

  @Override
  public Progress progress() {
    return new Progress(n, (int) nRunning.sum(),
        finished(NodeStatus.SUCCEEDED), finished(NodeStatus.FAILED),
        finished(NodeStatus.SKIPPED), finished(NodeStatus.CANCELLED),
        finished(NodeStatus.CACHED));
  }

  private int finished(NodeStatus status) {
    return (int) nFinished[status.ordinal()].sum();
  }

  /** The public status of a final state; the scheduler's states are ints for the CAS arrays. */
  static NodeStatus statusOf(int outcome) {
    return switch (outcome) {
      case SUCCEEDED -> NodeStatus.SUCCEEDED;
      case FAILED -> NodeStatus.FAILED;
      case SKIPPED -> NodeStatus.SKIPPED;
      case CANCELLED -> NodeStatus.CANCELLED;
      case CACHED -> NodeStatus.CACHED;
      default -> throw new IllegalArgumentException("not a final state: " + outcome);
    };
  }

  @Override
  public boolean isDone() {
    return completion.isDone();
  }

  @Override
  public String toString() {
    return "Execution[" + dag.name() + " #" + runId + ": " + progress() + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private TaskEvent event(Node<?> node, int attempt, boolean started, Duration duration,
      Throwable error) {
    return new TaskEvent(dag.name(), runId, node.name, node.backend, attempt, started, duration,
        error);
  }

  /** Tells the listeners where a backend runs an attempt. */
  private Consumer<String> placement(Node<?> node, int attempt) {
    return listener == null ? AttemptContext.NOWHERE
        : where -> listener.onTaskPlaced(event(node, attempt, true, Duration.ZERO, null), where);
  }

  private static Duration since(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos);
  }

  private Instant instant(long nanos) {
    return startedAt.plusNanos(nanos - startNanos);
  }

  /** Slot 0 is the global parallelism limit when set, then one slot per limited tag. */
  private static int[] limiterCapacity(DagExecutor config) {
    if (config.limits.isEmpty() && config.maxParallelism == 0) {
      return null;
    }
    int[] capacity = new int[config.limits.size() + 1];
    capacity[0] = config.maxParallelism == 0 ? Integer.MAX_VALUE : config.maxParallelism;
    int k = 1;
    for (int permits : config.limits.values()) {
      capacity[k++] = permits;
    }
    return capacity;
  }

  private static int[][] assignSlots(Dag dag, DagExecutor config) {
    Map<String, Integer> slotOf = new HashMap<>();
    int k = 1;
    for (String tag : config.limits.keySet()) {
      slotOf.put(tag, k++);
    }
    int[] none = {};
    int[] globalOnly = {0};
    Map<Set<String>, int[]> byTags = new HashMap<>(); // nodes share their tag sets' slot arrays
    int[][] slots = new int[dag.size()][];
    for (int i = 0; i < slots.length; i++) {
      Node<?> node = dag.node(i);
      boolean global = config.maxParallelism > 0;
      if (node.tags.isEmpty() && !slotOf.containsKey(node.backend)) {
        slots[i] = global ? globalOnly : null;
        continue;
      }
      Set<String> key = node.tags;
      if (slotOf.containsKey(node.backend)) {
        key = new java.util.HashSet<>(node.tags);
        key.add(node.backend);
      }
      slots[i] = byTags.computeIfAbsent(key, tags -> {
        int[] need = new int[tags.size() + 1];
        int m = 0;
        if (global) {
          need[m++] = 0;
        }
        for (String tag : tags) {
          Integer slot = slotOf.get(tag);
          if (slot != null) {
            need[m++] = slot;
          }
        }
        return m == 0 ? none : Arrays.copyOf(need, m);
      });
      if (slots[i].length == 0) {
        slots[i] = null;
      }
    }
    return slots;
  }

  /** Calls listeners, logging (never propagating) what they throw. */
  private static final class SafeListener implements ExecutionListener {
    private final List<ExecutionListener> listeners;

    SafeListener(List<ExecutionListener> listeners) {
      this.listeners = listeners;
    }

    private void each(java.util.function.Consumer<ExecutionListener> call) {
      for (ExecutionListener l : listeners) {
        try {
          call.accept(l);
        } catch (RuntimeException e) {
          LOG.warn("execution listener {} threw; ignored", l, e);
        }
      }
    }

    @Override
    public void onRunStarted(RunStartedEvent event) {
      each(l -> l.onRunStarted(event));
    }

    @Override
    public void onTaskStarted(TaskEvent event) {
      each(l -> l.onTaskStarted(event));
    }

    @Override
    public void onTaskPlaced(TaskEvent event, String where) {
      each(l -> l.onTaskPlaced(event, where));
    }

    @Override
    public void onTaskRetrying(TaskEvent event, Duration delay) {
      each(l -> l.onTaskRetrying(event, delay));
    }

    @Override
    public void onTaskSucceeded(TaskEvent event) {
      each(l -> l.onTaskSucceeded(event));
    }

    @Override
    public void onTaskFailed(TaskEvent event) {
      each(l -> l.onTaskFailed(event));
    }

    @Override
    public void onTaskSkipped(TaskEvent event) {
      each(l -> l.onTaskSkipped(event));
    }

    @Override
    public void onTaskCached(TaskEvent event) {
      each(l -> l.onTaskCached(event));
    }

    @Override
    public void onTaskCancelled(TaskEvent event) {
      each(l -> l.onTaskCancelled(event));
    }

    @Override
    public void onRunFinished(RunReport report) {
      each(l -> l.onRunFinished(report));
    }
  }
}
