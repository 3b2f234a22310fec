package dev.open.cluster;

import java.io.Serializable;
import java.util.concurrent.Callable;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;

/**
 * One attempt sent to the member that runs it, through the member's {@code IExecutorService}:
 * only the attempt's identity and its encoded inputs travel, never code. The member looks up its
 * own {@link ClusterExecutor} (in the instance's user context), rebuilds the attempt from its own
 * copy of the DAG and runs it with its own backends.
 */
final class NodeTask implements Callable<NodeTask.Reply>, HazelcastInstanceAware, Serializable {
  private static final long serialVersionUID = 1L;

  final long runId;
  final String dag;
  final String node;
  final int element;
  final int attempt;
  final WireValue[] inputs;
  private transient HazelcastInstance hz;

  NodeTask(long runId, String dag, String node, int element, int attempt, WireValue[] inputs) {
    this.runId = runId;
    this.dag = dag;
    this.node = node;
    this.element = element;
    this.attempt = attempt;
    this.inputs = inputs;
  }

  @Override
  public void setHazelcastInstance(HazelcastInstance hz) {
    this.hz = hz;
  }

  @Override
  public Reply call() {
    Object local = hz == null ? null : hz.getUserContext().get(ClusterExecutor.USER_CONTEXT_KEY);
    if (!(local instanceof ClusterExecutor executor)) {
      return Reply.NOT_SERVING; // closed meanwhile: the coordinator places the attempt again
    }
    return executor.runHere(this);
  }

  @Override
  public String toString() {
    return "NodeTask[run " + runId + ", " + dag + "/" + node
        + (element < 0 ? "" : "[" + element + "]") + " attempt " + attempt + "]";
  }

  /**
   * What a member answers: the value, the task's failure ({@link Failures}), or that it no longer
   * serves nodes (neither), which the coordinator treats as the loss of the member.
   *
   * @param value the encoded value, or null when the task failed
   * @param failure the serialized exception, or null when the task succeeded
   */
  record Reply(WireValue value, byte[] failure) implements Serializable {
    static final Reply NOT_SERVING = new Reply(null, null);

    static Reply of(WireValue value) {
      return new Reply(value, null);
    }

    static Reply failed(Throwable t) {
      return new Reply(null, Failures.encode(t));
    }

    boolean notServing() {
      return value == null && failure == null;
    }
  }
}
