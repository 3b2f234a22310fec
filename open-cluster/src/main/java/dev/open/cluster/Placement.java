package dev.open.cluster;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.MemberLeftException;
import com.hazelcast.spi.exception.TargetDisconnectedException;
import com.hazelcast.spi.exception.TargetNotMemberException;

import dev.open.dag.spi.PlacedTask;
import dev.open.dag.spi.TaskPlacement;
import dev.open.dag.store.ValueCodecs;

/**
 * Places attempts on members: the member with the most free slots among those serving the DAG
 * (ties go to the one given the fewest attempts so far), each member taking at most its capacity
 * of this coordinator's attempts at once; an attempt that finds no free slot waits for one, and
 * its timeout has not started yet. When the member running an attempt leaves the cluster, the
 * attempt is placed again, at most {@code maxRelocations} times, without using up a retry.
 *
 * <p>The view of members comes from {@value MemberInfo#MAP} (what each serves) and from
 * Hazelcast's membership (who is there); {@link ClusterExecutor} feeds both in. One lock guards
 * the view and the slot counts. A freed slot wakes one waiting attempt, which passes the wake-up
 * on if it cannot use that slot (another DAG); a change of members wakes them all.
 */
final class Placement {
  private static final Logger LOG = LoggerFactory.getLogger(Placement.class);

  private final HazelcastInstance hz;
  private final ValueCodecs codecs;
  private final int maxRelocations;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** Guarded by lock. */
  private final Map<UUID, Slot> slots = new LinkedHashMap<>();

  /**
   * A member as a place for attempts. Mutable fields guarded by the placement's lock. A member
   * that left, or stopped serving, while attempts were in flight there stays until they are back
   * ({@code gone}), so that its count survives a return.
   */
  static final class Slot {
    final Member member;
    MemberInfo info;
    int inFlight;
    long placed;
    boolean gone;

    Slot(Member member, MemberInfo info) {
      this.member = member;
      this.info = info;
    }

    String executor() {
      return ClusterExecutor.executorName(info.capacity());
    }
  }

  Placement(HazelcastInstance hz, ValueCodecs codecs, int maxRelocations) {
    this.hz = hz;
    this.codecs = codecs;
    this.maxRelocations = maxRelocations;
  }

