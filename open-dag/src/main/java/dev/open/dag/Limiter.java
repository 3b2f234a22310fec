package dev.open.dag;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Concurrency limits of one run, one counter per limited tag. A job acquires a permit of every tag
 * it carries, all or nothing; a job that cannot waits in the queue of the first tag that blocked
 * it, so no thread is parked on a limit. Releasing permits admits queued jobs in FIFO order per
 * tag; a job blocked by another tag moves to that tag's queue.
 */
final class Limiter {

  /** Something that runs once admitted: a node or one element of a {@code map} node. */
  interface Job {
    /** The limiter slots this job needs one permit of each. */
    int[] slots();

    /** Called (outside the limiter's lock) when the job holds its permits. */
    void admitted();

    /** Called (outside the limiter's lock) when the run was cancelled while the job waited. */
    void rejected();
  }

  enum Admission { ACQUIRED, QUEUED, REJECTED }

  private final int[] capacity;
  private final int[] inUse;
  private final List<ArrayDeque<Job>> queues;
  private final ReentrantLock lock = new ReentrantLock();
  private boolean closed;

  Limiter(int[] capacity) {
    this.capacity = capacity.clone();
    this.inUse = new int[capacity.length];
    this.queues = new ArrayList<>(capacity.length);
    for (int i = 0; i < capacity.length; i++) {
      queues.add(new ArrayDeque<>());
    }
  }

  /** Takes the job's permits now, or queues the job until they are free. */
  Admission acquireOrEnqueue(Job job) {
    lock.lock();
    try {
      if (closed) {
        return Admission.REJECTED;
      }
      int blocked = tryAcquire(job.slots());
      if (blocked < 0) {
        return Admission.ACQUIRED;
      }
      queues.get(blocked).addLast(job);
      return Admission.QUEUED;
    } finally {
      lock.unlock();
    }
  }

  /** Returns the permits of {@code slots} and starts the queued jobs that can now run. */
  void release(int[] slots) {
    List<Job> admitted = null;
    lock.lock();
    try {
      for (int slot : slots) {
        inUse[slot]--;
      }
      if (closed) {
        return;
      }
      for (int slot : slots) {
        ArrayDeque<Job> queue = queues.get(slot);
        while (!queue.isEmpty()) {
          Job head = queue.peekFirst();
          int blocked = tryAcquire(head.slots());
          if (blocked == slot) {
            break;
          }
          queue.pollFirst();
          if (blocked < 0) {
            if (admitted == null) {
              admitted = new ArrayList<>();
            }
            admitted.add(head);
          } else {
            queues.get(blocked).addLast(head);
          }
        }
      }
    } finally {
      lock.unlock();
    }
    if (admitted != null) {
      admitted.forEach(Job::admitted);
    }
  }

  /** Refuses further jobs and rejects every queued one (the run was cancelled). */
  void close() {
    List<Job> rejected = new ArrayList<>();
    lock.lock();
    try {
      closed = true;
      for (ArrayDeque<Job> queue : queues) {
        rejected.addAll(queue);
        queue.clear();
      }
    } finally {
      lock.unlock();
    }
    rejected.forEach(Job::rejected);
  }

  /** Takes one permit of each slot and returns -1, or takes none and returns a full slot. */
  private int tryAcquire(int[] slots) {
    for (int slot : slots) {
      if (inUse[slot] >= capacity[slot]) {
        return slot;
      }
    }
    for (int slot : slots) {
      inUse[slot]++;
    }
    return -1;
  }
}
