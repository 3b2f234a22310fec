package dev.open.dag;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

import dev.open.dag.event.ExecutionListener;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;
import dev.open.dag.policy.Sleeper;
import dev.open.dag.spi.TaskPlacement;
import dev.open.dag.store.ResultStore;
import dev.open.dag.store.ValueCodecs;

/**
 * Runs DAGs: every node whose inputs have all finished starts at once on a virtual thread of its
 * own; no thread ever waits for a parent. Immutable and thread-safe; one executor can run any
 * number of DAGs at once.
 *
 * <p>Defaults ({@link #defaults()}): {@link FailureMode#FAIL_FAST}, no retries ({@link
 * RetryPolicy#none()}), no timeout, no deadline, no concurrency limits, a new virtual thread per
 * ready node up to a bound derived from the heap ({@link Builder#withMaxThreads}), SLF4J's MDC
 * filled with {@code dag}, {@code node} and {@code attempt} while a task runs.
 *
 * <pre>{@code
 * DagExecutor executor = DagExecutor.builder()
 *     .withFailureMode(FailureMode.CONTINUE)
 *     .withDefaultRetry(RetryPolicy.builder().withMaxAttempts(3).build())
 *     .withConcurrencyLimit("db", 4)
 *     .withDeadline(Duration.ofMinutes(10))
 *     .withListener(new DagMetrics(registry))
 *     .build();
 * RunReport report = executor.run(dag);
 * }</pre>
 */
public final class DagExecutor {
  private static final Executor VIRTUAL_THREADS = Thread::startVirtualThread;
  private static final DagExecutor DEFAULTS = builder().build(); // after VIRTUAL_THREADS

  final FailureMode failureMode;
  final Duration deadline;
  final Map<String, Integer> limits;
  final int maxParallelism;
  final int maxThreads;
  final RetryPolicy retry;
  final Duration timeout;
  final List<ExecutionListener> listeners;
  final Executor threads;
  final Sleeper sleeper;
  final InstantSource clock;
  final boolean mdc;
  final ResultStore store;
  final ValueCodecs codecs;
  final boolean cacheByDefault;
  final TaskPlacement placement;

  private DagExecutor(Builder b) {
    this.failureMode = b.failureMode == null ? FailureMode.FAIL_FAST : b.failureMode;
    this.deadline = b.deadline;
    this.limits = Collections.unmodifiableMap(new LinkedHashMap<>(b.limits));
    this.maxParallelism = b.maxParallelism;
    this.maxThreads = b.maxThreads != 0 ? b.maxThreads : defaultMaxThreads();
    this.retry = b.retry == null ? RetryPolicy.none() : b.retry;
    this.timeout = b.timeout;
    this.listeners = List.copyOf(b.listeners);
    this.threads = b.threads == null ? VIRTUAL_THREADS : b.threads;
    this.sleeper = b.sleeper == null ? Sleeper.SYSTEM : b.sleeper;
    this.clock = b.clock == null ? InstantSource.system() : b.clock;
    this.mdc = b.mdc == null || b.mdc;
    this.store = b.store;
    this.codecs = b.codecs != null ? b.codecs : b.store != null ? ValueCodecs.standard() : null;
    this.cacheByDefault = b.cacheByDefault == null || b.cacheByDefault;
    this.placement = b.placement;
  }

