package dev.open.cluster;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.config.InvalidConfigurationException;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;

import dev.open.dag.Dag;
import dev.open.dag.DagExecutor;
import dev.open.dag.Execution;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.store.ValueCodecs;

/**
 * Runs registered DAGs across a Hazelcast cluster: every member runs the same application,
 * registers the same DAGs by name and serves their nodes; a run started on any member places each
 * ready node on the member with the most free capacity, and survives the loss of any member.
 *
 * <pre>{@code
 * HazelcastInstance hz = Hazelcast.newHazelcastInstance(config);
 * ClusterExecutor cluster = ClusterExecutor.builder(hz)
 *     .withDag("sweep", () -> Sweep.build(pythonPool))  // every member, same code
 *     .withMaxConcurrentNodes(8)                         // per member
 *     .build();                                          // this member now serves nodes
 * RunReport report = cluster.run("sweep");               // from any member, blocking
 * ClusterRun run = cluster.start("sweep");
 * Optional<ClusterRun> again = cluster.find(run.id());   // from any member, also after failover
 * }</pre>
 *
 * <p>Only node identities, values encoded by the {@link ValueCodecs} and small control messages
 * cross the network: never code. The member that starts a run coordinates it — it schedules, retries,
 * times out and fires events exactly as a {@link DagExecutor} does, with the policies of {@link
 * Builder#withExecutor} — and keeps every node value in the cluster's result store, an {@code
 * IMap} with a backup. If a member running a node dies, the node is placed again elsewhere
 * without using up a retry; if the coordinator dies, another member takes the run over and
 * finishes it, reusing every stored value. docs/cluster.md has the model and its guarantees.
 *
 * <p>Thread-safe. One per Hazelcast instance.
 */