  /** The member {@code uuid} serves as {@code info} says, or left when {@code info} is null. */
  void update(UUID uuid, MemberInfo info) {
    Member member = null;
    if (info != null) {
      for (Member m : hz.getCluster().getMembers()) {
        if (m.getUuid().equals(uuid)) {
          member = m;
        }
      }
      if (member == null) {
        info = null; // not (or no longer) a member: its entry is stale
      }
    }
    lock.lock();
    try {
      Slot slot = slots.get(uuid);
      if (info == null) {
        if (slot != null && slot.inFlight == 0) {
          slots.remove(uuid);
        } else if (slot != null) {
          slot.gone = true;
        }
      } else if (slot == null) {
        slots.put(uuid, new Slot(member, info));
      } else {
        slot.info = info;
        slot.gone = false;
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Returns the members in the view and their attempts in flight, for tests and logs. */
  Map<UUID, Integer> inFlight() {
    lock.lock();
    try {
      Map<UUID, Integer> view = new LinkedHashMap<>();
      slots.forEach((uuid, slot) -> view.put(uuid, slot.inFlight));
      return view;
    } finally {
      lock.unlock();
    }
  }

  /** The placement of one run's attempts, counting its relocations per node in {@code moved}. */
  TaskPlacement forRun(long runId, String fingerprint, ConcurrentMap<String, Integer> moved) {
    return task -> place(runId, fingerprint, task, moved);
  }

  private Object place(long runId, String fingerprint, PlacedTask task,
      ConcurrentMap<String, Integer> moved) throws Exception {
    List<Object> values = task.inputs();
    WireValue[] inputs = new WireValue[values.size()];
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = WireValue.encode(codecs, values.get(i), (task.element() >= 0 ? "the element "
          : "input " + i + " ") + "of node '" + task.node() + "'");
    }
    NodeTask call = new NodeTask(runId, task.dag(), task.node(), task.element(), task.attempt(),
        inputs);
    String label = task.element() < 0 ? task.node() : task.node() + "[" + task.element() + "]";
    for (int relocations = 0; ; ) {
      Slot slot = acquire(task.dag(), fingerprint);
      NodeTask.Reply reply = null;
      Throwable lost = null;
      try {
        task.started();
        Future<NodeTask.Reply> future =
            hz.getExecutorService(slot.executor()).submitToMember(call, slot.member);
        try {
          // Hazelcast's own get() parks again when interrupted: wait on a future that does not.
          reply = interruptible(future).get();
        } catch (InterruptedException e) {
          // A timeout or a cancelled run: stop the task where it runs. Hazelcast's cancel waits
          // for the member's answer, so it is sent from a thread of its own.
          Thread.ofVirtual().start(() -> future.cancel(true));
          throw e;
        }
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (!isMemberLoss(cause)) {
          throw new IllegalStateException("member " + slot.member.getAddress() + " could not run "
              + call + ": " + cause, cause);
        }
        lost = cause;
      } finally {
        release(slot);
      }
      if (reply != null && reply.notServing()) {
        lost = new IllegalStateException("member " + slot.member.getAddress()
            + " stopped serving nodes");
      }
      if (lost != null) {
        // Hazelcast may say so before its membership does: stop choosing the member now.
        forget(slot);
        if (++relocations > maxRelocations) {
          // The cause as a stand-in: Hazelcast's exceptions hold types that other members'
          // reports do not read back (Failures), and the report should keep this exception.
          throw new MemberLostException(label + " lost its member " + relocations + " times "
              + "(at most " + maxRelocations + " relocations per attempt), the last "
              + slot.member.getAddress(), RemoteTaskException.of(lost));
        }
        moved.merge(label, 1, Integer::sum);
        LOG.warn("member {} left while running {} of run {}; placing it again ({} of at most {})",
            slot.member.getAddress(), label, runId, relocations, maxRelocations);
        continue;
      }
      if (reply.failure() != null) {
        Throwable failure = Failures.decode(reply.failure());
        if (failure instanceof Exception ex) {
          throw ex;
        }
        throw (Error) failure;
      }
      return reply.value().decode(codecs);
    }
  }

  /** A future completed with {@code future}'s outcome whose {@code get} answers interrupts. */
  @SuppressWarnings("unchecked")
  private static <T> CompletableFuture<T> interruptible(Future<T> future) {
    CompletableFuture<T> done = new CompletableFuture<>();
    if (future instanceof CompletionStage<?> stage) { // what Hazelcast 5 returns
      ((CompletionStage<T>) stage).whenComplete((value, error) -> {
        if (error == null) {
          done.complete(value);
        } else {
          done.completeExceptionally(error instanceof CompletionException && error.getCause() != null
              ? error.getCause() : error);
        }
      });
    } else {
      Thread.ofVirtual().start(() -> {
        try {
          done.complete(future.get());
        } catch (ExecutionException e) {
          done.completeExceptionally(e instanceof MemberLeftException ? e : e.getCause());
        } catch (InterruptedException | RuntimeException e) {
          done.completeExceptionally(e);
        }
      });
    }
    return done;
  }

  private static boolean isMemberLoss(Throwable t) {
    for (int depth = 0; t != null && depth < 8; t = t.getCause(), depth++) {
      if (t instanceof MemberLeftException || t instanceof TargetNotMemberException
          || t instanceof TargetDisconnectedException
          || t instanceof HazelcastInstanceNotActiveException) {
        return true;
      }
    }
    return false;
  }

  private Slot acquire(String dag, String fingerprint) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (true) {
        Slot best = null;
        boolean served = false;
        for (Slot slot : slots.values()) {
          if (slot.gone || !fingerprint.equals(slot.info.dags().get(dag))) {
            continue;
          }
          served = true;
          int free = slot.info.capacity() - slot.inFlight;
          if (free > 0 && (best == null || free > best.info.capacity() - best.inFlight
              || free == best.info.capacity() - best.inFlight && slot.placed < best.placed)) {
            best = slot;
          }
        }
        if (best != null) {
          best.inFlight++;
          best.placed++;
          return best;
        }
        if (!served) {
          throw new IllegalStateException("no member of the cluster serves DAG '" + dag + "' "
              + "as this member built it (fingerprint " + fingerprint + "): members "
              + describe());
        }
        if (anyFree()) {
          changed.signal(); // woken for a slot this attempt cannot use: pass the wake-up on
        }
        changed.await();
      }
    } finally {
      lock.unlock();
    }
  }

  private void release(Slot slot) {
    lock.lock();
    try {
      if (--slot.inFlight == 0 && slot.gone) {
        slots.remove(slot.member.getUuid(), slot);
      }
      changed.signal(); // one slot freed: one waiter (waking them all cost most of the CPU)
    } finally {
      lock.unlock();
    }
  }

  /** The slot's member left or stopped serving: no attempt goes there any more. */
  private void forget(Slot slot) {
    lock.lock();
    try {
      slot.gone = true;
      if (slot.inFlight == 0) {
        slots.remove(slot.member.getUuid(), slot);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Whether some member has a free slot; under the lock. */
  private boolean anyFree() {
    for (Slot slot : slots.values()) {
      if (!slot.gone && slot.inFlight < slot.info.capacity()) {
        return true;
      }
    }
    return false;
  }

  private String describe() {
    List<String> parts = new ArrayList<>();
    slots.forEach((uuid, slot) -> parts.add(slot.member.getAddress() + " " + slot.info.dags()));
    return parts.toString();
  }
}