  /** {@return the executor with every default, as used by {@link Dag#run()}} */
  public static DagExecutor defaults() {
    return DEFAULTS;
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs {@code dag} and blocks until every node has finished. Task failures do not throw: they
   * are in the report ({@link RunReport#orThrow()} turns them into an exception). If the calling
   * thread is interrupted, the run is cancelled, this method waits for its tasks to stop, restores
   * the interrupt flag and returns the report of the cancelled run.
   *
   * @param dag the DAG to run
   * @return the final report
   */
  public RunReport run(Dag dag) {
    Execution execution = start(dag);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return execution.completion().get();
        } catch (InterruptedException e) {
          interrupted = true;
          execution.cancel();
        } catch (ExecutionException e) {
          throw new IllegalStateException("run completion failed", e.getCause()); // never happens
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Starts a run of {@code dag} and returns its handle at once.
   *
   * @param dag the DAG to run
   * @return the run in progress
   */
  public Execution start(Dag dag) {
    Objects.requireNonNull(dag, "dag");
    RunState run = new RunState(dag, this);
    run.start();
    return run;
  }

  /** {@return what a run does after a task failed for good} */
  public FailureMode failureMode() {
    return failureMode;
  }

  /** {@return the deadline of each run, if any} */
  public Optional<Duration> deadline() {
    return Optional.ofNullable(deadline);
  }

  /** {@return the concurrency limit per resource tag} */
  public Map<String, Integer> concurrencyLimits() {
    return limits;
  }

  /** {@return the maximum number of tasks running at once, or 0 for no limit} */
  public int maxParallelism() {
    return maxParallelism;
  }

  /**
   * Returns the most threads one run holds at once: see {@link Builder#withMaxThreads}.
   *
   * @return the setting, or the default derived from this JVM's maximum heap
   */
  public int maxThreads() {
    return maxThreads;
  }

  /**
   * The default of {@link Builder#withMaxThreads}: one thread per {@value #HEAP_BYTES_PER_THREAD}
   * bytes of the maximum heap, at least {@value #MIN_DEFAULT_THREADS}.
   */
  static int defaultMaxThreads() {
    long byHeap = Runtime.getRuntime().maxMemory() / HEAP_BYTES_PER_THREAD;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_DEFAULT_THREADS, byHeap));
  }

  /**
   * A sleeping virtual thread holds about 1 KiB of heap (its stack chunk and Thread object,
   * measured: docs/benchmarks.md); the default leaves the other half of the heap to the tasks.
   */
  static final long HEAP_BYTES_PER_THREAD = 2048;
  static final int MIN_DEFAULT_THREADS = 4096;

  /**
   * Returns a builder holding every setting of this executor, to derive another from it. Settings
   * it holds count as given: setting one again throws, as on any builder.
   *
   * @return a new builder with this executor's settings
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.failureMode = failureMode;
    b.deadline = deadline;
    b.limits.putAll(limits);
    b.maxParallelism = maxParallelism;
    b.maxThreads = maxThreads;
    b.store = store;
    b.codecs = codecs;
    b.cacheByDefault = cacheByDefault;
    b.retry = retry;
    b.timeout = timeout;
    b.listeners.addAll(listeners);
    b.threads = threads == VIRTUAL_THREADS ? null : threads;
    b.sleeper = sleeper;
    b.clock = clock;
    b.mdc = mdc;
    b.placement = placement;
    return b;
  }

  /** {@return the codecs that encode values for the result store, if any} */
  public Optional<ValueCodecs> valueCodecs() {
    return Optional.ofNullable(codecs);
  }

  /** {@return the placement of task attempts, if any ({@link Builder#withTaskPlacement})} */
  public Optional<TaskPlacement> taskPlacement() {
    return Optional.ofNullable(placement);
  }

  /** {@return the listeners of every run, in the order they were added} */
  public List<ExecutionListener> listeners() {
    return listeners;
  }

  /** {@return the result store, if any} */
  public Optional<ResultStore> resultStore() {
    return Optional.ofNullable(store);
  }

  /** {@return the retry policy of nodes that have none of their own} */
  public RetryPolicy defaultRetry() {
    return retry;
  }

  /** {@return the timeout per attempt of nodes that have none of their own, if any} */
  public Optional<Duration> defaultTimeout() {
    return Optional.ofNullable(timeout);
  }

  /**
   * Builds a {@link DagExecutor}. Each setting may be given once: setting it twice is a mistake
   * and throws {@link IllegalStateException}. Not thread-safe.
   */
  public static final class Builder {
    private FailureMode failureMode;
    private Duration deadline;
    private final Map<String, Integer> limits = new LinkedHashMap<>();
    private int maxParallelism;
    private int maxThreads;
    private ResultStore store;
    private ValueCodecs codecs;
    private Boolean cacheByDefault;
    private RetryPolicy retry;
    private Duration timeout;
    private final List<ExecutionListener> listeners = new ArrayList<>();
    private Executor threads;
    private Sleeper sleeper;
    private InstantSource clock;
    private Boolean mdc;
    private TaskPlacement placement;

    private Builder() {}

    /**
     * Sets what a run does after a task failed for good (default {@link FailureMode#FAIL_FAST}).
     *
     * @param mode the failure mode
     * @return this builder
     */
    public Builder withFailureMode(FailureMode mode) {
      Objects.requireNonNull(mode, "mode");
      requireUnset(failureMode, "failureMode");
      this.failureMode = mode;
      return this;
    }

    /**
     * Sets a deadline per run: a run still going after {@code deadline} is cancelled with
     * {@link DeadlineExceededException}.
     *
     * @param deadline a positive duration
     * @return this builder
     */
    public Builder withDeadline(Duration deadline) {
      requirePositive(deadline, "deadline");
      requireUnset(this.deadline, "deadline");
      this.deadline = deadline;
      return this;
    }

    /**
     * Limits how many tasks carrying {@code tag} run at once (in each run). Nodes calling a
     * backend carry the backend's name as a tag. A {@code map} node's limit applies to its
     * elements. A task waiting to retry keeps its permits.
     *
     * @param tag a resource tag or backend name
     * @param permits at least 1
     * @return this builder
     */
    public Builder withConcurrencyLimit(String tag, int permits) {
      Objects.requireNonNull(tag, "tag");
      if (tag.isBlank()) {
        throw new IllegalArgumentException("tag must not be blank");
      }
      if (permits < 1) {
        throw new IllegalArgumentException("permits of '" + tag + "' must be >= 1, was " + permits);
      }
      Integer previous = limits.putIfAbsent(tag, permits);
      if (previous != null) {
        throw new IllegalStateException(
            "concurrency limit of '" + tag + "' was already set to " + previous);
      }
      return this;
    }

    /**
     * Limits how many tasks run at once in each run, whatever their tags.
     *
     * @param tasks at least 1
     * @return this builder
     */
    public Builder withMaxParallelism(int tasks) {
      if (tasks < 1) {
        throw new IllegalArgumentException("maxParallelism must be >= 1, was " + tasks);
      }
      if (maxParallelism != 0) {
        throw new IllegalStateException("maxParallelism was already set to " + maxParallelism);
      }
      this.maxParallelism = tasks;
      return this;
    }

    /**
     * Limits how many threads one run holds at once. A task holds its thread while it runs,
     * sleeps in a retry's backoff or waits on a backend; a ready task beyond the limit waits,
     * holding no thread (4 bytes for a node, nothing for an element of a map node), until a
     * thread frees up. Unlike {@link #withMaxParallelism} this is not a policy but a bound on
     * memory: a sleeping virtual thread holds about 1 KiB of heap.
     *
     * <p>Default: one thread per 2 KiB of the maximum heap ({@code -Xmx}), at least 4,096 —
     * 1,048,576 threads in a 2 GiB heap, enough for a million tasks in flight at once.
     *
     * @param threads at least 1
     * @return this builder
     */
    public Builder withMaxThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("maxThreads must be >= 1, was " + threads);
      }
      if (maxThreads != 0) {
        throw new IllegalStateException("maxThreads was already set to " + maxThreads);
      }
      this.maxThreads = threads;
      return this;
    }

    /**
     * Keeps node values in {@code store}, content-addressed: before running a node, a run looks
     * its key up and, on a hit, loads the value instead ({@link NodeStatus#CACHED}); on a miss it
     * runs the node and stores the value before the node's dependants start. One mechanism gives
     * both resume after a crash and memoization of unchanged nodes (docs/durability.md).
     *
     * @param store the store, such as {@link ResultStore#directory}
     * @return this builder
     */
    public Builder withResultStore(ResultStore store) {
      Objects.requireNonNull(store, "store");
      requireUnset(this.store, "resultStore");
      this.store = store;
      return this;
    }

    /**
     * Sets the codecs that encode values for the result store (default {@link
     * ValueCodecs#standard()}). A value no codec can encode is computed as usual and not stored;
     * the report says so.
     *
     * @param codecs the codecs
     * @return this builder
     */
    public Builder withValueCodecs(ValueCodecs codecs) {
      Objects.requireNonNull(codecs, "codecs");
      requireUnset(this.codecs, "valueCodecs");
      this.codecs = codecs;
      return this;
    }

    /**
     * Sets whether nodes use the result store unless their DAG or themselves say otherwise
     * (default true). With false, only nodes (or DAGs) that ask with {@code withCache(true)} do.
     *
     * @param cache whether nodes cache by default
     * @return this builder
     */
    public Builder withCacheByDefault(boolean cache) {
      requireUnset(this.cacheByDefault, "cacheByDefault");
      this.cacheByDefault = cache;
      return this;
    }

    /**
     * Sets the retry policy of nodes without one of their own (default {@link RetryPolicy#none()}).
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder withDefaultRetry(RetryPolicy policy) {
      Objects.requireNonNull(policy, "policy");
      requireUnset(retry, "defaultRetry");
      this.retry = policy;
      return this;
    }

    /**
     * Sets the timeout per attempt of nodes without one of their own (default: none).
     *
     * @param timeout a positive duration
     * @return this builder
     */
    public Builder withDefaultTimeout(Duration timeout) {
      requirePositive(timeout, "timeout");
      requireUnset(this.timeout, "defaultTimeout");
      this.timeout = timeout;
      return this;
    }

    /**
     * Adds a listener to the events of every run. May be called several times.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder withListener(ExecutionListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Sets where ready nodes run (default: a new virtual thread each). A test seam, and the way to
     * compare with other schedulers on the same threads. Cancellation interrupts the threads
     * running tasks, so the executor must not share them with unrelated work.
     *
     * @param executor runs each ready node's work
     * @return this builder
     */
    public Builder withExecutor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      requireUnset(threads, "executor");
      this.threads = executor;
      return this;
    }