public final class ClusterExecutor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterExecutor.class);
  static final String USER_CONTEXT_KEY = ClusterExecutor.class.getName();
  static final String RUN_IDS = "open.run-ids";
  static final String EXECUTOR_PREFIX = "open.nodes.";
  private static final Duration ORPHAN_SWEEP = Duration.ofSeconds(2);
  /** How much longer than the retention a run's own values live while it is unfinished. */
  static final Duration UNFINISHED_TTL = Duration.ofDays(7);

  private final HazelcastInstance hz;
  private final UUID self;
  private final Map<String, Dag> dags;
  private final Map<String, String> fingerprints;
  private final int capacity;
  private final DagExecutor settings;
  private final ValueCodecs codecs;
  private final int maxRelocations;
  private final Duration retention;
  private final boolean memoize;
  private final Placement placement;
  private final IMap<Long, RunRecord> runs;
  private final IMap<UUID, MemberInfo> members;
  private final ConcurrentMap<Long, Coordinated> coordinated = new ConcurrentHashMap<>();
  /** Orphaned runs seen by the last sweep: any member may take them over at the next one. */
  private final Set<Long> seenOrphans = ConcurrentHashMap.newKeySet();
  private final IMap<String, byte[]> reports;
  // Set by start(), released once closed and no run is coordinated here any more.
  private UUID membershipListener;
  private UUID membersListener;
  private Thread sweeper;
  private boolean listening;
  private volatile boolean closed;

  /** A run this member coordinates. */
  record Coordinated(RunRecord record, Execution execution, CompletableFuture<RunReport> done,
      ConcurrentMap<String, Integer> relocations) {}

  private ClusterExecutor(Builder b) {
    this.hz = b.hz;
    this.self = hz.getCluster().getLocalMember().getUuid();
    this.capacity = b.capacity != 0 ? b.capacity : Runtime.getRuntime().availableProcessors();
    this.settings = b.settings != null ? b.settings : DagExecutor.defaults();
    if (settings.resultStore().isPresent()) {
      throw new IllegalArgumentException("a cluster keeps node values in its own store: build "
          + "the executor given to withExecutor without withResultStore");
    }
    if (settings.taskPlacement().isPresent()) {
      throw new IllegalArgumentException("a cluster places tasks itself: build the executor "
          + "given to withExecutor without withTaskPlacement");
    }
    if (b.codecs != null && settings.valueCodecs().isPresent()) {
      throw new IllegalArgumentException("value codecs were given twice: to withValueCodecs and "
          + "to the executor given to withExecutor");
    }
    this.codecs = b.codecs != null ? b.codecs
        : settings.valueCodecs().orElse(ValueCodecs.standard());
    this.maxRelocations = b.maxRelocations;
    this.retention = b.retention;
    Map<String, Dag> built = new LinkedHashMap<>();
    Map<String, String> prints = new LinkedHashMap<>();
    b.suppliers.forEach((name, supplier) -> {
      Dag dag = Objects.requireNonNull(supplier.get(), "the supplier of DAG '" + name + "'");
      if (!dag.name().equals(name)) {
        throw new IllegalArgumentException("withDag(\"" + name + "\", …) built a DAG named '"
            + dag.name() + "': the names must match");
      }
      built.put(name, dag);
      prints.put(name, Fingerprint.of(dag));
    });
    this.dags = Map.copyOf(built);
    this.fingerprints = Map.copyOf(prints);
    this.memoize = b.memoize;
    this.placement = new Placement(hz, codecs, maxRelocations);
    this.runs = hz.getMap(RunRecord.MAP);
    this.reports = hz.getMap(RunRecord.REPORTS);
    this.members = hz.getMap(MemberInfo.MAP);
  }

  /**
   * Starts serving: claims the instance, configures the executor that runs placed attempts,
   * listens to members and publishes this one. Undoes what it did if a step fails, so that the
   * instance stays free for another try.
   */
  private synchronized void start() {
    if (hz.getUserContext().putIfAbsent(USER_CONTEXT_KEY, this) != null) {
      throw new IllegalStateException("a ClusterExecutor already serves on Hazelcast instance '"
          + hz.getName() + "': build one per instance");
    }
    try {
      // Pool size = capacity: a member runs at most that many nodes at once, whoever sends them.
      String executor = executorName(capacity);
      try {
        hz.getConfig().addExecutorConfig(new ExecutorConfig(executor).setPoolSize(capacity));
      } catch (InvalidConfigurationException e) {
        throw new IllegalStateException("the cluster already has an executor configuration '"
            + executor + "' other than OPEN's (pool size " + capacity + "): leave that name to "
            + "OPEN", e);
      }
      listening = true;
      membershipListener = hz.getCluster().addMembershipListener(new Membership());
      membersListener = members.addEntryListener(new MembersListener(), true);
      for (Map.Entry<UUID, MemberInfo> entry : members.entrySet()) {
        placement.update(entry.getKey(), entry.getValue());
      }
      MemberInfo mine = new MemberInfo(capacity, fingerprints);
      members.set(self, mine);
      placement.update(self, mine);
      sweeper = Thread.ofVirtual().name("open-cluster-orphans").start(this::sweepOrphans);
    } catch (RuntimeException e) {
      closed = true;
      stopListening();
      hz.getUserContext().remove(USER_CONTEXT_KEY, this);
      try {
        members.delete(self);
      } catch (RuntimeException alsoFailed) {
        e.addSuppressed(alsoFailed);
      }
      throw e;
    }
    LOG.info("member {} serves DAGs {} with {} nodes at once", hz.getCluster().getLocalMember(),
        dags.keySet(), capacity);
  }

  /** Removes the listeners, once. */
  private synchronized void stopListening() {
    if (!listening) {
      return;
    }
    listening = false;
    if (sweeper != null) {
      sweeper.interrupt();
    }
    try {
      if (membersListener != null) {
        members.removeEntryListener(membersListener);
      }
      if (membershipListener != null) {
        hz.getCluster().removeMembershipListener(membershipListener);
      }
    } catch (RuntimeException e) {
      LOG.debug("removing listeners from an instance that is going away: {}", e.toString());
    }
  }

  static String executorName(int capacity) {
    return EXECUTOR_PREFIX + capacity;
  }

  /**
   * Returns a builder serving nodes on {@code hazelcast}, a member (not a client) of the cluster.
   *
   * @param hazelcast this JVM's member
   * @return a new builder
   */
  public static Builder builder(HazelcastInstance hazelcast) {
    return new Builder(Objects.requireNonNull(hazelcast, "hazelcast"));
  }

  /**
   * Runs the DAG registered as {@code dag} across the cluster and blocks until it has finished.
   * If the calling thread is interrupted, the run is cancelled, this method waits for it to stop,
   * restores the interrupt flag and returns the report of the cancelled run.
   *
   * @param dag the name of a DAG registered on this member
   * @return the final report
   * @throws IllegalArgumentException if no DAG of that name is registered here
   */
  public RunReport run(String dag) {
    ClusterRun run = start(dag);
    Coordinated local = coordinated.get(run.id());
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return run.await();
        } catch (InterruptedException e) {
          interrupted = true;
          if (local != null) {
            local.execution().cancel();
          }
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Starts a run of the DAG registered as {@code dag}, coordinated by this member, and returns
   * its handle at once.
   *
   * @param dag the name of a DAG registered on this member
   * @return the run
   * @throws IllegalArgumentException if no DAG of that name is registered here
   */
  public ClusterRun start(String dag) {
    requireOpen();
    Dag def = dagNamed(dag);
    long id = hz.getFlakeIdGenerator(RUN_IDS).newId();
    RunRecord record = new RunRecord(id, dag, fingerprints.get(dag),
        memoize ? "" : ClusterStore.runScope(id), self, 0, System.currentTimeMillis(), false);
    runs.set(id, record);
    coordinate(record, def);
    return new ClusterRun(this, id, dag);
  }

  /**
   * Finds a run by its id, from any member: also one started elsewhere, and one whose
   * coordinator died and which another member took over.
   *
   * @param runId a run's id ({@link ClusterRun#id()})
   * @return the run, or empty when the cluster has no such run (never had, or forgot it after
   *     the retention of finished runs)
   */
  public Optional<ClusterRun> find(long runId) {
    requireOpen();
    RunRecord record = runs.get(runId);
    return record == null ? Optional.empty() : Optional.of(new ClusterRun(this, runId, record.dag()));
  }

  /** {@return the names of the DAGs this member serves} */
  public Set<String> dags() {
    return dags.keySet();
  }

  /** {@return how many nodes this member runs at once} */
  public int maxConcurrentNodes() {
    return capacity;
  }

  /**
   * Stops serving: this member takes no more nodes or takeovers, and attempts that arrive are
   * sent back to be placed elsewhere. Runs it coordinates go on, their nodes placed on other
   * members, and it keeps watching the cluster until they end; the Hazelcast instance stays up —
   * shut it down to leave the cluster.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    placement.update(self, null);
    try {
      hz.getUserContext().remove(USER_CONTEXT_KEY, this);
      members.delete(self);
    } catch (RuntimeException e) {
      LOG.debug("closing on an instance that is going away: {}", e.toString());
    }
    if (coordinated.isEmpty()) {
      stopListening();
    }
  }

  @Override
  public String toString() {
    return "ClusterExecutor[" + hz.getCluster().getLocalMember() + ", " + dags.keySet() + ", "
        + capacity + " at once]";
  }

  // ---------------------------------------------------------------------------------------------
  // Coordinating

  private void coordinate(RunRecord record, Dag dag) {
    ConcurrentMap<String, Integer> moved = new ConcurrentHashMap<>();
    // A run's own values are deleted when it ends, or a week plus its retention after their
    // last write if nobody finishes it; memoized ones stay until evicted.
    ClusterStore store = new ClusterStore(hz, record.scope(), retention.plus(UNFINISHED_TTL),
        record.epoch() == 0);
    DagExecutor.Builder b = settings.toBuilder()
        .withResultStore(store)
        .withTaskPlacement(placement.forRun(record.id(), fingerprints.get(dag.name()), moved));
    if (settings.valueCodecs().isEmpty()) {
      b.withValueCodecs(codecs);
    }
    CompletableFuture<RunReport> done = new CompletableFuture<>();
    Execution execution = b.build().start(dag);
    Coordinated run = new Coordinated(record, execution, done, moved);
    coordinated.put(record.id(), run);
    execution.completion().whenComplete((local, error) -> finish(run, local, store));
  }

  private void finish(Coordinated run, RunReport local, ClusterStore store) {
    RunRecord record = run.record();
    Map<String, Integer> moved = run.relocations();
    RunReport report = RunReport.of(local.dag(), record.id(), local.status(),
        Instant.ofEpochMilli(record.startedAtMillis()), local.finishedAt(),
        local.failure().orElse(null), local.nodes(), keptValues(local));
    try {
      record(record, ReportCodec.encode(report, codecs, moved));
    } finally {
      run.done().complete(report);
      coordinated.remove(record.id(), run);
      if (closed && coordinated.isEmpty()) {
        stopListening();
      }
    }
    if (!record.scope().isEmpty()) {
      try {
        store.dropAll();
      } catch (RuntimeException e) {
        LOG.warn("the values of run {} stay until their safety expiry ({}): {}", record.id(),
            retention.plus(UNFINISHED_TTL), e.toString());
      }
    }
  }

  /**
   * Records a finished run's report, then marks its record finished, which is what every other
   * member waits for: each retried for a minute while the cluster cannot take it (a partition
   * migrating after a loss).
   */
  private void record(RunRecord record, byte[] report) {
    Boolean finished = retried("record the report of run " + record.id(), () -> {
      reports.set(record.reportKey(), report, retention.toMillis(), TimeUnit.MILLISECONDS);
      return runs.executeOnKey(record.id(), new RunRecord.Finish(record.epoch()));
    });
    if (Boolean.FALSE.equals(finished)) {
      LOG.warn("run {} of DAG '{}' was taken over by another member before this one finished "
          + "it; the cluster keeps that member's report", record.id(), record.dag());
      retried("drop a superseded report", () -> reports.remove(record.reportKey()));
    } else if (finished != null) {
      retried("set the retention of run " + record.id(),
          () -> runs.setTtl(record.id(), retention.toMillis(), TimeUnit.MILLISECONDS));
    }
  }

  /** Runs {@code action}, again every second for a minute while it fails; null if it never did. */
  private <T> T retried(String what, Supplier<T> action) {
    RuntimeException last = null;
    for (int attempt = 0; attempt < 60 && hz.getLifecycleService().isRunning(); attempt++) {
      try {
        return action.get();
      } catch (RuntimeException e) {
        last = e;
        try {
          Thread.sleep(1000);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    LOG.error("could not {} in the cluster", what, last);
    return null;
  }

  private static Map<String, Object> keptValues(RunReport report) {
    Map<String, Object> values = new HashMap<>();
    Dag dag = report.dag();
    for (Node<?> node : dag.nodes()) {
      if ((node.isRetained() || dag.consumers(node).isEmpty())
          && report.node(node).status().hasValue()) {
        values.put(node.name(), report.result(node));
      }
    }
    return values;
  }

  /** Runs an attempt another member placed here (see {@link NodeTask#call()}). */
  NodeTask.Reply runHere(NodeTask task) {
    Dag dag = dags.get(task.dag);
    if (dag == null) {
      return NodeTask.Reply.failed(new IllegalStateException("member "
          + hz.getCluster().getLocalMember() + " has no DAG named '" + task.dag + "'"));
    }
    MDC.put("run", Long.toString(task.runId));
    try {
      List<Object> inputs = new ArrayList<>(task.inputs.length);
      for (WireValue input : task.inputs) {
        inputs.add(input.decode(codecs));
      }
      Object value = dag.placedTask(task.node, task.element, task.attempt, inputs).runHere();
      return NodeTask.Reply.of(WireValue.encode(codecs, value,
          "the value of node '" + task.node + "'"));
    } catch (Throwable t) {
      return NodeTask.Reply.failed(t);
    } finally {
      MDC.remove("run");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Members and takeovers

  private final class Membership implements MembershipListener {
    @Override
    public void memberAdded(MembershipEvent event) {
      UUID uuid = event.getMember().getUuid();
      Thread.ofVirtual().start(() -> {
        // Only adds: a member that has not published yet does so later (entryAdded).
        MemberInfo info = members.get(uuid);
        if (info != null) {
          placement.update(uuid, info);
        }
      });
    }

    @Override
    public void memberRemoved(MembershipEvent event) {
      UUID uuid = event.getMember().getUuid();
      placement.update(uuid, null);
      Thread.ofVirtual().start(() -> {
        try {
          members.delete(uuid);
          adoptOrphans();
        } catch (RuntimeException e) {
          LOG.debug("after member {} left: {}", uuid, e.toString());
        }
      });
    }
  }

  private final class MembersListener implements EntryAddedListener<UUID, MemberInfo>,
      EntryUpdatedListener<UUID, MemberInfo>, EntryRemovedListener<UUID, MemberInfo> {
    @Override
    public void entryAdded(EntryEvent<UUID, MemberInfo> event) {
      placement.update(event.getKey(), event.getValue());
    }

    @Override
    public void entryUpdated(EntryEvent<UUID, MemberInfo> event) {
      placement.update(event.getKey(), event.getValue());
    }

    @Override
    public void entryRemoved(EntryEvent<UUID, MemberInfo> event) {
      placement.update(event.getKey(), null);
    }
  }

  private void sweepOrphans() {
    while (!closed) {
      try {
        Thread.sleep(ORPHAN_SWEEP);
        adoptOrphans();
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!hz.getLifecycleService().isRunning()) {
          return;
        }
        LOG.debug("orphan sweep: {}", e.toString());
      }
    }
  }

  /**
   * Takes over the runs whose coordinator left the cluster. For each, the preferred member — the
   * oldest one serving the DAG as this one built it — tries first; a run still orphaned at the
   * next sweep may be tried by any member serving it. An entry processor on the run's record
   * decides: exactly one member succeeds.
   */
  private synchronized void adoptOrphans() {
    if (closed) {
      return;
    }
    Set<UUID> alive = new HashSet<>();
    for (Member m : hz.getCluster().getMembers()) {
      alive.add(m.getUuid());
    }
    Set<Long> orphans = new HashSet<>();
    for (RunRecord r : runs.values()) {
      if (r.finished() || alive.contains(r.coordinator())
          || !r.fingerprint().equals(fingerprints.get(r.dag()))) {
        continue; // done, in hands, or a DAG this member did not build the same way
      }
      orphans.add(r.id());
      if (!preferredTaker(r.dag(), r.fingerprint()) && !seenOrphans.contains(r.id())) {
        continue;
      }
      RunRecord mine = runs.executeOnKey(r.id(), new RunRecord.TakeOver(r.epoch(), self));
      if (mine != null) {
        LOG.info("member {} takes over run {} of DAG '{}' from {} (takeover {})",
            hz.getCluster().getLocalMember(), r.id(), r.dag(), r.coordinator(), mine.epoch());
        orphans.remove(r.id());
        coordinate(mine, dags.get(r.dag()));
      }
    }
    seenOrphans.retainAll(orphans);
    seenOrphans.addAll(orphans);
  }

  private boolean preferredTaker(String dag, String print) {
    for (Member m : hz.getCluster().getMembers()) { // oldest first
      MemberInfo info = members.get(m.getUuid());
      if (info != null && print.equals(info.dags().get(dag))) {
        return m.getUuid().equals(self);
      }
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // For ClusterRun

  Coordinated coordinated(long id) {
    return coordinated.get(id);
  }

  IMap<Long, RunRecord> runs() {
    return runs;
  }

  IMap<String, byte[]> reports() {
    return reports;
  }

  ValueCodecs codecs() {
    return codecs;
  }

  /**
   * Whether {@code record}'s run cannot finish: its coordinator left and no member serves its DAG
   * as it was built.
   */
  boolean stranded(RunRecord record) {
    for (Member m : hz.getCluster().getMembers()) {
      if (m.getUuid().equals(record.coordinator())) {
        return false;
      }
    }
    for (MemberInfo info : members.values()) {
      if (record.fingerprint().equals(info.dags().get(record.dag()))) {
        return false;
      }
    }
    return true;
  }

  Dag dagNamed(String name) {
    Dag dag = dags.get(name);
    if (dag == null) {
      throw new IllegalArgumentException("no DAG named '" + name + "' is registered on this "
          + "member; registered: " + dags.keySet());
    }
    return dag;
  }

  /** Returns each member's attempts in flight from this coordinator: for tests. */
  Map<UUID, Integer> inFlight() {
    return placement.inFlight();
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("this ClusterExecutor was closed");
    }
  }

  /**
   * Builds a {@link ClusterExecutor}. Each setting may be given once. Not thread-safe.
   */
  public static final class Builder {
    private final HazelcastInstance hz;
    private final Map<String, Supplier<Dag>> suppliers = new LinkedHashMap<>();
    private int capacity;
    private DagExecutor settings;
    private ValueCodecs codecs;
    private int maxRelocations = 3;
    private boolean relocationsSet;
    private Duration retention = Duration.ofDays(1);
    private boolean retentionSet;
    private boolean memoize;
    private boolean memoizeSet;

    private Builder(HazelcastInstance hz) {
      this.hz = hz;
    }

    /**
     * Registers a DAG under {@code name}. Every member must register the same DAGs, built by the
     * same code: the supplier is called once, at {@link #build()}, and a member places nodes only
     * on members whose DAG of that name has the same shape — node names, backends and edges, and
     * the DAG's version; not the code of Java tasks, which cannot be compared.
     *
     * @param name the DAG's name, which the built DAG must have
     * @param supplier builds the DAG, with this member's own backends
     * @return this builder
     */
    public Builder withDag(String name, Supplier<Dag> supplier) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(supplier, "supplier");
      if (suppliers.putIfAbsent(name, supplier) != null) {
        throw new IllegalStateException("a DAG named '" + name + "' was already registered");
      }
      return this;
    }

    /**
     * Sets how many nodes (or elements of map nodes) this member runs at once, for all runs and
     * coordinators together (default: the number of processors).
     *
     * @param nodes at least 1
     * @return this builder
     */
    public Builder withMaxConcurrentNodes(int nodes) {
      if (nodes < 1) {
        throw new IllegalArgumentException("maxConcurrentNodes must be >= 1, was " + nodes);
      }
      if (capacity != 0) {
        throw new IllegalStateException("maxConcurrentNodes was already set to " + capacity);
      }
      this.capacity = nodes;
      return this;
    }

    /**
     * Sets the policies of the runs this member coordinates: failure mode, retries, timeouts,
     * deadline, concurrency limits, listeners (default {@link DagExecutor#defaults()}). They mean
     * what they mean locally, applied by the coordinating member; docs/cluster.md says which are
     * per run and which per member. The executor must have no result store and no task placement
     * of its own.
     *
     * @param executor an executor holding the policies
     * @return this builder
     */
    public Builder withExecutor(DagExecutor executor) {
      Objects.requireNonNull(executor, "executor");
      if (settings != null) {
        throw new IllegalStateException("the executor was already set");
      }
      this.settings = executor;
      return this;
    }

    /**
     * Sets the codecs that carry values across the cluster and into its store (default {@link
     * ValueCodecs#standard()}). Every member must register the same. A value no codec encodes
     * cannot leave the member that computed it: its attempt fails with a message that says so.
     *
     * @param codecs the codecs
     * @return this builder
     */
    public Builder withValueCodecs(ValueCodecs codecs) {
      Objects.requireNonNull(codecs, "codecs");
      if (this.codecs != null) {
        throw new IllegalStateException("the value codecs were already set");
      }
      this.codecs = codecs;
      return this;
    }

    /**
     * Sets how many times one attempt may be placed again after losing its member before it fails
     * with {@link MemberLostException} (default 3). Relocations use up none of the node's
     * retries.
     *
     * @param relocations at least 0
     * @return this builder
     */
    public Builder withMaxRelocations(int relocations) {
      if (relocations < 0) {
        throw new IllegalArgumentException("maxRelocations must be >= 0, was " + relocations);
      }
      if (relocationsSet) {
        throw new IllegalStateException("maxRelocations was already set to " + maxRelocations);
      }
      relocationsSet = true;
      this.maxRelocations = relocations;
      return this;
    }

    /**
     * Sets how long the cluster remembers a finished run for {@link ClusterExecutor#find}
     * (default one day).
     *
     * @param retention a positive duration
     * @return this builder
     */
    public Builder withRunRetention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException("retention must be positive, was " + retention);
      }
      if (retentionSet) {
        throw new IllegalStateException("the run retention was already set to " + this.retention);
      }
      retentionSet = true;
      this.retention = retention;
      return this;
    }

    /**
     * Sets whether runs reuse the values of earlier runs (default false). Either way a run keeps
     * its node values in the cluster's store, so that a member taking it over reuses them; by
     * default they belong to that run alone and are deleted when it ends. With true, the runs this member starts share one scope, as runs sharing a
     * {@link dev.open.dag.store.ResultStore} do locally: a node whose key (DAG, node, versions,
     * code and inputs) is stored is not run again — so a Java task without inputs that reads the
     * outside world is not either, unless it says {@code withCache(false)}. Memoized values stay
     * until the {@code open.values} map's eviction removes them (docs/cluster.md).
     *
     * @param memoize whether runs reuse earlier runs' values
     * @return this builder
     */
    public Builder withMemoization(boolean memoize) {
      if (memoizeSet) {
        throw new IllegalStateException("memoization was already set to " + this.memoize);
      }
      memoizeSet = true;
      this.memoize = memoize;
      return this;
    }

    /**
     * Builds the executor, and this member starts serving nodes of its DAGs.
     *
     * @return the executor
     * @throws IllegalArgumentException if a supplier built a DAG of another name, or the
     *     executor's settings conflict
     * @throws IllegalStateException if a ClusterExecutor already serves on this instance
     */
    public ClusterExecutor build() {
      if (suppliers.isEmpty()) {
        throw new IllegalStateException("register at least one DAG with withDag");
      }
      ClusterExecutor executor = new ClusterExecutor(this);
      executor.start();
      return executor;
    }
  }
}