    /**
     * Sets how the executor waits between retries (default {@link Sleeper#SYSTEM}): the seam for
     * time in tests.
     *
     * @param sleeper the sleeper
     * @return this builder
     */
    public Builder withSleeper(Sleeper sleeper) {
      Objects.requireNonNull(sleeper, "sleeper");
      requireUnset(this.sleeper, "sleeper");
      this.sleeper = sleeper;
      return this;
    }

    /**
     * Sets the clock that dates runs (default: the system clock). Times within a run are measured
     * with {@link System#nanoTime()} from the run's start.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder withClock(InstantSource clock) {
      Objects.requireNonNull(clock, "clock");
      requireUnset(this.clock, "clock");
      this.clock = clock;
      return this;
    }

    /**
     * Sets whether SLF4J's MDC carries {@code dag}, {@code node} and {@code attempt} while a task
     * runs (default true).
     *
     * @param enabled true to fill the MDC
     * @return this builder
     */
    public Builder withMdc(boolean enabled) {
      requireUnset(mdc, "mdc");
      this.mdc = enabled;
      return this;
    }

    /**
     * Sends every attempt of every task to {@code placement} instead of running it on the run's
     * own thread: the seam through which open-cluster runs tasks on other JVMs. Scheduling,
     * retries, timeouts, events and the result store stay with the run.
     *
     * @param placement where attempts run
     * @return this builder
     */
    public Builder withTaskPlacement(TaskPlacement placement) {
      Objects.requireNonNull(placement, "placement");
      requireUnset(this.placement, "taskPlacement");
      this.placement = placement;
      return this;
    }

    /** {@return a new executor with this builder's settings} */
    public DagExecutor build() {
      return new DagExecutor(this);
    }

    private static void requireUnset(Object current, String name) {
      if (current != null) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
    }

    private static void requirePositive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
    }
  }
}
